"""The database: one SQLAlchemy async engine for SQLite (default) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout so the console, workers and web app can share
it within one process; PostgreSQL is for several instances.  The schema is owned by Alembic
migrations shipped in the package and applied at start-up.
"""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from chatbot.storage.models import StateRow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from sqlalchemy.engine import Connection

    from chatbot.clock import Clock

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the URLs people write (``sqlite:///x.db``, ``postgresql://…``) and pick the
    async driver for them."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def declared_heads(locations: Sequence[Path]) -> set[str]:
    """The head revisions of the migration scripts, read without importing Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in locations:
        for script in folder.glob("*.py"):
            text = script.read_text(encoding="utf-8")
            found = _REVISION.search(text)
            if found is None:
                continue
            revisions.add(found.group(1))
            down = _DOWN.search(text)
            if down:
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
        self.clock = clock
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def upgrade(self, extra_locations: Sequence[Path] = ()) -> list[str]:
        """Bring the schema to the newest revision of the core and every enabled module.

        When the database is already current (every start but the first after an upgrade)
        this costs one query and Alembic is never imported, which keeps start-up light.
        """
        locations = [MIGRATIONS / "versions", *extra_locations]
        wanted = declared_heads(locations)
        async with self.engine.connect() as conn:
            current = await conn.run_sync(_current_revisions)
        if current == wanted:
            return sorted(current)
        from chatbot.storage.migrate import upgrade

        async with self.engine.begin() as conn:
            return await conn.run_sync(upgrade, locations)

    async def get_state(self, key: str) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(select(StateRow.value).where(StateRow.key == key))

    async def set_state(self, key: str, value: str) -> None:
        async with self.session() as session:
            await session.merge(StateRow(key=key, value=value, updated_at=self.clock.now()))

    async def close(self) -> None:
        await self.engine.dispose()
