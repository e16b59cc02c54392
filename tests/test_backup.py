"""``chatbot backup`` / ``chatbot restore``: a consistent copy taken while members keep
talking to the bot, put back on SQLite and PostgreSQL with everything members set."""

from __future__ import annotations

import asyncio
import sqlite3
import tarfile
from pathlib import Path

import pytest

from adapters.matrix.ledger import StateKeys, SyncLedger
from chatbot.base.clock import FakeClock
from chatbot.base.config import Config, parse_config
from chatbot.runtime.backup import BackupError, create_backup, restore_backup
from chatbot.runtime.cli import main
from chatbot.storage.delivery import LeaseRow
from commands import basics, casestudies, meetings, members
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, meetings.module, casestudies.module]
KEYS = StateKeys("@wmlib-bot:example.org")
ZONES = ["Lagos", "Manila", "Lima", "Oslo", "Delhi"]


def backup_config(url: str, store: Path) -> Config:
    """The operator's config: Matrix on, so the crypto store belongs in the backup."""
    return parse_config(
        f"""
[bot]
database = "{url}"
adapters = ["console", "matrix"]
[adapters.matrix]
homeserver = "http://localhost:8008"
user_id = "@wmlib-bot:example.org"
password_env = "UNUSED"
store_path = "{store}"
""",
        "<test>",
    )


def fake_crypto_store(store: Path) -> None:
    """A store like nio's: a SQLite file in WAL mode whose newest keys are still in the WAL."""
    store.mkdir(parents=True)
    conn = sqlite3.connect(store / "@wmlib-bot:example.org_DEVICE.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE olm_sessions (id TEXT)")
    conn.execute("INSERT INTO olm_sessions VALUES ('session-1')")
    conn.commit()
    conn.close()  # nio keeps it open; reopen one so the WAL stays un-checkpointed
    keep = sqlite3.connect(store / "@wmlib-bot:example.org_DEVICE.db")
    keep.execute("PRAGMA wal_autocheckpoint=0")
    keep.execute("INSERT INTO olm_sessions VALUES ('session-2')")
    keep.commit()
    fake_crypto_store.keep = keep  # type: ignore[attr-defined]


async def fill(chat: ConsoleChat) -> None:
    await chat.say("!tz set london", as_="ana")
    added = await chat.say(
        '!meeting add "Open meeting" 2026-12-08 09:00 Asia/Manila --duration 1h --every 4 weeks'
    )
    assert "not saved yet" in added
    await chat.say("!meeting confirm 1")
    await chat.say("!tz set manila", as_="rosa")
    assert "You're going" in await chat.say("!rsvp 1 yes")
    ledger = SyncLedger(chat.bot.db, KEYS)
    await chat.bot.db.set_state(KEYS.sync_token, "s99_1_2")
    ledger.answered("$old-command:example.org")
    await ledger.flush_answered()


async def test_backup_while_members_talk_restores_everything(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    store = tmp_path / "matrix-store"
    fake_crypto_store(store)
    config = backup_config(db_url, store)
    chat = await open_chat(db_url, clock, modules=MODULES)
    archive = tmp_path / "backup.tar.gz"
    try:
        await fill(chat)
        written: list[int] = []
        some = asyncio.Event()
        stop_at: list[int] = []

        async def members_talk() -> None:
            n = 0
            while not stop_at or n < stop_at[0]:
                reply = await chat.say(f"!tz set {ZONES[n % len(ZONES)]}", as_=f"m{n}")
                assert reply.startswith("Done"), reply
                written.append(n)
                n += 1
                if n >= 5:
                    some.set()

        talking = asyncio.create_task(members_talk())
        await some.wait()
        before = len(written)
        await asyncio.to_thread(create_backup, config, archive)
        after = len(written)
        stop_at.append(after + 5)
        await talking
    finally:
        await chat.bot.close()
    fake_crypto_store.keep.close()  # type: ignore[attr-defined]

    with pytest.raises(BackupError, match="--force"):
        await asyncio.to_thread(restore_backup, config, archive)  # the database is still there
    store_before = sorted(p.name for p in store.iterdir())
    await asyncio.to_thread(restore_backup, config, archive, force=True)
    assert sorted(p.name for p in store.iterdir()) == [
        n for n in store_before if not n.endswith(("-wal", "-shm"))
    ]
    keys = sqlite3.connect(store / "@wmlib-bot:example.org_DEVICE.db")
    assert [r[0] for r in keys.execute("SELECT id FROM olm_sessions")] == [
        "session-1",
        "session-2",  # committed in the WAL only: the backup API copied it
    ]
    keys.close()

    chat = await open_chat(db_url, clock, modules=MODULES)
    try:
        # one instant: the members who had set a zone by then, and no later one
        restored = [n for n in range(len(written)) if "UTC" not in await zone_of(chat, n)]
        assert restored == list(range(len(restored))), "not one instant's copy"
        assert before <= len(restored) <= after
        assert "Asia/Manila" in await chat.say("!tz", as_="rosa")
        assert "Going (1): rosa" in await chat.say("!meeting 1", as_="ana")
        ledger = SyncLedger(chat.bot.db, KEYS)
        assert await ledger.load() == "s99_1_2"
        assert not ledger.claim("$old-command:example.org")  # never answered twice
    finally:
        await chat.bot.close()


async def zone_of(chat: ConsoleChat, n: int) -> str:
    return await chat.say("!tz", as_=f"m{n}")


async def test_restore_refuses_while_the_bot_runs(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    config = backup_config(db_url, tmp_path / "none")
    chat = await open_chat(db_url, clock, modules=MODULES)
    archive = tmp_path / "b.tar.gz"
    try:
        await chat.say("!tz set lagos")
        await asyncio.to_thread(create_backup, config, archive)
        chat.bot.db.lock_instance()  # what `chatbot run` holds on SQLite
        async with chat.bot.db.session() as session:  # what a running instance holds on PG
            session.add(LeaseRow(name="adapter:matrix", holder="host:1", **lease_times(clock)))
        with pytest.raises(BackupError, match="stop"):
            await asyncio.to_thread(restore_backup, config, archive, force=True)
    finally:
        await chat.bot.close()


def lease_times(clock: FakeClock) -> dict[str, object]:
    from datetime import timedelta

    now = clock.now()
    return {"acquired_at": now, "expires_at": now + timedelta(days=3650)}


def test_cli_backup_and_restore_on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What an operator types, with the example config's database."""
    db = tmp_path / "bot.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndatabase = "sqlite:///{db}"\n', encoding="utf-8")
    assert main(["db", "upgrade", "-c", str(config)]) == 0
    capsys.readouterr()
    assert main(["backup", "-c", str(config), str(tmp_path)]) == 0
    out = capsys.readouterr().out
    archive = Path(out.split(":")[0])
    assert archive.parent == tmp_path and archive.name.startswith("chatbot-")
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["database.sqlite", "manifest.json"]
    assert archive.stat().st_mode & 0o077 == 0  # it holds the bot's login
    assert main(["restore", "-c", str(config), str(archive)]) == 1
    assert "already holds a database: add --force" in capsys.readouterr().err
    assert main(["restore", "-c", str(config), str(archive), "--force"]) == 0
    assert "restored the sqlite database" in capsys.readouterr().out
    assert [p.name for p in tmp_path.glob("bot.db.replaced-*")]
    assert main(["restore", "-c", str(config), str(config)]) == 1
    assert "not a chatbot backup" in capsys.readouterr().err


# Python's own filter where this Python has it; always the rules checked for Debian 12's 3.11.2
FILTERS = [False, *([True] if hasattr(tarfile, "data_filter") else [])]


@pytest.mark.parametrize("python_filter", FILTERS, ids=["own-rules", "data-filter"][: len(FILTERS)])
@pytest.mark.parametrize("hostile", ["../escaped.txt", "/tmp/absolute.txt", "link"])
def test_restore_refuses_an_archive_that_writes_outside_its_folder(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    python_filter: bool,
    hostile: str,
) -> None:
    """A doctored backup cannot put a file beside the database or link to one elsewhere,
    with Python's own ``data`` filter (3.11.4+) or on Debian 12's 3.11.2, which lacks it."""
    if not python_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    db = tmp_path / "bot.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndatabase = "sqlite:///{db}"\n', encoding="utf-8")
    doctored = tmp_path / "doctored.tar.gz"
    payload = tmp_path / "payload.txt"
    payload.write_text("not yours\n", encoding="utf-8")
    with tarfile.open(doctored, "w:gz") as tar:
        if hostile == "link":
            info = tarfile.TarInfo("manifest.json")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
        else:
            tar.add(payload, arcname=hostile)
    assert main(["restore", "-c", str(config), str(doctored)]) == 1
    assert "not a chatbot backup" in capsys.readouterr().err
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not Path("/tmp/absolute.txt").exists()
    assert not db.exists()
