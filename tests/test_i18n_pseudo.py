"""The pseudo-locale over a member's walk through the core's commands: every word the bot
says must come from a catalog message, so once the ``[!! … !!]`` that wrap each message are
taken out, no word is left but data (what the member typed back to them, their stored data,
the group's own "about" text from the config, and command names, which stay English)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from chatbot.base.clock import FakeClock
from chatbot.base.i18n import PSEUDO
from chatbot.messages.localise import has_words
from tests.harness import ConsoleChat, open_chat

_SEGMENT = re.compile(r"\[!! (?:(?!\[!! |!!\]).)*? ?!!\]", re.S)


def unwrapped(text: str) -> str:
    """``text`` without its pseudo-translated segments (innermost first: messages nest)."""
    while True:
        shorter = _SEGMENT.sub("", text)
        if shorter == text:
            return text
        text = shorter


@pytest.fixture
async def pseudo(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(sqlite_url, clock)
    # members cannot pick the pseudo-locale with !lang: set it in the store directly
    await chat.bot.members.update(chat.adapter.member, lang=PSEUDO)
    try:
        yield chat
    finally:
        await chat.bot.close()


#: (what the member types, data that may show outside the messages, and why)
WALK: list[tuple[str, tuple[str, ...]]] = [
    ("!help", ()),
    ("!ayuda", ()),
    ("!help tz", ("!tz",)),  # the group's name heads its help: command names stay English
    ("!help tz set", ()),
    ("!help nosuch", ()),
    ("!tz", ()),
    ("!tz set Lagos", ()),
    ("!tz set UTC+3", ()),
    ("!zona", ()),
    ("!when tomorrow 9am", ()),
    ("!lang", ()),
    ("!lang xx-zz-yy", ()),
    ("!about", ("the group's about text",)),  # the config's own words: data
    ("!ping", ()),
    ("!setup", ()),
    ("help", ()),
    ("lagos", ()),
    ("back", ()),
    ("lagos", ()),
    ("skip", ("Africa/Lagos",)),  # the review shows the member's answers back
    ("maybe", ()),
    ("zone", ("Africa/Lagos",)),
    ("Manila", ("Asia/Manila",)),
    ("cancel", ()),
    ("!mydata", ("the member's data as JSON",)),
    ("!forgetme", ()),
    ("!foo", ()),
    ("!tz set", ()),  # a missing argument: says what to type, with the usage
    ("!tz bogus", ()),  # an argument too many
    ("!ping extra", ()),
]


async def test_every_reply_of_the_walk_is_translated(pseudo: ConsoleChat) -> None:
    about = pseudo.bot.config.bot.about
    escaped: list[tuple[str, str]] = []
    for line, data in WALK:
        out = await pseudo.say(line)
        assert "[!! " in out, (line, out)
        left = unwrapped(out)
        for shown in data:
            left = left.replace(shown, "")
        if "the group's about text" in data:
            left = left.replace(about, "")
        if "the member's data as JSON" in data:  # the DM's code block: field names, values
            # each line is the console's (translated) "[DM to alice]" tag, then JSON
            json_line = re.compile(r'\s*(\[DM to alice\])?\s*["{}\[\]]')
            left = "\n".join(x for x in left.splitlines() if not json_line.match(x))
        if has_words(left):
            escaped.append((line, left))
    assert not escaped, escaped


def test_unwrapping_takes_out_nested_messages_only() -> None:
    assert unwrapped("[!! Here is your [!! profile setup !!]: !!]\n• x") == "\n• x"
    assert unwrapped("1/2 [!! Where? !!] Lagos") == "1/2  Lagos"
