"""The page kit's pieces without a browser: language negotiation, the page cache, CSRF
tokens, and the chat side of the web pages (``!meeting minutes``, ``!review web``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatbot.base.clock import FakeClock
from chatbot.web.pages import PageCache, negotiate
from chatbot.web.security import csrf_ok, csrf_token, new_token, token_hash
from commands import basics, meetings, members
from commands import casestudies as cs
from tests.harness import open_chat


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("pt-BR", "pt"),
        ("ja,de;q=0.5", "de"),
        ("xx-YY, zz", "en"),
        ("es;q=0.2, id;q=0.9", "id"),
        ("de;q=0", "en"),
        ("en;q=nonsense, fr", "fr"),
    ],
)
def test_accept_language_picks_a_page_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


async def test_page_cache_serves_stale_while_one_refresh_runs(clock: FakeClock) -> None:
    """Fresh for the TTL; then the old body once more while a single refresh runs;
    concurrent first requests share one rendering; the size is bounded."""
    import asyncio

    cache = PageCache(clock.monotonic, ttl=10, size=2)
    made: list[str] = []
    gate = asyncio.Event()

    async def make() -> bytes:
        made.append("x")
        await gate.wait()
        return f"v{len(made)}".encode()

    first = [asyncio.create_task(cache.fetch(("/a",), make)) for _ in range(5)]
    await asyncio.sleep(0)  # let them all ask (a scheduling point, not a timed wait)
    gate.set()
    assert {await t for t in first} == {b"v1"} and len(made) == 1
    clock.advance(timedelta(seconds=12.5))  # the TTL, and up to a quarter more
    gate.clear()
    assert await cache.fetch(("/a",), make) == b"v1"  # stale, refresh started
    assert await cache.fetch(("/a",), make) == b"v1"  # no second refresh
    gate.set()
    await cache.settled()
    assert cache.get(("/a",)) == b"v2" and len(made) == 2
    cache.put(("/b",), b"B")
    cache.put(("/c",), b"C")
    assert cache.get(("/a",)) is None and cache.get(("/c",)) == b"C"


def test_tokens_are_stored_hashed_and_csrf_is_bound_to_the_session() -> None:
    one, two = new_token(), new_token()
    assert one != two and len(one) >= 43
    assert token_hash(one) != one and len(token_hash(one)) == 64
    assert csrf_ok(one, csrf_token(one))
    assert not csrf_ok(two, csrf_token(one))
    assert not csrf_ok(one, "")


async def test_minutes_link_must_be_a_web_address(sqlite_url: str, clock: FakeClock) -> None:
    chat = await open_chat(
        sqlite_url, clock, modules=[basics.module, members.module, meetings.module]
    )
    try:
        await chat.say('!meeting add "Call" 2026-12-04 15:00 UTC', as_="ana")
        await chat.say("!meeting confirm 1", as_="ana")
        said = await chat.say("!meeting minutes 1 javascript:alert(1)", as_="ana")
        assert "must be a web address starting with https://" in said
        said = await chat.say("!meeting minutes 1 https://example.org/m", as_="rosa")
        assert "organisers" in said
        said = await chat.say("!meeting minutes 1 none", as_="ana")
        assert "has no minutes link now" in said
    finally:
        await chat.bot.close()


async def test_review_web_says_when_the_pages_are_off(sqlite_url: str, clock: FakeClock) -> None:
    chat = await open_chat(sqlite_url, clock, modules=[basics.module, members.module, cs.module])
    try:
        said = await chat.say("!review web", as_="ana")
        assert "The review desk is not served here" in said and "public_pages = true" in said
    finally:
        await chat.bot.close()


async def test_a_sign_in_link_opens_one_session_even_when_raced(
    db_url: str, clock: FakeClock
) -> None:
    """Two uses of one link at the same moment (SQLite and PostgreSQL): one session."""
    import asyncio

    from chatbot.messages.events import Member, Room
    from commands.casestudies import desk_store

    chat = await open_chat(db_url, clock, modules=[basics.module, members.module, cs.module])
    try:
        member = Member("console:ana", "console", "ana")
        room = Room("console:#general", "console", "#general")
        token = await desk_store.new_link(chat.bot.db, member, room, clock.now())
        now = clock.now()
        results = await asyncio.gather(
            *(desk_store.use_link(chat.bot.db, token, now) for _ in range(4))
        )
        opened = [r for r in results if r is not None]
        assert len(opened) == 1
        secret, row = opened[0]
        assert row.member_id == "console:ana" and secret != token
        found = await desk_store.open_session(chat.bot.db, secret, now)
        assert found is not None and found.token_hash == token_hash(secret)
        async with chat.bot.db.sessions() as session:
            stored = await session.get(desk_store.DeskLinkRow, token_hash(token))
        assert stored is not None and token not in (stored.token_hash, stored.member_id)
    finally:
        await chat.bot.close()
