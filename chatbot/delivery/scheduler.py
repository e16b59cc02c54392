"""Durable jobs: run a handler at a time, once, even across restarts and several instances.

A job is a row (kind, JSON payload, ``due_at`` in UTC, grace period).  Workers claim due
jobs with the outbox's pattern (``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``
under a lease) and run the handler registered for the kind.

Exactly once
    The handler gets a session in a transaction; the job is marked ``done`` in that same
    transaction, guarded by ``claimed_by`` and ``state``.  So the handler's database effects
    (typically: deliveries queued in the outbox, which then carries the retries) commit
    exactly once: an instance whose lease ran out while its handler was still running finds
    the guard false and rolls its effects back.  Handlers must therefore act through the
    database, not send anything directly.

Late jobs
    A job whose time passed while the bot was down runs late if it is within its grace
    period; past it, it is marked ``skipped`` and logged, and the kind's ``on_skip`` hook
    (e.g. a DM to the organiser) runs in the same transaction.  :meth:`Scheduler.recent`
    lists skipped and failed jobs for organisers.

Failures
    A handler that raises leaves the job ``failed`` with the error (its effects rolled back);
    it is not retried by the scheduler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy import event as sa_event

from chatbot.base.logs import get_logger
from chatbot.delivery.workers import Sleep, instance_name, wait_for_event
from chatbot.storage.delivery import JobRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.base.clock import Clock
    from chatbot.dispatch.host import Host
    from chatbot.storage import Database

log = get_logger("chatbot.delivery.scheduler")

JOBS = cast(Table, JobRow.__table__)

PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"
FAILED = "failed"
SKIPPED = "skipped"
CANCELLED = "cancelled"

DEFAULT_GRACE = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Job(msgspec.Struct, frozen=True):
    """A claimed job as its handler sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    grace_seconds: int
    created_by: str | None
    attempts: int


JobHandler = Callable[[Job, "AsyncSession"], Awaitable[None]]


class _Kind(msgspec.Struct, frozen=True):
    run: JobHandler
    on_skip: JobHandler | None


class LeaseLost(RuntimeError):
    """Another instance took the job over while its handler ran; its effects are undone."""


async def schedule(
    session: AsyncSession,
    kind: str,
    due_at: datetime,
    *,
    now: datetime,
    payload: dict[str, Any] | None = None,
    grace: timedelta = DEFAULT_GRACE,
    created_by: str | None = None,
) -> int:
    """Add a job in the caller's transaction; returns its id."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be aware")
    result = await session.execute(
        insert(JOBS)
        .values(
            kind=kind,
            payload=msgspec.json.encode(payload or {}).decode(),
            due_at=due_at,
            grace_seconds=int(grace.total_seconds()),
            state=PENDING,
            attempts=0,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        .returning(JOBS.c.id)
    )
    return int(result.scalar_one())


async def cancel(session: AsyncSession, job_id: int, now: datetime) -> bool:
    """Cancel a job that has not started; ``False`` when it already ran or was claimed."""
    result = await session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.state == PENDING)
        .values(state=CANCELLED, finished_at=now, updated_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


class Scheduler:
    """Claims due jobs and runs their handlers."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        instance: str | None = None,
        lease: float = 300.0,
        batch: int = 20,
        poll_interval: float = 60.0,
        sleep: Sleep = wait_for_event,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or db.clock
        self.instance = instance or instance_name()
        self.lease = lease
        self.batch = batch
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.work = asyncio.Event()
        self.kinds: dict[str, _Kind] = {}

    def register(self, kind: str, run: JobHandler, *, on_skip: JobHandler | None = None) -> None:
        """Run ``run(job, session)`` for jobs of ``kind``; ``on_skip`` when one is too late."""
        if kind in self.kinds:
            raise ValueError(f"job kind {kind!r} registered twice")
        self.kinds[kind] = _Kind(run, on_skip)

    def wake(self) -> None:
        self.work.set()

    async def schedule(
        self,
        session: AsyncSession,
        kind: str,
        due_at: datetime,
        *,
        payload: dict[str, Any] | None = None,
        grace: timedelta = DEFAULT_GRACE,
        created_by: str | None = None,
    ) -> int:
        """:func:`schedule`, waking this worker once the caller commits."""
        job_id = await schedule(
            session,
            kind,
            due_at,
            now=self.clock.now(),
            payload=payload,
            grace=grace,
            created_by=created_by,
        )
        sa_event.listen(session.sync_session, "after_commit", lambda _s: self.wake(), once=True)
        return job_id

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        await self.recover()
        while True:
            self.work.clear()
            try:
                if await self.run_once():
                    await asyncio.sleep(0)
                    continue
                delay = await self.idle_delay()
            except Exception:
                log.exception("scheduler_round_failed", instance=self.instance)
                delay = 5.0
            await self.sleep(self.work, delay)

    async def recover(self) -> None:
        """On SQLite (one process) the claims found at start-up are a dead process's."""
        if not self.db.is_sqlite:
            return
        async with self.db.session() as session:
            await session.execute(
                update(JOBS).where(JOBS.c.state == CLAIMED).values(lease_until=_EPOCH)
            )

    async def idle_delay(self) -> float:
        now = self.clock.now()
        kinds = list(self.kinds)
        async with self.db.sessions() as session:
            due = await session.scalar(
                select(func.min(JOBS.c.due_at)).where(
                    JOBS.c.state == PENDING, JOBS.c.kind.in_(kinds)
                )
            )
            leased = await session.scalar(
                select(func.min(JOBS.c.lease_until)).where(
                    JOBS.c.state == CLAIMED, JOBS.c.kind.in_(kinds)
                )
            )
        delay = self.poll_interval
        for when in (due, leased):
            if when is not None:
                delay = min(delay, max((_aware(when) - now).total_seconds(), 0.0))
        return delay

    async def run_once(self) -> int:
        """Claim and run what is due; returns how many jobs were handled."""
        if not self.kinds:
            return 0
        jobs = await self._claim()
        for job in jobs:
            await self._handle(job)
        return len(jobs)

    async def _claim(self) -> list[Job]:
        now = self.clock.now()
        due = or_(
            and_(JOBS.c.state == PENDING, JOBS.c.due_at <= now),
            and_(JOBS.c.state == CLAIMED, JOBS.c.lease_until < now),
        )
        ids = (
            select(JOBS.c.id)
            .where(JOBS.c.kind.in_(list(self.kinds)), due)
            .order_by(JOBS.c.due_at, JOBS.c.id)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(JOBS)
            .where(JOBS.c.id.in_(ids))
            .values(
                state=CLAIMED,
                claimed_by=self.instance,
                lease_until=now + timedelta(seconds=self.lease),
                attempts=JOBS.c.attempts + 1,
                updated_at=now,
            )
            .returning(
                JOBS.c.id,
                JOBS.c.kind,
                JOBS.c.payload,
                JOBS.c.due_at,
                JOBS.c.grace_seconds,
                JOBS.c.created_by,
                JOBS.c.attempts,
            )
        )
        async with self.db.session() as session:
            rows = (await session.execute(stmt)).all()
        jobs = [
            Job(r.id, r.kind, msgspec.json.decode(r.payload), _aware(r.due_at), *r[4:])
            for r in rows
        ]
        jobs.sort(key=lambda j: (j.due_at, j.id))
        return jobs

    def _guarded(self, job: Job, now: datetime, **values: Any) -> Any:
        return (
            update(JOBS)
            .where(
                JOBS.c.id == job.id,
                JOBS.c.state == CLAIMED,
                JOBS.c.claimed_by == self.instance,
            )
            .values(updated_at=now, lease_until=None, **values)
        )

    async def _handle(self, job: Job) -> None:
        kind = self.kinds[job.kind]
        now = self.clock.now()
        late = now - job.due_at
        if late > timedelta(seconds=job.grace_seconds):
            reason = (
                f"missed: due {job.due_at:%Y-%m-%d %H:%M} UTC, the bot could only run it "
                f"{_ago(late)} later (grace {_ago(timedelta(seconds=job.grace_seconds))})"
            )
            try:
                async with self.db.session() as session:
                    result = await session.execute(
                        self._guarded(job, now, state=SKIPPED, finished_at=now, last_error=reason)
                    )
                    if getattr(result, "rowcount", 0) != 1:
                        raise LeaseLost(job.id)
                    if kind.on_skip is not None:
                        await kind.on_skip(job, session)
            except LeaseLost:
                return
            log.warning("job_skipped", id=job.id, kind=job.kind, reason=reason)
            return
        try:
            async with self.db.session() as session:
                await kind.run(job, session)
                result = await session.execute(self._guarded(job, now, state=DONE, finished_at=now))
                if getattr(result, "rowcount", 0) != 1:
                    raise LeaseLost(job.id)
        except LeaseLost:
            log.warning("job_lease_lost", id=job.id, kind=job.kind, instance=self.instance)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = (str(exc).strip() or type(exc).__name__)[:500]
            async with self.db.session() as session:
                result = await session.execute(
                    self._guarded(job, self.clock.now(), state=FAILED, last_error=error)
                )
            if getattr(result, "rowcount", 0) == 1:
                log.exception("job_failed", id=job.id, kind=job.kind)
            else:  # taken over meanwhile: the error is a consequence (e.g. a duplicate key)
                log.warning("job_lease_lost", id=job.id, kind=job.kind, instance=self.instance)
            return
        if late > timedelta(seconds=1):
            log.info("job_ran_late", id=job.id, kind=job.kind, late_seconds=late.total_seconds())

    async def recent(
        self, since: datetime, states: tuple[str, ...] = (SKIPPED, FAILED)
    ) -> list[JobRow]:
        """Jobs that ended badly since ``since``, newest first (for organisers)."""
        async with self.db.sessions() as session:
            found = await session.scalars(
                select(JobRow)
                .where(JobRow.state.in_(states), JobRow.updated_at >= since)
                .order_by(JobRow.updated_at.desc())
            )
            return list(found.all())


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def scheduler_of(bot: Host) -> Scheduler:
    """The bot's job worker, created (and added as a worker) on first use; modules register
    their job kinds on it in their start-up hooks."""
    found = bot.services.get("scheduler")
    if isinstance(found, Scheduler):
        return found
    scheduler = Scheduler(bot.db, clock=bot.clock, instance=bot.instance)
    bot.services["scheduler"] = scheduler
    bot.add_worker("scheduler", scheduler.run)
    return scheduler
