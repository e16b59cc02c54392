"""Named leases on SQLite and PostgreSQL: one holder at a time, taken over once expired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatbot.base.clock import FakeClock
from chatbot.delivery.leases import Leases
from chatbot.storage import Database
from tests.outbox_helpers import LoopStopped, TimeTravel


@pytest.fixture
async def db(db_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = Database(db_url, clock)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.close()


async def test_one_holder_until_it_expires(db: Database, clock: FakeClock) -> None:
    """A lease is refused to others while held; after expiry another instance takes it."""
    a, b = Leases(db, holder="a"), Leases(db, holder="b")
    assert await a.acquire("matrix:@bot:example.org", 30)
    assert not await b.acquire("matrix:@bot:example.org", 30)
    assert await a.acquire("matrix:@bot:example.org", 30)  # renewing our own
    clock.advance(20)
    assert await a.renew("matrix:@bot:example.org", 30)
    clock.advance(29)
    assert not await b.acquire("matrix:@bot:example.org", 30)
    assert await a.holder_of("matrix:@bot:example.org") == "a"
    clock.advance(2)
    assert await b.holder_of("matrix:@bot:example.org") is None
    assert await b.acquire("matrix:@bot:example.org", 30)
    assert not await a.renew("matrix:@bot:example.org", 30)  # a was too slow: it lost it
    await a.release("matrix:@bot:example.org")  # not a's to release
    assert await a.holder_of("matrix:@bot:example.org") == "b"
    await b.release("matrix:@bot:example.org")
    assert await a.acquire("matrix:@bot:example.org", 30)


async def test_hold_runs_the_work_only_while_the_lease_is_ours(
    db: Database, clock: FakeClock
) -> None:
    """hold() waits for the lease, renews it while the work runs, and stops it when lost."""
    other = Leases(db, holder="other")
    assert await other.acquire("discord:gateway", 30)
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.Event().wait()  # serves until cancelled

    mine = Leases(db, holder="mine")
    rounds: list[float] = []

    def done() -> bool:
        rounds.append(clock.monotonic())
        return len(rounds) > 8

    travel = TimeTravel(clock, done=done)
    with pytest.raises(LoopStopped):
        await mine.hold("discord:gateway", work, ttl=30, sleep=travel)
    assert started.is_set()  # acquired once the other holder's lease expired
    assert travel.waits == [10.0] * len(travel.waits)
    assert await other.holder_of("discord:gateway") is None  # released on the way out


async def test_hold_ends_as_soon_as_the_work_ends(db: Database) -> None:
    """A work that ends by itself ends hold() at once, not at the next renewal, and the
    lease is released on the way out."""
    mine = Leases(db, holder="mine")
    ran = asyncio.Event()

    async def work() -> None:
        ran.set()

    async with asyncio.timeout(10):  # the renewal interval below is an hour
        await mine.hold("adapter:console", work, ttl=7200, renew=3600)
    assert ran.is_set()
    assert await mine.holder_of("adapter:console") is None
