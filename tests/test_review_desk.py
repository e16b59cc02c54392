"""The organisers' review desk in a real headless Chromium: a one-time link from a chat DM,
a session for a working day, the chat's moves and notifications, and the refusals."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatbot.base.clock import FakeClock
from commands import basics, members
from commands import casestudies as cs
from tests.browser_helpers import DESKTOP, PHONE, screenshot, serious_violations, serve
from tests.harness import ConsoleChat, open_chat
from tests.test_casestudies import outbox_texts, study, submit_study

MODULES = [basics.module, members.module, cs.module]
WEB = "[web]\nenabled = true\nport = 0\npublic_pages = true\n"
LINK = re.compile(r"https?://\S+(/desk/signin/[A-Za-z0-9_-]+)")


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    """A chat where bob has submitted case study #1."""
    chat = await open_chat(sqlite_url, clock, extra_config=WEB, modules=MODULES)
    try:
        assert "#1" in await submit_study(chat, "bob")
        yield chat
    finally:
        await chat.bot.close()


async def desk_link(chat: ConsoleChat, who: str) -> str:
    """``!review web`` typed in #general by ``who``: the path of the link in the DM."""
    said = await chat.say("!review web", as_=who, room="#general")
    found = LINK.search(said)
    assert found is not None, said
    return found.group(1)


async def sign_in(browser: Any, base: str, path: str, **options: Any) -> Any:
    """A new browser context signed in through ``path``; returns its page (on /desk)."""
    context = await browser.new_context(locale="en-GB", **options)
    page = await context.new_page()
    await page.goto(base + path)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{base}/desk", await page.inner_text("main")
    return page


async def test_organiser_accepts_from_the_chat_link_and_the_contributor_hears(
    chat: ConsoleChat, browser: Any
) -> None:
    path = await desk_link(chat, "ana")
    async with serve(chat.bot) as base:
        page = await sign_in(browser, base, path)
        assert "Signed in as ana" in str(await page.text_content("#desk-bar"))
        async with page.expect_navigation():
            await page.click("text=#1Lib1Ref at Lakeside")
        text = await page.inner_text("main")
        assert "example@lakeside.example" in text  # organisers see the private contact
        async with page.expect_navigation():
            await page.click("#move-accept")
        assert page.url == f"{base}/desk/1?done=accept"
        assert "Accepted. The contributor is told in chat." in str(await page.text_content("#done"))
        assert "accepted" in str(await page.text_content("#state"))
        history = await page.locator("#history li").all_text_contents()
        assert [h.split(" · ")[:2] for h in history] == [
            ["submitted", "bob"],
            ["taken for review", "ana"],
            ["accepted", "ana"],
        ]  # members by name, not by account id
    assert (await study(chat, 1)).state == "accepted"
    room, member, told = (await outbox_texts(chat))[-1]
    assert member == "console:bob" and room is None
    assert told == "Good news: your case study #1 (#1Lib1Ref at Lakeside) is accepted."


async def test_publishing_on_the_desk_shows_on_the_public_page_at_once(
    chat: ConsoleChat, browser: Any
) -> None:
    async with serve(chat.bot) as base:
        visitor = await (await browser.new_context()).new_page()
        await visitor.goto(f"{base}/casestudies")
        assert await visitor.locator(".cards .card").count() == 0  # rendered, now cached
        page = await sign_in(browser, base, await desk_link(chat, "ana"))
        await page.goto(f"{base}/desk/1")
        async with page.expect_navigation():
            await page.click("#move-accept")
        async with page.expect_navigation():
            await page.click("#move-publish")
        assert "Published" in str(await page.text_content("#done"))
        await visitor.goto(f"{base}/casestudies")
        assert await visitor.locator(".cards .card h2").all_text_contents() == [
            "#1Lib1Ref at Lakeside"
        ]
    _room, member, told = (await outbox_texts(chat))[-1]
    assert member == "console:bob" and "is published" in told


async def test_asking_for_changes_needs_a_reason_and_tells_the_contributor(
    chat: ConsoleChat, browser: Any
) -> None:
    async with serve(chat.bot) as base:
        page = await sign_in(browser, base, await desk_link(chat, "olga"))
        await page.goto(f"{base}/desk/1")
        await page.fill("#reason", "Please add the number of participants.")
        async with page.expect_navigation():
            await page.click("#move-changes")
        assert "Sent back for changes" in str(await page.text_content("#done"))
        async with page.expect_navigation():
            await page.get_by_role("link", name="Queue").click()
        assert await page.locator("tr[data-study='1']").count() == 0  # rejected: not waiting
    assert (await study(chat, 1)).state == "rejected"
    _room, member, told = (await outbox_texts(chat))[-1]
    assert member == "console:bob"
    assert "The reviewer says: Please add the number of participants." in told


async def test_expired_or_reused_links_are_refused(
    chat: ConsoleChat, browser: Any, clock: FakeClock
) -> None:
    async with serve(chat.bot) as base:
        path = await desk_link(chat, "ana")
        await sign_in(browser, base, path)
        other = await (await browser.new_context()).new_page()
        response = await other.goto(base + path)
        assert response.status == 403
        assert "expired or was used" in await other.inner_text("main")
        replay = await other.request.post(base + path)  # the form's post, replayed
        assert replay.status == 403
        late = await desk_link(chat, "ana")
        clock.advance(timedelta(minutes=16))
        response = await other.goto(base + late)
        assert response.status == 403
        assert (await other.request.post(base + late)).status == 403
        response = await other.goto(f"{base}/desk")
        assert response.status == 401 and "Sign in to the review desk" in await other.content()


async def test_non_organisers_cannot_reach_the_desk(chat: ConsoleChat, browser: Any) -> None:
    """No link for a member; no desk without a session; an organiser whose rights are
    taken away is refused on the next request."""
    said = await chat.say("!review web", as_="bob", room="#general")
    assert "organisers" in said and "/desk/" not in said
    async with serve(chat.bot) as base:
        context = await browser.new_context()
        await context.add_cookies([{"name": "wmlib_desk", "value": "forged", "url": base}])
        page = await context.new_page()
        for path in ("/desk", "/desk/1"):
            response = await page.goto(base + path)
            assert response.status == 401
        assert (await page.request.post(f"{base}/desk/1", form={"move": "accept"})).status == 401
        olga = await sign_in(browser, base, await desk_link(chat, "olga"))
        chat.adapter.settings.organisers.remove("olga")
        response = await olga.goto(f"{base}/desk/1")
        assert response.status == 403 and "Only organisers" in await olga.inner_text("main")
    assert (await study(chat, 1)).state == "submitted"


async def test_forms_without_the_csrf_token_are_refused(chat: ConsoleChat, browser: Any) -> None:
    async with serve(chat.bot) as base:
        page = await sign_in(browser, base, await desk_link(chat, "ana"))
        good = await page.get_attribute("input[name=csrf]", "value")
        for form, headers in (
            ({"move": "accept"}, {}),
            ({"move": "accept", "csrf": "0" * 64}, {}),
            ({"move": "accept", "csrf": good}, {"Origin": "https://evil.example"}),
        ):
            response = await page.request.post(f"{base}/desk/1", form=form, headers=headers)
            assert response.status == 403, form
        signout = await page.request.post(f"{base}/desk/signout", form={})
        assert signout.status == 403
        assert (await study(chat, 1)).state == "submitted"
        await page.goto(f"{base}/desk")  # still signed in


async def test_session_ends_on_sign_out_or_after_a_working_day(
    chat: ConsoleChat, browser: Any, clock: FakeClock
) -> None:
    async with serve(chat.bot) as base:
        page = await sign_in(browser, base, await desk_link(chat, "ana"))
        async with page.expect_navigation():
            await page.get_by_role("button", name="Sign out").click()
        assert "Your review desk session has ended." in await page.inner_text("main")
        assert (await page.goto(f"{base}/desk")).status == 401
        page = await sign_in(browser, base, await desk_link(chat, "ana"))
        clock.advance(timedelta(hours=7, minutes=59))
        assert (await page.goto(f"{base}/desk")).status == 200
        clock.advance(timedelta(minutes=2))
        assert (await page.goto(f"{base}/desk")).status == 401


@pytest.mark.parametrize(("size", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_desk_pages_are_accessible_with_screenshots(
    chat: ConsoleChat, browser: Any, axe_script: Path, size: str, options: dict[str, Any]
) -> None:
    async with serve(chat.bot) as base:
        path = await desk_link(chat, "ana")
        context = await browser.new_context(locale="en-GB", bypass_csp=True, **options)
        page = await context.new_page()
        await page.goto(base + path)
        await screenshot(page, f"desk-signin-{size}")
        assert await serious_violations(page, axe_script) == []
        async with page.expect_navigation():
            await page.get_by_role("button", name="Sign in").click()
        await screenshot(page, f"desk-queue-{size}")
        assert await serious_violations(page, axe_script) == []
        await page.goto(f"{base}/desk/1")
        await screenshot(page, f"desk-study-{size}")
        assert await serious_violations(page, axe_script) == []
        await page.goto(base + path)  # used: the refusal page
        assert await serious_violations(page, axe_script) == []


async def test_desk_messages_in_the_pages_language(chat: ConsoleChat) -> None:
    """A Spanish browser: the desk's own messages (refusals, what a move did, why a move
    was refused) and the submission's states, field names, choices and history are in
    Spanish, like the page around them; the stored codes stay codes in the database."""
    import aiohttp

    spanish = {"Accept-Language": "es-ES,es;q=0.9"}
    path = await desk_link(chat, "ana")
    async with (
        serve(chat.bot) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=spanish) as web,
    ):
        async with web.get(f"{base}/desk") as response:
            assert response.status == 401
            page = await response.text()
        assert "Inicia sesión en la mesa de revisión" in page
        assert "escribe !review web en el chat" in page
        async with web.post(base + path) as response:  # follows the redirect to /desk
            queue = await response.text()
        assert "<td>enviado</td>" in queue and "<td>submitted</td>" not in queue
        async with web.get(f"{base}/desk/1") as response:
            page = await response.text()
        assert "<strong>enviado</strong>" in page
        assert "<dt>Tipo de biblioteca</dt>" in page and '<dd class="prose">pública</dd>' in page
        assert "Kenia (KE)" in page and "referencias añadidas 412" in page
        assert "enviado · bob" in page  # the history: what happened, by whom (by name)
        assert "console:bob" not in page
        assert ">inglés; suajili</dd>" in page  # languages by name, in the page's language
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "move": "changes", "reason": "x"}
        async with web.post(f"{base}/desk/1", data=form) as response:
            assert response.status == 409
            page = await response.text()
        assert "Di qué hay que cambiar, para que quien lo envió pueda corregirlo." in page
        form["move"] = "accept"
        async with web.post(f"{base}/desk/1", data=form) as response:
            page = await response.text()
        assert "Aceptado. Se le avisa a quien lo envió en el chat." in page
        assert "<strong>aceptado</strong>" in page
        assert "tomado para revisión · ana" in page and "aceptado · ana" in page
        form["move"] = "claim"
        async with web.post(f"{base}/desk/1", data=form) as response:
            assert response.status == 409
            page = await response.text()
        assert "Eso no es posible ahora: el estudio de caso está aceptado." in page
    assert (await study(chat, 1)).state == "accepted"
