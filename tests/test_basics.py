"""What a newcomer sees first: help, ping, about."""

from __future__ import annotations

from tests.harness import ConsoleChat


async def test_help_lists_member_commands(chat: ConsoleChat) -> None:
    """!help lists what a member can use, each with a one-line description."""
    out = await chat.say("!help")
    assert "Type `!help <command>` for details" in out
    for name in ("!ping", "!about", "!tz", "!mydata", "!forgetme", "!lang", "!setup"):
        assert f"`{name}" in out


async def test_help_for_a_group_and_a_subcommand(chat: ConsoleChat) -> None:
    """!help tz shows the subcommands and examples; !help tz set explains the argument."""
    out = await chat.say("!help tz")
    assert "`!tz set <zone>…`" in out or "`!tz set <zone>`" in out
    assert "Examples:" in out and "`!tz set Lagos`" in out
    out = await chat.say("!help tz set")
    assert "a city (Lagos)" in out
    out = await chat.say("!help tzz")
    assert "Did you mean `!help tz`?" in out


async def test_ping_and_about(chat: ConsoleChat) -> None:
    """!ping answers, !about says what the bot is for."""
    assert await chat.say("!ping") == "Pong! I'm here."
    about = await chat.say("!about")
    assert "Wikimedia and Libraries User Group" in about
    assert "Connected to: console" in about
