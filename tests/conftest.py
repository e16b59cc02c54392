"""Shared fixtures: a fake clock, databases on SQLite and PostgreSQL, an in-process chat."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

# Every reply of the whole run is checked for bot text that escaped translation (see
# chatbot/messages/localise.py); set before the bot is imported, inherited by the bot
# processes the tests start. The run fails at the end if any was found.
_I18N_REPORT = Path(tempfile.mkdtemp(prefix="chatbot-i18n-")) / "untranslated.jsonl"
os.environ["CHATBOT_I18N_CHECK"] = str(_I18N_REPORT)

import pytest  # noqa: E402

from chatbot.base.clock import FakeClock  # noqa: E402
from tests.harness import ConsoleChat, open_chat  # noqa: E402

pytest_plugins = [
    "tests.peers.postgres",
    "tests.peers.synapse",
    "tests.peers.chromium",
    "tests.discord_fake.fixtures",
]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any reply carried bot text that no catalog translates."""
    if not _I18N_REPORT.exists():
        return
    found = Counter(
        (entry["where"], entry["text"], entry.get("test", "").split(" ")[0])
        for entry in map(json.loads, _I18N_REPORT.read_text(encoding="utf-8").splitlines())
    )
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(found)} distinct texts reached a reader untranslated (first 60):"]
    for (where, text, test), count in sorted(found.items())[:60]:
        lines.append(f"  [{where}] {text[:120]!r} ×{count}  ({test})")
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
