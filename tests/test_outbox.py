"""The outbox on SQLite and PostgreSQL: enqueue, claim, send, retry, give up, leases."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from chatbot.base.clock import FakeClock
from chatbot.base.i18n import _n, _p, verbatim
from chatbot.delivery.outbox import Outbox
from chatbot.delivery.outbox_payload import decode_payload, encode_payload
from chatbot.delivery.outbox_policy import OutboxSettings, RetryPolicy
from chatbot.delivery.outbox_rows import (
    ANNOUNCEMENT,
    CLAIMED,
    FAILED,
    NOTIFICATION,
    PENDING,
    SENDING,
    SENT,
    Delivery,
    enqueue,
)
from chatbot.messages.events import (
    Bullets,
    Button,
    Code,
    Member,
    Mention,
    Plain,
    Reader,
    Reply,
    Room,
    When,
)
from chatbot.storage import Database
from chatbot.storage.delivery import OutboxRow
from tests.outbox_helpers import Recorder, TimeTravel, run_until_stopped

ANA = Member("memory:ana", "memory", "ana")


def room(name: str) -> Room:
    return Room(f"memory:#{name}", "memory", f"#{name}")


def to_room(name: str, text: str = "hello", **kwargs: object) -> Delivery:
    return Delivery(
        "memory",
        Reply.of(Plain(text)),
        room=room(name),
        owner_id=ANA.id,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def db(db_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = Database(db_url, clock)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.close()


def sender(db: Database, adapter: Recorder, name: str = "a", **settings: object) -> Outbox:
    return Outbox(
        db,
        {adapter.platform: adapter},
        settings=OutboxSettings(**settings),  # type: ignore[arg-type]
        instance=name,
        rng=random.Random(7),
    )


async def rows(db: Database) -> list[OutboxRow]:
    async with db.sessions() as session:
        return list((await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())


def test_payload_roundtrip() -> None:
    """Every part type survives the trip through the outbox's JSON."""
    at = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    reply = Reply.of(
        "**Hi** ",
        Plain("@room <b>"),
        Code("x = 1", "py"),
        When(at, "short", relative=True),
        Mention(ANA),
        Bullets(((Plain("one"),), ("two ", When(at)))),
        buttons=(Button("Yes", "rsvp 1 yes", "success"),),
        direct=True,
    )
    back, reader = decode_payload(encode_payload(reply, Reader("Europe/Paris", "fr")))
    assert back == reply
    assert reader == Reader("Europe/Paris", "fr")


def test_payload_keeps_messages_to_translate_when_sent() -> None:
    """A queued message is stored untranslated, with its placeholders (parts, counts,
    nested messages) and translated button labels, and read back equal: the sender
    translates it for the row's reader."""
    at = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    said = _n(
        "{n} day before {title} ({when}), {rule}",
        "{n} days before {title} ({when}), {rule}",
        3,
        title=Plain("Open *call*"),
        when=When(at, "full"),
        rule=_p("weekday", "Monday"),
    )
    reply = Reply.of(
        said, verbatim("#{id}", id="7"), buttons=(Button(_p("rsvp", "Going"), "rsvp 7 yes"),)
    )
    back, reader = decode_payload(encode_payload(reply, Reader(None, "es")))
    assert back == reply
    assert reader == Reader(None, "es")


async def test_enqueue_is_part_of_the_callers_transaction(db: Database, clock: FakeClock) -> None:
    """Rows appear only if the caller commits; a rollback leaves nothing to send."""

    async def decide_then_fail() -> None:
        async with db.session() as session:
            await enqueue(session, [to_room("a"), to_room("b")], clock.now())
            raise RuntimeError("the decision to send is rolled back")

    with pytest.raises(RuntimeError):
        await decide_then_fail()
    assert await rows(db) == []
    async with db.session() as session:
        assert await enqueue(session, [to_room("a"), to_room("b")], clock.now()) == 2
    assert [r.state for r in await rows(db)] == [PENDING, PENDING]


async def test_due_rows_are_sent_once_with_stable_delivery_ids(
    db: Database, clock: FakeClock
) -> None:
    """Each row is posted once with delivery id outbox-N and marked sent with its message id."""
    adapter = Recorder()
    outbox = sender(db, adapter, poll_interval=7200)
    async with db.session() as session:
        await outbox.enqueue(
            session,
            [
                to_room("a", "first"),
                to_room("b", "second"),
                to_room("later", "not yet", due_at=clock.now() + timedelta(hours=1)),
                Delivery("memory", Reply.of("psst"), member=ANA),
            ],
        )
    assert outbox.work.is_set()  # woken by the commit
    assert await outbox.run_once() == 3
    assert await outbox.run_once() == 0
    assert sorted(adapter.posts) == [
        ("memory:#a", "outbox-1", "first"),
        ("memory:#b", "outbox-2", "second"),
        ("memory:ana", "outbox-4", "psst"),
    ]
    stored = await rows(db)
    assert [r.state for r in stored] == [SENT, SENT, PENDING, SENT]
    assert stored[0].message_id and stored[0].sent_room_id == "memory:#a"
    assert stored[3].sent_room_id == "dm:memory:ana"
    assert await outbox.idle_delay() == pytest.approx(3600)
    clock.advance(timedelta(hours=1))
    assert await outbox.run_once() == 1
    assert adapter.texts("memory:#later") == ["not yet"]


async def test_failures_back_off_then_succeed(db: Database, clock: FakeClock) -> None:
    """A failing send is retried later and later (with jitter), then delivered."""
    adapter = Recorder()
    adapter.failing["memory:#a"] = 2
    policy = RetryPolicy(base=10, factor=3, jitter=0.2)
    outbox = sender(db, adapter, retry=policy)
    async with db.session() as session:
        await outbox.enqueue(session, [to_room("a")])
    started = clock.now()
    assert await outbox.run_once() == 1
    first = (await rows(db))[0]
    assert (first.state, first.attempts, first.last_error) == (PENDING, 1, "the platform is down")
    wait = (first.next_attempt_at - started).total_seconds()
    assert 8 <= wait <= 12
    assert await outbox.run_once() == 0  # not due yet
    clock.set(first.next_attempt_at)
    assert await outbox.run_once() == 1
    second = (await rows(db))[0]
    wait = (second.next_attempt_at - first.next_attempt_at).total_seconds()
    assert 24 <= wait <= 36
    clock.set(second.next_attempt_at)
    assert await outbox.run_once() == 1
    done = (await rows(db))[0]
    assert (done.state, done.attempts, done.last_error) == (SENT, 3, None)
    assert adapter.texts("memory:#a") == ["hello"]


async def test_final_failure_is_reported_once_by_dm(db: Database, clock: FakeClock) -> None:
    """After the last attempt the owner gets exactly one DM naming the room and the reason."""
    adapter = Recorder()
    adapter.failing["memory:#a"] = 99
    outbox = sender(db, adapter, retry=RetryPolicy(max_attempts=3, base=1, jitter=0))
    async with db.session() as session:
        await outbox.enqueue(session, [to_room("a", kind=ANNOUNCEMENT, ref="announcement:7")])
    for _ in range(10):
        await outbox.run_once()
        clock.advance(3600)
    stored = await rows(db)
    assert [(r.kind, r.state) for r in stored] == [(ANNOUNCEMENT, FAILED), (NOTIFICATION, SENT)]
    assert stored[0].attempts == 3
    assert adapter.texts("memory:ana") == [
        "I couldn't post your announcement #7 in #a (memory) after 3 attempts: the platform is down"
    ]


async def test_refused_dm_is_not_retried_and_not_reported_in_a_loop(
    db: Database, clock: FakeClock
) -> None:
    """A member who refuses DMs fails the delivery at once; notifications report nothing."""
    adapter = Recorder()
    adapter.refuse_dm.add("memory:bob")
    outbox = sender(db, adapter)
    bob = Member("memory:bob", "memory", "bob")
    async with db.session() as session:
        await outbox.enqueue(session, [Delivery("memory", Reply.of("hi"), member=bob)])
    assert await outbox.run_once() == 1
    assert await outbox.run_once() == 0
    [row] = await rows(db)
    assert (row.state, row.attempts) == (FAILED, 1)
    assert row.last_error == "the member does not accept direct messages"


async def test_expired_lease_makes_a_claim_claimable_again(db: Database, clock: FakeClock) -> None:
    """An instance that dies holding a claim delays the row by one lease, no more."""
    adapter = Recorder()
    dead = sender(db, adapter, "dead", lease=60)
    alive = sender(db, adapter, "alive", lease=60, poll_interval=600)
    async with db.session() as session:
        await enqueue(session, [to_room("a")], clock.now())
    claimed = await dead._claim("memory", 10, CLAIMED)
    assert [r.id for r in claimed] == [1]
    assert await alive.run_once() == 0  # leased to the dead instance
    assert await alive.idle_delay() == pytest.approx(60)
    clock.advance(61)
    assert await alive.run_once() == 1
    [row] = await rows(db)
    assert (row.state, row.claimed_by, row.attempts) == (SENT, "alive", 2)
    # the dead instance coming back cannot overwrite what the live one recorded
    from chatbot.delivery.outbox_claims import Outcome

    await dead._record([Outcome(claimed[0], error="late news")], CLAIMED)
    [row] = await rows(db)
    assert (row.state, row.last_error) == (SENT, None)
    assert len(adapter.posts) == 1


async def test_non_idempotent_in_doubt_rows_are_reported_not_resent(
    db: Database, clock: FakeClock
) -> None:
    """A row left 'sending' by a crash may have been posted: never doubled, owner told."""
    console = Recorder("memory", idempotent=False)
    dead = sender(db, console, "dead", lease=60)
    async with db.session() as session:
        await enqueue(session, [to_room("a", kind=ANNOUNCEMENT), to_room("b")], clock.now())
    assert len(await dead._claim("memory", 1, SENDING)) == 1
    restarted = sender(db, console, "new", lease=60)
    if db.is_sqlite:
        await restarted.recover()  # one process: the dead one's claims are released at once
    else:
        clock.advance(61)
    assert await restarted.run_once() == 1  # room b, one row at a time
    assert await restarted.run_once() == 0
    await restarted.idle_delay()  # settles the row in doubt
    assert await restarted.run_once() == 1  # the report
    stored = await rows(db)
    assert [(r.room_id, r.state) for r in stored[:2]] == [
        ("memory:#a", FAILED),
        ("memory:#b", SENT),
    ]
    assert "in doubt" in (stored[0].last_error or "")
    assert [p[0] for p in console.posts] == ["memory:#b", "memory:ana"]
    assert "may or may not have been posted" in console.posts[1][2]


async def test_rate_limit_spreads_sends_over_time(db: Database, clock: FakeClock) -> None:
    """A platform's token bucket caps each round; the loop waits for the next token."""
    adapter = Recorder()
    outbox = sender(db, adapter, rates={"memory": (2.0, 3.0)})
    async with db.session() as session:
        await outbox.enqueue(session, [to_room(f"r{i}") for i in range(7)])
    assert await outbox.run_once() == 3
    assert await outbox.run_once() == 0
    assert await outbox.idle_delay() == pytest.approx(0.5)
    clock.advance(1.0)
    assert await outbox.run_once() == 2
    travel = TimeTravel(clock, done=lambda: len(adapter.posts) == 7)
    outbox.sleep = travel
    await run_until_stopped(outbox.run)
    assert len(adapter.posts) == 7
    assert travel.waits[:-1] == [pytest.approx(0.5), pytest.approx(0.5)]


async def test_loop_waits_for_work_or_the_next_due_time(db: Database, clock: FakeClock) -> None:
    """Idle, the loop sleeps until the next due row; an enqueue wakes it at once."""
    adapter = Recorder()
    travel = TimeTravel(clock, done=lambda: len(adapter.posts) == 3)
    outbox = Outbox(db, {"memory": adapter}, instance="a", sleep=travel, rng=random.Random(1))
    async with db.session() as session:
        await outbox.enqueue(
            session,
            [
                to_room("soon", due_at=clock.now() + timedelta(seconds=20)),
                to_room("later", due_at=clock.now() + timedelta(seconds=25)),
                to_room("now"),
            ],
        )
    start = clock.now()
    await run_until_stopped(outbox.run)
    assert [p[0] for p in adapter.posts] == ["memory:#now", "memory:#soon", "memory:#later"]
    assert travel.waits[:2] == [pytest.approx(20), pytest.approx(5)]
    assert clock.now() - start == timedelta(seconds=25)


async def test_loop_survives_a_database_hiccup(db: Database, clock: FakeClock) -> None:
    """An error in a round is logged and retried after a pause, not fatal to the bot."""
    adapter = Recorder()
    travel = TimeTravel(clock, done=lambda: len(adapter.posts) == 1)
    outbox = Outbox(db, {"memory": adapter}, instance="a", sleep=travel)
    calls = 0
    real = outbox.run_once

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return await real()

    outbox.run_once = flaky  # type: ignore[method-assign]
    async with db.session() as session:
        await outbox.enqueue(session, [to_room("a")])
    await run_until_stopped(outbox.run)
    assert travel.waits[0] == RetryPolicy().base
    assert len(adapter.posts) == 1


@pytest.mark.postgres
async def test_two_instances_deliver_each_row_exactly_once(
    postgres_url: str, clock: FakeClock
) -> None:
    """Two senders with their own engines on one PostgreSQL share 1,000 rows, none twice."""
    first = Database(postgres_url, clock)
    second = Database(postgres_url, clock)
    await first.upgrade()
    try:
        async with first.session() as session:
            await enqueue(session, [to_room(f"r{i}") for i in range(1000)], clock.now())
        adapters = [Recorder(), Recorder()]
        senders = [
            Outbox(db, {"memory": a}, instance=f"i{n}", settings=OutboxSettings(batch=25))
            for n, (db, a) in enumerate(zip([first, second], adapters, strict=True))
        ]

        async def drain(outbox: Outbox) -> None:
            while await outbox.run_once():
                pass

        await asyncio.gather(*(drain(s) for s in senders))
        posted = [p[0] for a in adapters for p in a.posts]
        assert len(posted) == 1000 and len(set(posted)) == 1000
        assert all(adapters[0].posts) and adapters[1].posts  # both took a share
        async with first.sessions() as session:
            by_state = dict(
                (
                    await session.execute(
                        select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
                    )
                ).all()
            )
        assert by_state == {SENT: 1000}
    finally:
        await first.close()
        await second.close()
