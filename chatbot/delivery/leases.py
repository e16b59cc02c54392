"""Named leases in the shared database: one instance at a time owns a thing.

The Matrix sync loop and the Discord gateway connection must each run in one instance only,
or every event would be handled twice.  Whoever holds the lease ``matrix:@bot:example.org``
runs it, renews it well before it expires, and stops when a renewal fails; another instance
takes it over once it has expired (its holder died).

Both steps are single guarded statements, so they are atomic on SQLite and PostgreSQL alike:
``UPDATE … WHERE name = :n AND (holder = :me OR expires_at < :now)`` takes over an expired
lease or renews our own; otherwise ``INSERT … ON CONFLICT DO NOTHING`` creates a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from chatbot.base.logs import get_logger
from chatbot.delivery.workers import Sleep, instance_name, wait_for_event
from chatbot.storage.delivery import LeaseRow

if TYPE_CHECKING:
    from chatbot.base.clock import Clock
    from chatbot.storage import Database

log = get_logger("chatbot.delivery.leases")

LEASES = cast(Table, LeaseRow.__table__)


class Leases:
    """Acquire, renew and release named leases for one holder (this instance)."""

    def __init__(self, db: Database, *, clock: Clock | None = None, holder: str | None = None):
        self.db = db
        self.clock: Clock = clock or db.clock
        self.holder = holder or instance_name()

    async def acquire(self, name: str, ttl: float) -> bool:
        """Take the lease (or renew it, if ours) for ``ttl`` seconds; ``False`` if another
        holder has it and it has not expired."""
        now = self.clock.now()
        until = now + timedelta(seconds=ttl)
        async with self.db.session() as session:
            taken = await session.execute(
                update(LEASES)
                .where(
                    LEASES.c.name == name,
                    or_(LEASES.c.holder == self.holder, LEASES.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=until, acquired_at=now)
            )
            if getattr(taken, "rowcount", 0) == 1:
                return True
            insert: Any = sqlite_insert if self.db.is_sqlite else pg_insert
            created = await session.execute(
                insert(LEASES)
                .values(name=name, holder=self.holder, expires_at=until, acquired_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            return getattr(created, "rowcount", 0) == 1

    async def renew(self, name: str, ttl: float) -> bool:
        """Extend our lease; ``False`` when it is no longer ours (it expired and was taken)."""
        now = self.clock.now()
        async with self.db.session() as session:
            result = await session.execute(
                update(LEASES)
                .where(LEASES.c.name == name, LEASES.c.holder == self.holder)
                .values(expires_at=now + timedelta(seconds=ttl))
            )
            return getattr(result, "rowcount", 0) == 1

    async def release(self, name: str) -> None:
        """Give the lease up at once (a clean shutdown), if we hold it."""
        async with self.db.session() as session:
            await session.execute(
                delete(LEASES).where(LEASES.c.name == name, LEASES.c.holder == self.holder)
            )

    async def holder_of(self, name: str) -> str | None:
        """The current, unexpired holder, if any."""
        async with self.db.sessions() as session:
            return await session.scalar(
                select(LEASES.c.holder).where(
                    LEASES.c.name == name, LEASES.c.expires_at >= self.clock.now()
                )
            )

    async def hold(
        self,
        name: str,
        work: Callable[[], Awaitable[None]],
        *,
        ttl: float = 30.0,
        renew: float | None = None,
        sleep: Sleep = wait_for_event,
    ) -> None:
        """Wait until the lease is ours, then run ``work()`` while renewing it every
        ``renew`` seconds (default: a third of ``ttl``), also the interval at which a waiting
        instance tries again; if a renewal fails, ``work`` is cancelled and we wait for the
        lease again.  Runs until cancelled or ``work`` ends; the lease is released on the
        way out."""
        every = ttl / 3 if renew is None else renew
        idle = asyncio.Event()  # never set: the waits below are plain timed waits
        finished = asyncio.Event()  # set when the work ends, so that is noticed at once
        try:
            while True:
                if not await self.acquire(name, ttl):
                    await sleep(idle, every)
                    continue
                log.info("lease_acquired", name=name, holder=self.holder)
                finished.clear()
                task = asyncio.ensure_future(work())
                task.add_done_callback(lambda _t: finished.set())
                try:
                    while not task.done():
                        await sleep(finished, every)
                        if not task.done() and not await self.renew(name, ttl):
                            log.warning("lease_lost", name=name, holder=self.holder)
                            break
                finally:
                    if not task.done():
                        task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                if task.done() and not task.cancelled():
                    error = task.exception()
                    if error is not None:
                        raise error  # as for any worker: stop rather than run without it
                    return  # the work ended by itself
        finally:
            try:
                await self.release(name)
            except Exception:
                log.warning("lease_release_failed", name=name, holder=self.holder)
