"""The public meetings page, in a real headless Chromium: each visitor sees the times in
their own zone (and UTC plus the organiser's zone without JavaScript), in their language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatbot.base.clock import FakeClock
from commands import basics, members
from commands import meetings as meetings_module
from tests.browser_helpers import DESKTOP, PHONE, screenshot, serious_violations, serve
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, meetings_module.module]
WEB = "[web]\nenabled = true\nport = 0\npublic_pages = true\n"


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    """A chat with meetings: a London series on Fridays 15:00 (UTC in December), a single
    meeting with a link, and a past one with minutes."""
    chat = await open_chat(sqlite_url, clock, extra_config=WEB, modules=MODULES)
    try:
        await chat.say("!tz set Europe/London", as_="ana")
        await chat.say('!meeting add "Past call" 2026-11-26 10:00 --duration 1h', as_="ana")
        await chat.say("!meeting confirm 1", as_="ana")
        await chat.say("!meeting minutes 1 https://meta.wikimedia.org/wiki/Minutes/1", as_="ana")
        clock.advance(timedelta(days=2))  # now 2026-11-27 12:00 UTC: #1 is over
        await chat.say(
            '!meeting add "Open meeting" 2026-12-04 15:00 --every 2 weeks '
            "--link https://meet.example.org/open",
            as_="ana",
        )
        await chat.say("!meeting confirm 2", as_="ana")
        await chat.say('!meeting add "APAC call" 2026-12-10 09:00 Asia/Manila', as_="ana")
        await chat.say("!meeting confirm 3", as_="ana")
        yield chat
    finally:
        await chat.bot.close()


async def _shown(browser: Any, base: str, zone: str, **options: Any) -> tuple[str, str, Any]:
    """The text of meeting #2's first time and of the zone note, as a visitor in ``zone``."""
    context = await browser.new_context(timezone_id=zone, locale="en-GB", **options)
    page = await context.new_page()
    await page.goto(f"{base}/meetings")
    time = await page.text_content("#meeting-2 .when time")
    note = await page.text_content("#zone-note")
    assert time is not None and note is not None
    return time, " ".join(note.split()), page


async def test_each_visitor_sees_the_meeting_at_their_own_time(
    chat: ConsoleChat, browser: Any
) -> None:
    """15:00 London on 4 December is 12:00 in São Paulo and 20:30 in Kolkata; the organiser's
    time is shown beside it for both."""
    async with serve(chat.bot) as base:
        sao, sao_note, page = await _shown(browser, base, "America/Sao_Paulo")
        assert "12:00" in sao and "4 Dec 2026" in sao
        assert "Sao Paulo" in sao_note
        organiser = await page.text_content("#meeting-2 .when .meta")
        assert organiser is not None and "15:00 (London)" in organiser
        kolkata, kolkata_note, _page = await _shown(browser, base, "Asia/Kolkata")
        assert "20:30" in kolkata and "4 Dec 2026" in kolkata
        assert "Kolkata" in kolkata_note or "Calcutta" in kolkata_note


async def test_without_javascript_times_are_utc_and_the_organisers(
    chat: ConsoleChat, browser: Any
) -> None:
    async with serve(chat.bot) as base:
        shown, note, page = await _shown(browser, base, "Asia/Kolkata", java_script_enabled=False)
        assert shown == "Fri 4 Dec 2026, 15:00 UTC"
        assert "Times are shown in UTC and in the organiser's time zone." in note
        text = await page.inner_text("main")
        assert "Thu 10 Dec 2026, 01:00 UTC" in text and "09:00 (Manila)" in text


async def test_links_order_and_past_meetings_with_minutes(chat: ConsoleChat, browser: Any) -> None:
    """Upcoming meetings soonest first with join and calendar links; the past one links its
    minutes; the .ics behind "Add to calendar" is the meeting's."""
    async with serve(chat.bot) as base:
        context = await browser.new_context(timezone_id="UTC")
        page = await context.new_page()
        await page.goto(f"{base}/meetings")
        titles = await page.locator("#upcoming + .cards h3").all_text_contents()
        assert titles == ["Open meeting", "APAC call"]
        join = page.locator("#meeting-2 a", has_text="Join")
        assert await join.get_attribute("href") == "https://meet.example.org/open"
        add = page.locator("#meeting-2 a", has_text="Add to calendar")
        response = await page.request.get(base + str(await add.get_attribute("href")))
        assert response.ok and "SUMMARY:Open meeting" in await response.text()
        minutes = page.locator("#meeting-1 a", has_text="Minutes")
        assert await minutes.get_attribute("href") == "https://meta.wikimedia.org/wiki/Minutes/1"
        assert await page.locator("#meeting-1").count() == 1  # listed once, under Past


async def test_language_from_the_browser_and_switched(chat: ConsoleChat, browser: Any) -> None:
    """Accept-Language French gives French dates; choosing Português sticks (cookie)."""
    async with serve(chat.bot) as base:
        context = await browser.new_context(
            timezone_id="Europe/Paris", locale="fr-FR", java_script_enabled=False
        )
        page = await context.new_page()
        await page.goto(f"{base}/meetings")
        assert await page.get_attribute("html", "lang") == "fr"
        assert "déc." in str(await page.text_content("#meeting-2 .when time"))
        async with page.expect_navigation():
            await page.click("nav.langs a[hreflang=pt]")
        assert await page.get_attribute("html", "lang") == "pt"
        await page.goto(f"{base}/meetings")
        assert await page.get_attribute("html", "lang") == "pt"
        assert "dez." in str(await page.text_content("#meeting-2 .when time"))


@pytest.mark.parametrize(("size", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_meetings_page_is_accessible_with_screenshots(
    chat: ConsoleChat, browser: Any, axe_script: Path, size: str, options: dict[str, Any]
) -> None:
    async with serve(chat.bot) as base:
        context = await browser.new_context(
            timezone_id="America/Sao_Paulo", locale="en-GB", bypass_csp=True, **options
        )
        page = await context.new_page()
        await page.goto(f"{base}/meetings")
        await screenshot(page, f"meetings-{size}")
        assert await serious_violations(page, axe_script) == []


async def test_hostile_meeting_title_and_link_render_inert(chat: ConsoleChat, browser: Any) -> None:
    await chat.say(
        '!meeting add "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>" '
        '2026-12-20 10:00 --link https://x.example/"><img/src=x/onerror=window.pwned=3>',
        as_="ana",
    )
    said = await chat.say("!meeting confirm 4", as_="ana")
    assert "saved" in said
    async with serve(chat.bot) as base:
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{base}/meetings")
        assert await page.evaluate("window.pwned") is None
        assert await page.locator("img").count() == 0
        assert await page.locator("script:not([src])").count() == 0
        title = await page.text_content("#meeting-4 h3")
        assert title == "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"
        join = await page.locator("#meeting-4 a", has_text="Join").get_attribute("href")
        assert join == 'https://x.example/"><img/src=x/onerror=window.pwned=3>'
