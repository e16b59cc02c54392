"""Durable jobs on SQLite and PostgreSQL: on time, late within grace, skipped, never twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.base.clock import FakeClock
from chatbot.delivery.scheduler import (
    CANCELLED,
    DONE,
    FAILED,
    SKIPPED,
    Job,
    Scheduler,
    cancel,
    schedule,
)
from chatbot.storage import Database
from chatbot.storage.delivery import JobRow
from chatbot.storage.models import StateRow
from tests.outbox_helpers import TimeTravel, run_until_stopped


@pytest.fixture
async def db(db_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = Database(db_url, clock)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.close()


class Effects:
    """A handler whose effect is a row keyed by the job id (a second run would collide)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.ran: list[int] = []
        self.skipped: list[int] = []
        self.fail = False

    async def run(self, job: Job, session: AsyncSession) -> None:
        self.ran.append(job.id)
        session.add(
            StateRow(key=f"ran:{job.id}", value=job.payload["what"], updated_at=self.clock.now())
        )
        await session.flush()
        if self.fail:
            raise RuntimeError("handler broke")

    async def on_skip(self, job: Job, session: AsyncSession) -> None:
        self.skipped.append(job.id)


def worker(db: Database, effects: Effects, name: str = "a", **kwargs: object) -> Scheduler:
    scheduler = Scheduler(db, instance=name, **kwargs)  # type: ignore[arg-type]
    scheduler.register("test", effects.run, on_skip=effects.on_skip)
    return scheduler


async def add(db: Database, clock: FakeClock, in_seconds: float, grace: float = 900) -> int:
    async with db.session() as session:
        return await schedule(
            session,
            "test",
            clock.now() + timedelta(seconds=in_seconds),
            now=clock.now(),
            payload={"what": "hello"},
            grace=timedelta(seconds=grace),
            created_by="console:ana",
        )


async def states(db: Database) -> dict[int, str]:
    async with db.sessions() as session:
        return {
            r.id: r.state for r in (await session.execute(select(JobRow.id, JobRow.state))).all()
        }


async def effect_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StateRow)) or 0)


async def test_due_job_runs_once(db: Database, clock: FakeClock) -> None:
    """A job runs when due, exactly once, with its effects committed with the done mark."""
    effects = Effects(clock)
    scheduler = worker(db, effects)
    job_id = await add(db, clock, 60)
    assert await scheduler.run_once() == 0
    clock.advance(60)
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    assert effects.ran == [job_id]
    assert await states(db) == {job_id: DONE}
    assert await effect_count(db) == 1


async def test_late_job_runs_within_grace_and_is_skipped_past_it(
    db: Database, clock: FakeClock
) -> None:
    """After downtime, a job within its grace runs late; one past its grace is skipped."""
    effects = Effects(clock)
    scheduler = worker(db, effects)
    within = await add(db, clock, 0, grace=3600)
    past = await add(db, clock, 0, grace=600)
    clock.advance(timedelta(minutes=30))  # the bot was down
    assert await scheduler.run_once() == 2
    assert effects.ran == [within]
    assert effects.skipped == [past]
    assert await states(db) == {within: DONE, past: SKIPPED}
    [skipped] = await scheduler.recent(clock.now() - timedelta(hours=1))
    assert skipped.id == past and "missed" in (skipped.last_error or "")


async def test_failing_handler_rolls_back_and_marks_failed(db: Database, clock: FakeClock) -> None:
    """A handler that raises leaves no effect behind and the job failed, not retried."""
    effects = Effects(clock)
    effects.fail = True
    scheduler = worker(db, effects)
    job_id = await add(db, clock, 0)
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    assert await states(db) == {job_id: FAILED}
    assert await effect_count(db) == 0


async def test_cancel_only_before_it_runs(db: Database, clock: FakeClock) -> None:
    """A cancelled job never runs; a job that ran cannot be cancelled any more."""
    effects = Effects(clock)
    scheduler = worker(db, effects)
    first = await add(db, clock, 10)
    second = await add(db, clock, 10)
    async with db.session() as session:
        assert await cancel(session, first, clock.now())
    clock.advance(10)
    assert await scheduler.run_once() == 1
    async with db.session() as session:
        assert not await cancel(session, second, clock.now())
    assert await states(db) == {first: CANCELLED, second: DONE}
    assert effects.ran == [second]


async def test_dead_instances_job_is_taken_over_once(db: Database, clock: FakeClock) -> None:
    """A claim whose lease ran out is run by another instance; the dead one's run is undone."""
    effects = Effects(clock)
    dead = worker(db, effects, "dead", lease=60)
    alive = worker(db, effects, "alive", lease=60)
    job_id = await add(db, clock, 0)
    [job] = await dead._claim()
    assert await alive.run_once() == 0
    clock.advance(61)
    assert await alive.run_once() == 1
    await dead._handle(job)  # comes back from the dead: its guard fails, effect rolled back
    assert await states(db) == {job_id: DONE}
    assert await effect_count(db) == 1


async def test_loop_sleeps_until_the_next_job(db: Database, clock: FakeClock) -> None:
    """The worker waits exactly until the next due time, moved by a fake clock."""
    effects = Effects(clock)
    travel = TimeTravel(clock, done=lambda: len(effects.ran) == 2)
    scheduler = worker(db, effects, sleep=travel)
    await add(db, clock, 90)
    await add(db, clock, 300)
    start = clock.now()
    await run_until_stopped(scheduler.run)
    assert travel.waits[:2] == [pytest.approx(60), pytest.approx(30)]  # poll cap, then due
    assert clock.now() - start == timedelta(seconds=300)


@pytest.mark.postgres
async def test_two_workers_share_jobs_without_running_any_twice(
    postgres_url: str, clock: FakeClock
) -> None:
    """Two schedulers with their own engines on one PostgreSQL run 200 jobs once each."""
    first, second = Database(postgres_url, clock), Database(postgres_url, clock)
    await first.upgrade()
    try:
        async with first.session() as session:
            for _ in range(200):
                await schedule(session, "test", clock.now(), now=clock.now(), payload={"what": "x"})
        effects = [Effects(clock), Effects(clock)]
        workers = [
            worker(db, e, f"w{n}", batch=7)
            for n, (db, e) in enumerate(zip([first, second], effects, strict=True))
        ]

        async def drain(scheduler: Scheduler) -> None:
            while await scheduler.run_once():
                pass

        await asyncio.gather(*(drain(w) for w in workers))
        ran = effects[0].ran + effects[1].ran
        assert sorted(ran) == list(range(1, 201))
        assert effects[0].ran and effects[1].ran
        assert await effect_count(first) == 200
    finally:
        await first.close()
        await second.close()
