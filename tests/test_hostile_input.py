"""Thousands of random and hostile messages: every one gets an answer or silence, never a bug."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from chatbot.base.clock import FakeClock
from tests.harness import ConsoleChat, open_chat

COMMANDS = [
    "help",
    "ping",
    "about",
    "tz",
    "tz set",
    "tz clear",
    "lang",
    "mydata",
    "forgetme",
    "setup",
    "commands",
    "timezone",
    "language",
    "nosuch",
    "",
]
HOSTILE = [
    '"',
    "'",
    "“",
    "«",
    "\x00",
    "\u202e",
    "\u200b",
    "@everyone",
    "@room",
    "<script>",
    "{{",
    "|}",
    "`",
    "**",
    "\n",
    "\t",
    "\\",
    "%s",
    "${x}",
    "🙂",
    "ß",
    "İ",
    "𝕏",
    "ﷺ",
    "\ud7ff",
]

pieces = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=12),
    st.integers().map(str),
)
messages = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda cmd, args: f"!{cmd} {' '.join(args)}",
        st.sampled_from(COMMANDS),
        st.lists(pieces, max_size=6),
    ),
    st.builds(
        lambda cmd, n: f"!{cmd} " + "x" * n, st.sampled_from(COMMANDS), st.integers(1000, 20000)
    ),
    st.builds(lambda s: "!" + s, st.text(max_size=60)),
)


@pytest.fixture(scope="module")
def runner_chat(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.Runner, ConsoleChat]]:
    path: Path = tmp_path_factory.mktemp("hostile") / "bot.db"
    clock = FakeClock(datetime(2026, 11, 25, 12, tzinfo=UTC))
    with asyncio.Runner() as runner:
        chat = runner.run(open_chat(f"sqlite:///{path}", clock))
        yield runner, chat
        runner.run(chat.bot.close())


@settings(
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=messages)
def test_no_message_breaks_the_bot(
    runner_chat: tuple[asyncio.Runner, ConsoleChat], text: str
) -> None:
    """Whatever a member types, the bot replies politely or stays silent; no handler fails."""
    runner, chat = runner_chat
    line = text.replace("\n", " ").replace("\r", " ")
    with capture_logs() as logs:
        out = runner.run(chat.say(line))
    assert not [e for e in logs if e["event"] == "handler_failed"], (line, logs)
    assert "Traceback" not in out
    assert "something broke" not in out
