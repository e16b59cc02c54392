"""Schema upgrades: several instances starting together, and a database from the first
release brought to today's schema without losing a row."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from adapters.matrix.ledger import StateKeys, SyncLedger
from chatbot.base.clock import FakeClock
from chatbot.runtime.plugins import migration_locations
from chatbot.storage import MIGRATIONS as CORE_MIGRATIONS
from chatbot.storage import Database, declared_heads
from commands import announce, basics, casestudies, faq, meetings, members
from tests.harness import open_chat

MODULES = [basics.module, members.module, faq.module, announce.module, meetings.module]
MODULES.append(casestudies.module)

ALL_MODULES = ["basics", "members", "faq", "announce", "meetings", "casestudies"]


async def test_instances_starting_together_migrate_once(
    postgres_url: str, clock: FakeClock
) -> None:
    """Four instances start at once on an empty PostgreSQL database: one migrates under the
    lock, the others wait and find the schema current; none fails."""
    locations = migration_locations(ALL_MODULES)
    wanted = declared_heads([CORE_MIGRATIONS / "versions", *locations])
    dbs = [Database(postgres_url, clock) for _ in range(4)]
    try:
        results = await asyncio.gather(*(db.upgrade(locations) for db in dbs))
    finally:
        for db in dbs:
            await db.close()
    assert all(set(heads) == wanted for heads in results)


FIRST_RELEASE = Path(__file__).parent / "data" / "first_release.sqlite"
MATRIX_KEYS = StateKeys("@wmlib-bot:example.org")


def _rows(path: Path) -> dict[str, dict[str, list[tuple[object, ...]]]]:
    """Every table's rows, as ``{table: {column: values}}`` in primary-key order."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found: dict[str, dict[str, list[tuple[object, ...]]]] = {}
        for table in tables:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            found[table] = {
                column: [
                    row for row in conn.execute(f'SELECT "{column}" FROM "{table}" ORDER BY rowid')
                ]
                for column in columns
            }
        return found
    finally:
        conn.close()


async def test_first_release_database_upgrades_without_losing_a_row(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The database a group made with the first release (tests/data/README.md) is brought to
    today's schema on start: every row of every old column is still there, and members see
    their zones, meetings, RSVPs, case study and FAQ entry as before."""
    path = tmp_path / "bot.db"
    shutil.copy(FIRST_RELEASE, path)
    before = _rows(path)
    chat = await open_chat(f"sqlite:///{path}", clock, modules=MODULES)
    try:
        assert "Asia/Manila" in await chat.say("!tz", as_="rosa")
        assert "Africa/Lagos" in await chat.say("!tz", as_="alice")
        meetings = await chat.say("!meetings", as_="rosa")
        assert "#1 Open meeting (APAC)" in meetings and "09:00 (Manila)" in meetings
        assert "#2 Wikidata for librarians" in meetings
        one = await chat.say("!meeting 1", as_="ana")
        assert "Going (1): rosa" in one and "Maybe (1): alice" in one
        study = await chat.say("!casestudy view 1", as_="ana")
        assert "#1Lib1Ref at Lakeside" in study and "published" in study
        assert "Wikimania is held every summer" in await chat.say("!faq show wikimania")
        assert "library card in Lagos" in await chat.say("!faq unanswered", as_="ana")
        ledger = SyncLedger(chat.bot.db, MATRIX_KEYS)
        assert await ledger.load() == "s1234_567_8_9_10_1_1_1_1"
        assert not ledger.claim("$answered-1:example.org")  # not answered a second time
    finally:
        await chat.bot.close()
    after = _rows(path)
    for table, columns in before.items():
        if table == "alembic_version":
            continue
        for column, values in columns.items():
            assert after[table][column] == values, f"{table}.{column} changed"
    wanted = declared_heads([CORE_MIGRATIONS / "versions", *migration_locations(ALL_MODULES)])
    assert {row[0] for row in after["alembic_version"]["version_num"]} == wanted


def test_processes_starting_together_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """Three `chatbot db upgrade` processes on one empty database, started at once, as
    instances of a fresh deployment would: all succeed and agree on the schema."""
    config = tmp_path / "config.toml"
    commands = ", ".join(f'"{name}"' for name in ALL_MODULES)
    config.write_text(f"[bot]\ncommands = [{commands}]\n", encoding="utf-8")
    env = {**os.environ, "CHATBOT_DATABASE_URL": postgres_url}
    command = [sys.executable, "-m", "chatbot", "db", "upgrade", "-c", str(config)]
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _out, err in outputs]
    wanted = declared_heads([CORE_MIGRATIONS / "versions", *migration_locations(ALL_MODULES)])
    for out, _err in outputs:
        assert out.strip() == f"database is at {', '.join(sorted(wanted))}"
