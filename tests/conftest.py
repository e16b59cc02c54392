"""Shared fixtures: a fake clock, databases on SQLite and PostgreSQL, an in-process chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.base.clock import FakeClock
from tests.harness import ConsoleChat, open_chat

pytest_plugins = [
    "tests.peers.postgres",
    "tests.peers.synapse",
    "tests.peers.chromium",
    "tests.discord_fake.fixtures",
]


@pytest.fixture(autouse=True)
def _keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI subcommand run in-process (``main(["backup", …])``) would set up logging for the
    whole process as ``chatbot`` does at start, and loggers cached then would bypass
    ``structlog.testing.capture_logs`` in every later test; the tests of that set-up itself
    (tests/test_logs_cli.py) call it directly and run it in subprocesses."""
    monkeypatch.setattr("chatbot.base.logs.configure", lambda *args, **kwargs: None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One test body over both databases the bot supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(sqlite_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()
