"""Meeting posts on the console (issue 7): one person reads it, so a room post is in the zone
of whichever member they are at the moment."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatbot.base.clock import FakeClock
from tests.harness import ConsoleChat
from tests.test_meetings import _open, work


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await _open(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def test_room_post_shows_the_reading_members_zone(chat: ConsoleChat) -> None:
    """Confirmed in London, the post reads in Manila for rosa and in UTC for a zoneless bob."""
    await chat.say("!tz set Manila", as_="rosa")
    await chat.say("!tz set Europe/London", as_="ana")
    await chat.say('!meeting add "APAC call" 2026-12-01 01:00', room="#general")
    assert "is saved" in await chat.say("!meeting confirm 1")

    await chat.say("/as rosa")
    posted = await work(chat)
    assert posted[0] == "Meeting #1: APAC call — Tue 1 Dec, 09:00 (Manila) (1 h)"

    await chat.say("!meeting edit 1 title APAC open call", as_="ana")
    await chat.say("!meeting edit 1 when 2026-12-01 02:00")
    await chat.say("/as bob")
    moved = await work(chat)
    assert moved[0] == "Moved: Meeting #1: APAC open call — Tue 1 Dec, 02:00 (UTC) (1 h)"
