"""The database: one SQLAlchemy async engine for SQLite (default) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout so the console, workers and web app can share
it within one process; PostgreSQL is for several instances.  The schema is owned by Alembic
migrations shipped in the package and applied at start-up.  :mod:`.conditional` holds the
writes that stay right when members act at once (conditional updates, upserts, retries).
"""

from __future__ import annotations

import fcntl
import os
import re
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, inspect, make_url, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from chatbot.base.errors import InstanceLocked
from chatbot.base.logs import register_secret
from chatbot.storage.models import StateRow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from sqlalchemy.engine import Connection

    from chatbot.base.clock import Clock

MIGRATIONS = Path(__file__).parent / "migrations"
#: the PostgreSQL advisory lock held while the schema is migrated (any constant number:
#: the same in every instance), so instances starting together migrate one after the other
MIGRATION_LOCK = 0x7769_6D6C_6962  # "wmlib"


def normalise_url(url: str) -> str:
    """Accept the URLs people write (``sqlite:///x.db``, ``postgresql://…``) and pick the
    async driver for them."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^(?:down_revision|depends_on)\s*=\s*(.+)$", re.M)


def declared_heads(locations: Sequence[Path]) -> set[str]:
    """The revisions Alembic keeps in ``alembic_version`` once every script is applied,
    read from the scripts without importing Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in locations:
        for script in folder.glob("*.py"):
            text = script.read_text(encoding="utf-8")
            found = _REVISION.search(text)
            if found is None:
                continue
            revisions.add(found.group(1))
            # a revision another depends on is covered by it in alembic_version, like a parent
            for down in _DOWN.finditer(text):
                parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return revisions - parents


def _current_revisions(conn: Connection) -> set[str]:
    if not inspect(conn).has_table("alembic_version"):
        return set()
    return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """The engine, a session factory, and the migration runner."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.url = normalise_url(url)
        password = make_url(self.url).password
        if password:
            register_secret(str(password))  # never in a log line, whatever prints the URL
        self.clock = clock
        self.is_sqlite = self.url.startswith("sqlite")
        #: the database file of a SQLite URL (``None`` for PostgreSQL and in-memory SQLite)
        self.sqlite_path: str | None = None
        self._lock_fd: int | None = None
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            path = path.split("?", 1)[0]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.sqlite_path = path
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def lock_instance(self) -> None:
        """On a SQLite file, make this process its only bot: an exclusive, non-blocking
        ``flock`` on ``<db>.lock``, held until :meth:`close` (or the process ends, however it
        ends).  Raises :class:`InstanceLocked` when another process holds it.  PostgreSQL
        needs no lock: instances share it through leases and ``SKIP LOCKED`` claims."""
        if self.sqlite_path is None or self._lock_fd is not None:
            return
        fd = os.open(f"{self.sqlite_path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InstanceLocked(
                f"another bot instance is already using {self.sqlite_path}; use PostgreSQL "
                "to run several instances (see README)"
            ) from None
        self._lock_fd = fd

    def unlock_instance(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def upgrade(self, extra_locations: Sequence[Path] = ()) -> list[str]:
        """Bring the schema to the newest revision of the core and every enabled module.

        When the database is already current (every start but the first after an upgrade)
        this costs one query and Alembic is never imported, which keeps start-up light.
        On PostgreSQL the migration runs under an advisory lock: several instances starting
        together migrate one at a time, and those that waited find the schema current.
        (A SQLite file serves one process, see :meth:`lock_instance`.)
        """
        locations = [MIGRATIONS / "versions", *extra_locations]
        wanted = declared_heads(locations)
        async with self.engine.connect() as conn:
            current = await conn.run_sync(_current_revisions)
        if current == wanted:
            return sorted(current)
        from chatbot.storage.migrate import upgrade

        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # released when the transaction ends
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            return await conn.run_sync(upgrade, locations)

    async def get_state(self, key: str) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(select(StateRow.value).where(StateRow.key == key))

    async def set_state(self, key: str, value: str) -> None:
        async with self.session() as session:
            await session.merge(StateRow(key=key, value=value, updated_at=self.clock.now()))

    async def drop_state(self, key: str) -> None:
        async with self.session() as session:
            await session.execute(delete(StateRow).where(StateRow.key == key))

    async def prune_state(self, prefix: str, older_than: timedelta) -> None:
        """Forget the values under ``prefix`` not written for ``older_than`` (abandoned)."""
        cutoff = self.clock.now() - older_than
        async with self.session() as session:
            await session.execute(
                delete(StateRow).where(
                    StateRow.key.startswith(prefix, autoescape=True), StateRow.updated_at < cutoff
                )
            )

    async def close(self) -> None:
        try:
            await self.engine.dispose()
        finally:
            self.unlock_instance()
