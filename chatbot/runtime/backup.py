"""``chatbot backup PATH`` and ``chatbot restore PATH``: the bot's whole state in one file.

A backup is a ``.tar.gz`` holding ``manifest.json``, the database and the Matrix crypto
store (``[adapters.matrix] store_path``: the keys of the bot's encrypted session; without
them a restored bot is a new session that members must verify again).  It can be taken
while the bot runs and is consistent:

* **SQLite**: SQLite's online backup API copies the database in one step inside a read
  transaction, so the copy is the database as of one instant, committed WAL pages
  included; in WAL mode the bot keeps writing meanwhile.  The crypto store's SQLite files
  are copied the same way.
* **PostgreSQL**: ``pg_dump --format=custom``, which reads everything in one
  repeatable-read snapshot, ``--no-owner --no-privileges`` so it restores under another
  role.

Restoring puts back members' settings, meetings, RSVPs, case studies, the knowledge base's
edits and the Matrix sync position with the events already answered, so the bot carries on
from the moment of the backup without answering old messages again.  It refuses while the
bot runs (the SQLite instance lock; live leases on PostgreSQL) and, unless ``--force``,
when the database already holds the bot's tables; a replaced SQLite file is kept as
``<file>.replaced-<time>``.

Its output stays in English: it is the operator's terminal, not a member's chat (issue #19
translates what members read).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

from chatbot import __version__
from chatbot.base.errors import InstanceLocked

if TYPE_CHECKING:
    from chatbot.base.config import Config

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.pgdump"
STORE_MEMBER = "matrix-store"
DEFAULT_STORE = "data/matrix-store"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


# -- what to copy --------------------------------------------------------------------------


def matrix_store(config: Config) -> Path | None:
    """The Matrix crypto store folder of this config, when Matrix with encryption is on."""
    if "matrix" not in config.bot.adapters:
        return None
    settings = config.adapters.get("matrix", {})
    if settings.get("encryption", True) is False:
        return None
    return Path(str(settings.get("store_path", DEFAULT_STORE)))


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL.  In-memory SQLite has nothing to save."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(parsed.database)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database, through SQLite's online backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # pages=-1: one step, one read transaction, one instant
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def _copy_tree(source: Path, target: Path) -> None:
    """Copy a folder; its SQLite files (the crypto store) through the backup API."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # included by the backup API in the copy of their database
        if path.is_dir():
            _copy_tree(path, target / path.name)
        elif _is_sqlite(path):
            copy_sqlite(path, target / path.name)
        else:
            shutil.copy2(path, target / path.name)


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


# -- PostgreSQL ----------------------------------------------------------------------------


def pg_program(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: on PATH, else the newest in Debian's layout."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"{name} is not installed: install the PostgreSQL client (Debian: apt-get install "
        "postgresql-client, the same major version as the server or newer)"
    )


def pg_connection(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq arguments and environment for a URL; the password goes in the environment
    (never on a command line other users can read)."""
    parsed = make_url(url)
    args = ["--dbname", str(parsed.database or "")]
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


# -- backup --------------------------------------------------------------------------------


def create_backup(config: Config, dest: Path) -> dict[str, Any]:
    """Write the backup archive ``dest``; returns its manifest."""
    url = config.database_url()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "chatbot": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatbot-backup-", dir=dest.parent) as tmp:
        work = Path(tmp)
        db_file = sqlite_file(url)
        if db_file is not None:
            if not db_file.exists():
                raise BackupError(f"{db_file}: no such database file (check [bot] database)")
            copy_sqlite(db_file, work / SQLITE_MEMBER)
            manifest["database"] = "sqlite"
        else:
            args, env = pg_connection(url)
            dump = [pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
            _run([*dump, "--file", str(work / PG_MEMBER), *args], env)
            manifest["database"] = "postgresql"
        store = matrix_store(config)
        if store is not None and store.is_dir():
            _copy_tree(store, work / STORE_MEMBER)
            manifest["matrix_store"] = str(store)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial = dest.with_name(dest.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for path in sorted(work.iterdir()):
                archive.add(path, arcname=path.name)
        partial.chmod(0o600)  # it holds the bot's login and encryption keys
        partial.replace(dest)  # never a half-written archive under the final name
    return manifest


# -- restore -------------------------------------------------------------------------------


def _extract(archive: tarfile.TarFile, work: Path) -> None:
    """Unpack into ``work`` and nowhere else, refusing links, devices and paths that climb out.

    Python's ``data`` filter does this from 3.11.4 on; Debian 12 ships 3.11.2 without it, so
    there the same rules are checked here (a backup holds only files and folders).
    """
    if hasattr(tarfile, "data_filter"):
        archive.extractall(work, filter="data")
        return
    members = archive.getmembers()
    for member in members:
        parts = Path(member.name).parts
        if (
            member.name.startswith(("/", "\\"))
            or ".." in parts
            or not (member.isfile() or member.isdir())
        ):
            raise tarfile.TarError(f"refusing archive member {member.name!r}")
        member.mode &= 0o755  # no set-uid, set-gid or sticky bits, as the data filter does
    archive.extractall(work, members=members)


def restore_backup(config: Config, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Put the archive's database and crypto store back; returns its manifest."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    with tempfile.TemporaryDirectory(prefix="chatbot-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(source, "r:gz") as archive:
                _extract(archive, work)
            manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
            raise BackupError(f"{source}: not a chatbot backup ({exc})") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{source}: backup format {manifest.get('format')} is unknown")
        url = config.database_url()
        db_file = sqlite_file(url)
        kind = "sqlite" if db_file is not None else "postgresql"
        if manifest.get("database") != kind:
            raise BackupError(
                f"{source} holds a {manifest.get('database')} database and this config uses "
                f"{kind}: restore it into the same kind of database"
            )
        if db_file is not None:
            _restore_sqlite(url, db_file, work / SQLITE_MEMBER, force=force)
        else:
            _restore_postgres(url, work / PG_MEMBER, force=force)
        store = matrix_store(config)
        if (work / STORE_MEMBER).is_dir():
            if store is None:
                store = Path(str(manifest.get("matrix_store", DEFAULT_STORE)))
            if store.exists():
                shutil.rmtree(store)
            _copy_tree(work / STORE_MEMBER, store)
            store.chmod(0o700)
    return dict(manifest)


def _restore_sqlite(url: str, db_file: Path, copy: Path, *, force: bool) -> None:
    from chatbot.base.clock import SystemClock
    from chatbot.storage import Database

    db = Database(url, SystemClock())
    try:
        db.lock_instance()  # the bot must not be running on this file
    except InstanceLocked:
        raise BackupError(f"the bot is running on {db_file}: stop it, then restore") from None
    try:
        if db_file.exists() and db_file.stat().st_size > 0:
            if not force:
                raise BackupError(
                    f"{db_file} already holds a database: add --force to replace it (it is "
                    "kept next to it as .replaced-<time>)"
                )
            old = sqlite3.connect(db_file)
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old file complete on its own
            old.close()
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            db_file.replace(db_file.with_name(f"{db_file.name}.replaced-{stamp}"))
        for suffix in ("-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_file.parent.mkdir(parents=True, exist_ok=True)
        staged = db_file.with_name(db_file.name + ".restoring")
        shutil.copyfile(copy, staged)
        staged.replace(db_file)
    finally:
        db.unlock_instance()


def _restore_postgres(url: str, dump: Path, *, force: bool) -> None:
    import asyncio

    asyncio.run(_pg_make_room(url, force=force))
    args, env = pg_connection(url)
    restore = [pg_program("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction"]
    _run([*restore, "--exit-on-error", *args, str(dump)], env)


async def _pg_make_room(url: str, *, force: bool) -> None:
    """Refuse while instances run; with ``force``, drop the tables the backup brings back
    (and any newer ones), so the restored schema is exactly the backup's."""
    from sqlalchemy import text

    from chatbot.base.clock import SystemClock
    from chatbot.storage import Database

    db = Database(url, SystemClock())
    try:
        async with db.engine.begin() as conn:
            rows = await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            existing = sorted(row[0] for row in rows)
            if "leases" in existing:
                live = await conn.execute(
                    text("SELECT holder FROM leases WHERE expires_at > now()")
                )
                holders = sorted({row[0] for row in live})
                if holders:
                    raise BackupError(
                        f"instances are running on this database ({', '.join(holders)} hold "
                        "platform leases): stop them all, then restore"
                    )
            if existing and not force:
                raise BackupError(
                    "the database already holds the bot's tables: add --force to replace them"
                )
            if existing:
                quoted = ", ".join(f'"{name}"' for name in existing)
                await conn.execute(text(f"DROP TABLE {quoted} CASCADE"))
    finally:
        await db.close()


# -- command line --------------------------------------------------------------------------


def backup_main(config: Config, dest: Path) -> int:
    """``chatbot backup PATH``: a folder gets a dated archive name."""
    if dest.is_dir():
        dest = dest / f"chatbot-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.tar.gz"
    try:
        manifest = create_backup(config, dest)
    except BackupError as exc:
        print(f"chatbot backup: {exc}", file=sys.stderr)
        return 1
    store = manifest.get("matrix_store")
    extra = f" and the Matrix crypto store {store}" if store else ""
    print(f"{dest}: {manifest['database']} database{extra}")
    return 0


def restore_main(config: Config, source: Path, *, force: bool) -> int:
    try:
        manifest = restore_backup(config, source, force=force)
    except BackupError as exc:
        print(f"chatbot restore: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored the {manifest['database']} database of {manifest['created']} "
        f"(chatbot {manifest['chatbot']}); start the bot: it upgrades the schema if needed"
    )
    return 0
