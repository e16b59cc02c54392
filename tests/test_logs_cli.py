"""Logs that never show secrets, and a command line that answers fast."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
import structlog

from chatbot import __version__
from chatbot.base.logs import configure, get_logger, register_secret
from chatbot.dispatch.converters import parse_duration


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    structlog.reset_defaults()


def test_secrets_are_masked_in_keyvalue_logs(log_stream: io.StringIO) -> None:
    """A token never reaches the log, by key name or by value."""
    configure("info", "keyvalue", stream=log_stream)
    register_secret("syt_supersecretvalue123")
    log = get_logger("t")
    log.info("login", access_token="syt_supersecretvalue123", user="@bot:x")
    log.info("request", url="https://x/_matrix?access_token=syt_supersecretvalue123")
    text = log_stream.getvalue()
    assert "supersecret" not in text
    assert "event='login'" in text and "access_token='***'" in text
    assert "access_token=***" in text


def test_json_logs(log_stream: io.StringIO) -> None:
    """With format=json each event is one JSON object carrying its bound fields."""
    configure("info", "json", stream=log_stream)
    get_logger("t").warning("undecryptable", room="!r:x", ref="ab12cd")
    entry = json.loads(log_stream.getvalue().strip().splitlines()[-1])
    assert entry["event"] == "undecryptable" and entry["room"] == "!r:x"
    assert entry["level"] == "warning"


def test_level_filters(log_stream: io.StringIO) -> None:
    """Below the configured level nothing is written."""
    configure("warning", "keyvalue", stream=log_stream)
    get_logger("t").info("chatter")
    assert log_stream.getvalue() == ""


def test_durations() -> None:
    """Durations in the forms members type them."""
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("90 minutes") == timedelta(minutes=90)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("2 days and 3 hours") == timedelta(hours=51)
    assert parse_duration("1 week") == timedelta(days=7)
    for bad in ("", "soon", "5", "h", "3 parsecs", "1h lots"):
        assert parse_duration(bad) is None


def test_version_and_help() -> None:
    """`chatbot --version` and `--help` answer without loading the bot."""
    out = subprocess.run(
        [sys.executable, "-m", "chatbot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"chatbot {__version__}"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "chatbot", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for word in ("run", "check-config", "db"):
        assert word in out.stdout
    imported = out.stderr
    for heavy in ("sqlalchemy", "dateparser", "discord", "nio", "babel", "alembic"):
        assert f" {heavy}\n" not in imported and f" {heavy}." not in imported, heavy


def test_when_cli() -> None:
    """`chatbot when` prints the instant in UTC, or exits 1 with the reason."""
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatbot",
            "when",
            "next Tuesday at 15:00 UTC",
            "--now",
            "2026-11-25T12:00:00+00:00",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.returncode, ok.stdout) == (0, "2026-12-01T15:00:00+00:00\n")
    zoned = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatbot",
            "when",
            "tomorrow 9am",
            "--zone",
            "manila",
            "--now",
            "2026-11-25T12:00:00Z",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert zoned.stdout == "2026-11-26T01:00:00+00:00\n"
    bad = subprocess.run(
        [sys.executable, "-m", "chatbot", "when", "tomorow"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and bad.stdout == "" and "tomorow" in bad.stderr


def test_database_password_is_masked(log_stream: io.StringIO) -> None:
    """A password inside the database URL never reaches a log line."""
    from chatbot.base.clock import FakeClock
    from chatbot.storage import Database

    configure("info", "keyvalue", stream=log_stream)
    Database("postgresql://bot:s3cret-db-pass@db.example.org/chatbot", FakeClock())
    get_logger("t").info("connecting", url="postgresql://bot:s3cret-db-pass@db.example.org/x")
    assert "s3cret-db-pass" not in log_stream.getvalue()


SECRET = "syt_zz_hidden_value_77"


def test_secrets_are_masked_in_tracebacks_nested_values_and_library_logs(
    log_stream: io.StringIO,
) -> None:
    """Masking runs on the finished line, so a registered secret is hidden wherever it
    appears: in an exception's message and traceback, inside dicts and lists, and in the
    records of the libraries' own loggers (discord.py, nio, aiohttp, SQLAlchemy); a value
    under a secret-sounding key is hidden at any depth."""
    import logging

    configure("info", "keyvalue", stream=log_stream)
    register_secret(SECRET)
    log = get_logger("t")
    try:
        raise RuntimeError(f"login refused for token {SECRET}")
    except RuntimeError:
        log.exception("login_failed")
    log.info("nested", data={"user": "bot", "value": SECRET}, items=["a", SECRET])
    log.info("headers", request={"headers": {"Authorization": "Bearer unregistered-abc123"}})
    for name in ("discord.http", "nio.client", "aiohttp.client", "sqlalchemy.engine"):
        logging.getLogger(name).warning("%s says %s", name, {"token": SECRET})
    try:
        raise ValueError(SECRET)
    except ValueError:
        logging.getLogger("discord.client").error("crashed", exc_info=True)
    text = log_stream.getvalue()
    assert SECRET not in text and "unregistered-abc123" not in text
    assert "login_failed" in text and "RuntimeError: login refused for token ***" in text
    for name in ("discord.http", "nio.client", "aiohttp.client", "sqlalchemy.engine"):
        assert f"{name} says" in text
    assert "ValueError: ***" in text
