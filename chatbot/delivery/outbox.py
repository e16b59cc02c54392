"""The outbox: everything the bot sends on its own initiative, delivered durably.

A delivery is a row written **in the same transaction** as the decision to send it
(:func:`enqueue`, one batched insert).  The sender (:class:`Outbox`) claims due rows, sends
each through its platform's adapter and records the outcome.

Claiming
    One statement, ``UPDATE outbox SET state='claimed', lease_until=now+lease, attempts+1
    WHERE id IN (SELECT id … WHERE due … ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP
    LOCKED) RETURNING …``.  On PostgreSQL several instances claim disjoint rows without
    waiting for each other; on SQLite (one instance) the same statement runs without the
    locking clause, which SQLite's single writer makes unnecessary.  Every later transition is
    guarded by ``claimed_by`` and ``state`` in its ``WHERE``, so an instance that lost its
    lease can never overwrite the outcome recorded by the instance that took the row over.

Leases and crashes
    A claimed row whose lease ran out (its instance died) is claimable again.  On SQLite the
    database serves one process, so at start-up every claim is a dead process's and is
    released at once (:meth:`Outbox.recover`).

Idempotency
    Each send carries ``delivery_id=f"outbox-{id}"``, stable across retries; Matrix and
    Discord derive their transaction ids / nonces from it, so re-sending a delivery whose
    outcome was lost in a crash posts it once.  Adapters that cannot deduplicate (the
    console) are sent one row at a time under the ``sending`` state, committed before the
    send: a row found ``sending`` after a crash is *in doubt* and is not sent again but
    reported to its owner (a message may be missing, it is never doubled).

Retries
    A failed send is retried with exponential back-off and jitter
    (:class:`RetryPolicy`); after the last attempt the delivery is ``failed`` and, once
    (the transition is guarded), a direct message tells the member who caused it which room
    it was for and why.  A delivery past its ``expires_at`` is not sent late but failed.

Rate limits
    A token bucket per platform bounds how many rows are claimed per round, so rows never sit
    claimed while waiting for the platform.

Shutdown
    When the bot stops, the round in progress may finish (``shutdown_grace``), so a message
    already posted is recorded as sent rather than left in doubt.

Waiting
    When nothing is due the loop waits on an :class:`asyncio.Event` (set after a commit that
    enqueued something) or until the next due time computed from the clock; the wait is an
    injected function, so tests move a fake clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy import event as sa_event

from chatbot.base.logs import get_logger
from chatbot.dispatch.ratelimit import TokenBuckets
from chatbot.messages.events import (
    Bullets,
    Button,
    Code,
    Inline,
    Member,
    Mention,
    Outgoing,
    Part,
    Plain,
    Reader,
    Reply,
    Room,
    When,
)
from chatbot.storage.delivery import OutboxRow
from chatbot.storage.models import UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.engine import Row
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.base.clock import Clock
    from chatbot.dispatch.adapter import Adapter, Sent
    from chatbot.dispatch.host import Host
    from chatbot.storage import Database

log = get_logger("chatbot.delivery.outbox")

#: the migration that creates the outbox, jobs, announcements and broadcast rooms tables

OUTBOX = cast(Table, OutboxRow.__table__)

PENDING = "pending"
CLAIMED = "claimed"
SENDING = "sending"  # non-idempotent adapters: committed right before the send
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"

ANNOUNCEMENT = "announcement"
REMINDER = "reminder"
NOTIFICATION = "notification"

#: platforms whose adapters derive idempotency keys from ``delivery_id`` (see module doc)
IDEMPOTENT_PLATFORMS = frozenset({"matrix", "discord"})

#: messages per second and burst per platform; platforms not named are not limited here
DEFAULT_RATES: Mapping[str, tuple[float, float]] = {
    "discord": (5.0, 10.0),  # well under the global 50/s; per-channel limits are discord.py's
    "matrix": (2.0, 10.0),  # Synapse's default rc_message is 0.2/s unless the bot is exempt
}

Sleep = Callable[[asyncio.Event, float], Awaitable[None]]


async def wait_for_event(event: asyncio.Event, seconds: float) -> None:
    """The real wait: until ``event`` is set or ``seconds`` have passed."""
    if event.is_set():
        return
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            await event.wait()
    except TimeoutError:
        pass


def instance_name() -> str:
    """A name for this process in ``claimed_by``: host, pid and a random tag."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{secrets.token_hex(3)}"


def is_idempotent(adapter: Adapter) -> bool:
    """Whether re-sending the same ``delivery_id`` posts once on this adapter's platform."""
    declared = getattr(adapter, "idempotent_sends", None)
    if isinstance(declared, bool):
        return declared
    return adapter.platform in IDEMPOTENT_PLATFORMS


# -- payloads ------------------------------------------------------------------------------


def _enc_inline(part: Inline) -> list[Any]:
    if isinstance(part, str):
        return ["s", part]
    if isinstance(part, Plain):
        return ["p", part.text]
    if isinstance(part, Code):
        return ["c", part.text, part.language]
    if isinstance(part, When):
        return ["w", part.at.astimezone(UTC).isoformat(), part.style, part.relative]
    if isinstance(part, Mention):
        m = part.member
        return ["m", m.id, m.platform, m.display_name]
    raise TypeError(f"not an inline part: {part!r}")


def _dec_inline(data: list[Any]) -> Inline:
    tag = data[0]
    if tag == "s":
        return str(data[1])
    if tag == "p":
        return Plain(data[1])
    if tag == "c":
        return Code(data[1], data[2])
    if tag == "w":
        return When(datetime.fromisoformat(data[1]), data[2], bool(data[3]))
    if tag == "m":
        return Mention(Member(data[1], data[2], data[3]))
    raise ValueError(f"unknown part tag {tag!r}")


_NOBODY = Reader()


def encode_payload(reply: Reply, reader: Reader = _NOBODY) -> str:
    """A reply and its reader as compact JSON (forms are not queued: they need a caller)."""
    if reply.form is not None:
        raise ValueError("a reply with a form cannot go through the outbox")
    parts: list[Any] = []
    for part in reply.parts:
        if isinstance(part, Bullets):
            parts.append(["b", [[_enc_inline(p) for p in item] for item in part.items]])
        else:
            parts.append(_enc_inline(part))
    data: dict[str, Any] = {"parts": parts}
    if reply.private:
        data["private"] = True
    if reply.direct:
        data["direct"] = True
    if reply.buttons:
        data["buttons"] = [[b.label, b.command, b.style] for b in reply.buttons]
    if reader.zone or reader.lang:
        data["reader"] = [reader.zone, reader.lang]
    return msgspec.json.encode(data).decode()


def decode_payload(text: str) -> tuple[Reply, Reader]:
    data = msgspec.json.decode(text)
    parts: list[Part] = []
    for raw in data["parts"]:
        if raw[0] == "b":
            parts.append(Bullets(tuple(tuple(_dec_inline(p) for p in item) for item in raw[1])))
        else:
            parts.append(_dec_inline(raw))
    buttons = tuple(Button(label, cmd, style) for label, cmd, style in data.get("buttons", ()))
    reply = Reply(
        tuple(parts),
        private=bool(data.get("private", False)),
        direct=bool(data.get("direct", False)),
        buttons=buttons,
    )
    zone, lang = data.get("reader", (None, None))
    return reply, Reader(zone, lang)


# -- enqueueing ----------------------------------------------------------------------------


class Delivery(msgspec.Struct, frozen=True):
    """What to send and where: a ``room`` or a ``member``'s direct messages."""

    platform: str
    reply: Reply
    room: Room | None = None
    member: Member | None = None
    reader: Reader = _NOBODY
    kind: str = NOTIFICATION
    #: who caused it: told by DM if it finally fails
    owner_id: str | None = None
    #: groups deliveries of one cause, e.g. ``announcement:12``
    ref: str | None = None
    due_at: datetime | None = None
    #: not sent after this instant (it would be too late to matter)
    expires_at: datetime | None = None
    #: 0: the sender's :class:`RetryPolicy` decides
    max_attempts: int = 0

    def __post_init__(self) -> None:
        if (self.room is None) == (self.member is None):
            raise ValueError("a delivery goes to a room or to a member, not both")


DEFAULT_MAX_ATTEMPTS = 6


def delivery_row(d: Delivery, now: datetime, payload: str | None = None) -> dict[str, Any]:
    """The insert parameters for one delivery (``payload`` when already encoded)."""
    return {
        "platform": d.platform,
        "room_id": d.room.id if d.room is not None else None,
        "member_id": d.member.id if d.member is not None else None,
        "target_name": d.room.name if d.room is not None else d.member.display_name,  # type: ignore[union-attr]
        "payload": payload if payload is not None else encode_payload(d.reply, d.reader),
        "kind": d.kind,
        "ref": d.ref,
        "owner_id": d.owner_id,
        "state": PENDING,
        "attempts": 0,
        "max_attempts": d.max_attempts,
        "next_attempt_at": d.due_at or now,
        "expires_at": d.expires_at,
        "created_at": now,
        "updated_at": now,
    }


_INSERT_COLUMNS = (
    "platform",
    "room_id",
    "member_id",
    "target_name",
    "payload",
    "kind",
    "ref",
    "owner_id",
    "state",
    "attempts",
    "max_attempts",
    "next_attempt_at",
    "expires_at",
    "created_at",
    "updated_at",
)


_INSERT_TYPES = (
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "text",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "integer",
    "integer",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "timestamptz",
)
_ROW_VALUES = itemgetter(*_INSERT_COLUMNS)


def _insert_sql(paramstyle: str) -> str | None:
    names = ", ".join(_INSERT_COLUMNS)
    count = len(_INSERT_COLUMNS)
    if paramstyle == "numeric_dollar":  # asyncpg: one statement over column arrays
        arrays = ", ".join(f"${n}::{t}[]" for n, t in enumerate(_INSERT_TYPES, start=1))
        return f"INSERT INTO outbox ({names}) SELECT * FROM unnest({arrays})"
    if paramstyle == "qmark":  # sqlite3: executemany, in-process and fast
        return f"INSERT INTO outbox ({names}) VALUES ({', '.join('?' * count)})"
    return None


def dm_rows(
    platform: str,
    targets: Sequence[tuple[str, str, str]],
    now: datetime,
    *,
    kind: str,
    ref: str | None = None,
    owner_id: str | None = None,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Insert parameters for many DMs at once: ``targets`` are (member id, display name,
    encoded payload) — the fan-out path, with no per-row objects besides the dict."""
    base = delivery_row(
        Delivery(
            platform,
            Reply(()),
            member=Member("", platform, ""),
            kind=kind,
            ref=ref,
            owner_id=owner_id,
            due_at=due_at,
            expires_at=expires_at,
        ),
        now,
        payload="",
    )
    rows = []
    for member_id, name, payload in targets:
        row = base.copy()
        row["member_id"] = member_id
        row["target_name"] = name
        row["payload"] = payload
        rows.append(row)
    return rows


async def insert_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One batched insert of prepared rows (:func:`delivery_row`), in the caller's transaction.

    Sent straight to the driver: on PostgreSQL (asyncpg) a binary ``COPY`` on the session's
    connection, inside its transaction; on SQLite one ``executemany``.  SQLAlchemy's
    per-value type processing would cost more than the insert itself for a fan-out of
    thousands of rows, so values go through
    the columns' own bind processors here, once per distinct datetime (the rows of a batch
    share them): what is stored is exactly what the ORM would store.
    """
    if not rows:
        return
    conn = await session.connection()
    dialect = conn.dialect
    sql = _insert_sql(dialect.paramstyle)
    if sql is None:  # another driver: the portable path
        await session.execute(insert(OUTBOX), list(rows))
        return
    procs = [OUTBOX.c[name].type._cached_bind_processor(dialect) for name in _INSERT_COLUMNS]
    timed = [i for i, proc in enumerate(procs) if proc is not None]
    cache: dict[tuple[int, Any], Any] = {}
    values: list[tuple[Any, ...]] = []
    for row in rows:
        found = _ROW_VALUES(row)
        if timed:
            changed = list(found)
            for i in timed:
                value = changed[i]
                if value is not None:
                    key = (i, value)
                    done = cache.get(key)
                    if done is None:
                        done = cache[key] = procs[i](value)  # type: ignore[misc]
                    changed[i] = done
            found = tuple(changed)
        values.append(found)
    if dialect.paramstyle != "numeric_dollar":
        await conn.exec_driver_sql(sql, values)
        return
    driver: Any = (await conn.get_raw_connection()).driver_connection
    copy = getattr(driver, "copy_records_to_table", None)
    if copy is None:
        await conn.exec_driver_sql(sql, tuple(list(column) for column in zip(*values, strict=True)))
        return
    if not driver.is_in_transaction():  # SQLAlchemy begins lazily, at the first statement
        await conn.exec_driver_sql("SELECT 1")
    await copy("outbox", records=values, columns=_INSERT_COLUMNS)


async def enqueue(session: AsyncSession, deliveries: Sequence[Delivery], now: datetime) -> int:
    """Queue deliveries in the caller's transaction (one batched insert); returns how many.

    Nothing is sent unless the caller's transaction commits.  Call
    :meth:`Outbox.wake_after_commit` (or use :meth:`Outbox.enqueue`) to have a local sender
    start at once rather than at its next poll.
    """
    await insert_rows(session, [delivery_row(d, now) for d in deliveries])
    return len(deliveries)


# -- sending -------------------------------------------------------------------------------


class RetryPolicy(msgspec.Struct, frozen=True):
    """Exponential back-off: ``base * factor**(attempt-1)`` seconds, capped, ± jitter."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base: float = 5.0
    factor: float = 3.0
    cap: float = 3600.0
    jitter: float = 0.25

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.cap, self.base * self.factor ** max(attempt - 1, 0))
        return raw * (1.0 + rng.uniform(-self.jitter, self.jitter))


class OutboxSettings(msgspec.Struct, frozen=True):
    batch: int = 100
    lease: float = 60.0
    poll_interval: float = 30.0
    concurrency: int = 8
    #: at shutdown, seconds to let the round in progress record what it sent
    shutdown_grace: float = 10.0
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    rates: Mapping[str, tuple[float, float]] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_RATES)
    )


class Claimed(msgspec.Struct, frozen=True):
    """A claimed row, as returned by the claim statement."""

    id: int
    platform: str
    room_id: str | None
    member_id: str | None
    target_name: str
    payload: str
    kind: str
    ref: str | None
    owner_id: str | None
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    expires_at: datetime | None
    created_at: datetime


_CLAIM_COLUMNS = [OUTBOX.c[name] for name in Claimed.__struct_fields__]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _claimed(row: Row[Any]) -> Claimed:
    return Claimed(**row._mapping)


class Outcome(msgspec.Struct, frozen=True):
    row: Claimed
    sent: Sent | None = None
    error: str | None = None
    permanent: bool = False


class Outbox:
    """The sender: claims due deliveries, sends them, records what happened."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, Adapter],
        *,
        clock: Clock | None = None,
        settings: OutboxSettings | None = None,
        instance: str | None = None,
        sleep: Sleep = wait_for_event,
        rng: random.Random | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        self.adapters = adapters
        #: whether this instance runs the platform's connection now (several instances on
        #: PostgreSQL: only the lease holder sends); ``None``: every adapter present
        self.owns = owns
        #: called with the seconds from due to posted for each sent row (metrics)
        self.on_sent: Callable[[float], None] | None = None
        self.clock: Clock = clock or db.clock
        self.settings = settings or OutboxSettings()
        self.instance = instance or instance_name()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.work = asyncio.Event()
        self._buckets = {
            platform: TokenBuckets(rate, burst, self.clock)
            for platform, (rate, burst) in self.settings.rates.items()
        }
        self.sent_count = 0
        self.failed_count = 0

    # -- enqueueing ----------------------------------------------------------------------

    def wake(self) -> None:
        """Something may be due: look now instead of at the next poll."""
        self.work.set()

    def wake_after_commit(self, session: AsyncSession) -> None:
        sa_event.listen(session.sync_session, "after_commit", lambda _s: self.wake(), once=True)

    async def enqueue(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> int:
        """:func:`enqueue` in the caller's transaction, waking this sender once it commits."""
        count = await enqueue(session, deliveries, self.clock.now())
        self.wake_after_commit(session)
        return count

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled."""
        await self.recover()
        while True:
            self.work.clear()
            try:
                handled = await self._round()
                if handled:
                    await asyncio.sleep(0)  # let the adapters and commands breathe
                    continue
                delay = await self.idle_delay()
            except Exception:
                log.exception("outbox_round_failed", instance=self.instance)
                delay = self.settings.retry.base
            await self.sleep(self.work, delay)

    async def _round(self) -> int:
        """:meth:`run_once`, finished even when the bot stops meanwhile: a message already
        posted is recorded as sent rather than left in doubt (within ``shutdown_grace``)."""
        task = asyncio.ensure_future(self.run_once())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            done, _ = await asyncio.wait({task}, timeout=self.settings.shutdown_grace)
            if not done:
                task.cancel()
            raise

    async def recover(self) -> None:
        """At start-up on SQLite (one process), release the claims of the dead process."""
        if not self.db.is_sqlite:
            return
        async with self.db.session() as session:
            await session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.state.in_((CLAIMED, SENDING)))
                .values(lease_until=_EPOCH)
            )

    async def run_once(self) -> int:
        """One round: claim what is due on each platform and send it; returns rows handled."""
        handled = 0
        for platform, adapter in self.adapters.items():
            if self.owns is not None and not self.owns(platform):
                continue
            allowance = self._allowance(platform)
            if allowance <= 0:
                continue
            if is_idempotent(adapter):
                rows = await self._claim(platform, min(allowance, self.settings.batch), CLAIMED)
                if rows:
                    self._spend(platform, len(rows))
                    outcomes = await self._send_all(adapter, rows)
                    await self._record(outcomes, CLAIMED)
            else:
                rows = await self._claim(platform, 1, SENDING)
                if rows:
                    self._spend(platform, 1)
                    outcomes = [await self._send_one(adapter, rows[0])]
                    await self._record(outcomes, SENDING)
            handled += len(rows)
        return handled

    async def idle_delay(self) -> float:
        """Seconds until something may be due (capped by the poll interval)."""
        now = self.clock.now()
        await self._settle_in_doubt(now)
        platforms = [p for p in self.adapters if self.owns is None or self.owns(p)]
        delay = self.settings.poll_interval
        async with self.db.sessions() as session:
            pending = (
                await session.execute(
                    select(OUTBOX.c.platform, func.min(OUTBOX.c.next_attempt_at))
                    .where(OUTBOX.c.state == PENDING, OUTBOX.c.platform.in_(platforms))
                    .group_by(OUTBOX.c.platform)
                )
            ).all()
            leased = (
                await session.execute(
                    select(OUTBOX.c.platform, func.min(OUTBOX.c.lease_until))
                    .where(OUTBOX.c.state == CLAIMED, OUTBOX.c.platform.in_(platforms))
                    .group_by(OUTBOX.c.platform)
                )
            ).all()
        for platform, when in [*pending, *leased]:
            if when is None:
                continue
            when = _aware(when)
            wait = (when - now).total_seconds()
            wait = max(wait, self._token_wait(platform))
            delay = min(delay, max(wait, 0.0))
        return delay

    # -- rate limits ---------------------------------------------------------------------

    def _allowance(self, platform: str) -> int:
        buckets = self._buckets.get(platform)
        if buckets is None:
            return self.settings.batch
        return int(buckets.refill(platform, self.clock.monotonic()).tokens)

    def _spend(self, platform: str, count: int) -> None:
        buckets = self._buckets.get(platform)
        if buckets is not None:
            buckets.refill(platform, self.clock.monotonic()).tokens -= count

    def _token_wait(self, platform: str) -> float:
        buckets = self._buckets.get(platform)
        if buckets is None:
            return 0.0
        tokens = buckets.refill(platform, self.clock.monotonic()).tokens
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / buckets.rate

    # -- claiming ------------------------------------------------------------------------

    async def _claim(self, platform: str, limit: int, state: str) -> list[Claimed]:
        now = self.clock.now()
        due = or_(
            and_(OUTBOX.c.state == PENDING, OUTBOX.c.next_attempt_at <= now),
            and_(OUTBOX.c.state == CLAIMED, OUTBOX.c.lease_until < now),
        )
        ids = (
            select(OUTBOX.c.id)
            .where(OUTBOX.c.platform == platform, due)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids))
            .values(
                state=state,
                claimed_by=self.instance,
                lease_until=now + timedelta(seconds=self.settings.lease),
                attempts=OUTBOX.c.attempts + 1,
                updated_at=now,
            )
            .returning(*_CLAIM_COLUMNS)
        )
        async with self.db.session() as session:
            rows = [_claimed(r) for r in (await session.execute(stmt)).all()]
        rows.sort(key=lambda r: (r.next_attempt_at, r.id))
        return rows

    # -- sending -------------------------------------------------------------------------

    async def _send_all(self, adapter: Adapter, rows: list[Claimed]) -> list[Outcome]:
        limit = max(self.settings.concurrency, 1)
        if limit == 1 or len(rows) == 1:
            return [await self._send_one(adapter, row) for row in rows]
        gate = asyncio.Semaphore(limit)

        async def one(row: Claimed) -> Outcome:
            async with gate:
                return await self._send_one(adapter, row)

        return list(await asyncio.gather(*(one(row) for row in rows)))

    async def _send_one(self, adapter: Adapter, row: Claimed) -> Outcome:
        now = self.clock.now()
        if row.expires_at is not None and _aware(row.expires_at) < now:
            return Outcome(
                row, error="too late: it was due before the bot could send it", permanent=True
            )
        try:
            reply, reader = decode_payload(row.payload)
        except Exception as exc:  # a corrupt row must not block the others
            return Outcome(row, error=f"unreadable payload ({type(exc).__name__})", permanent=True)
        sent_at = _aware(row.created_at)
        delivery_id = f"outbox-{row.id}"
        try:
            if row.member_id is not None:
                member = Member(row.member_id, row.platform, row.target_name)
                room = Room(row.member_id, row.platform, f"DM {row.target_name}", is_direct=True)
                out = Outgoing(room, reply, reader, delivery_id=delivery_id, sent_at=sent_at)
                sent = await adapter.send_direct(member, out)
                if sent is None:
                    return Outcome(
                        row,
                        error="the member does not accept direct messages",
                        permanent=True,
                    )
            else:
                assert row.room_id is not None
                room = Room(row.room_id, row.platform, row.target_name)
                out = Outgoing(room, reply, reader, delivery_id=delivery_id, sent_at=sent_at)
                sent = await adapter.send(out)
                if sent is None:
                    return Outcome(
                        row, error="the platform did not accept the message", permanent=True
                    )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            text = str(exc).strip() or type(exc).__name__
            log.warning("outbox_send_failed", id=row.id, platform=row.platform, error=text[:200])
            return Outcome(row, error=text[:500])
        return Outcome(row, sent=sent)

    # -- recording -----------------------------------------------------------------------

    async def _record(self, outcomes: list[Outcome], claimed_state: str) -> None:
        now = self.clock.now()
        sent = [o for o in outcomes if o.sent is not None]
        failed = [o for o in outcomes if o.sent is None]
        guard = and_(OUTBOX.c.claimed_by == self.instance, OUTBOX.c.state == claimed_state)
        async with self.db.session() as session:
            if sent:
                await self._mark_sent(session, sent, claimed_state, now)
                self.sent_count += len(sent)
                if self.on_sent is not None:
                    for o in sent:
                        self.on_sent((now - _aware(o.row.next_attempt_at)).total_seconds())
            reports: list[dict[str, Any]] = []
            for o in failed:
                row = o.row
                retry_at: datetime | None = None
                limit = row.max_attempts or self.settings.retry.max_attempts
                if not o.permanent and row.attempts < limit:
                    retry_at = now + timedelta(
                        seconds=self.settings.retry.delay(row.attempts, self.rng)
                    )
                    if row.expires_at is not None and retry_at > _aware(row.expires_at):
                        retry_at = None
                if retry_at is not None:
                    await session.execute(
                        update(OUTBOX)
                        .where(OUTBOX.c.id == row.id, guard)
                        .values(
                            state=PENDING,
                            next_attempt_at=retry_at,
                            claimed_by=None,
                            lease_until=None,
                            last_error=o.error,
                            updated_at=now,
                        )
                    )
                    continue
                result = await session.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == row.id, guard)
                    .values(state=FAILED, lease_until=None, last_error=o.error, updated_at=now)
                )
                if getattr(result, "rowcount", 0) == 1:
                    self.failed_count += 1
                    log.warning(
                        "outbox_delivery_failed",
                        id=row.id,
                        platform=row.platform,
                        target=row.target_name,
                        attempts=row.attempts,
                        error=o.error,
                    )
                    report = failure_report(row, o.error or "unknown error", now)
                    if report is not None:
                        reports.append(report)
            await insert_rows(session, reports)
            if reports:
                self.wake_after_commit(session)

    async def _mark_sent(
        self, session: AsyncSession, sent: list[Outcome], claimed_state: str, now: datetime
    ) -> None:
        """One statement for the whole batch (guarded like every transition)."""
        ids = [o.row.id for o in sent]
        rooms = [o.sent.room_id if o.sent else None for o in sent]
        messages = [o.sent.message_id if o.sent else None for o in sent]
        if not self.db.is_sqlite:  # PostgreSQL: one UPDATE … FROM unnest(arrays)
            await session.execute(
                _MARK_SENT_PG,
                {
                    "ids": ids,
                    "rooms": rooms,
                    "msgs": messages,
                    "now": now,
                    "me": self.instance,
                    "claimed": claimed_state,
                    "sent": SENT,
                },
            )
            return
        await session.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id == bindparam("b_id"),
                OUTBOX.c.claimed_by == self.instance,
                OUTBOX.c.state == claimed_state,
            )
            .values(
                state=SENT,
                sent_room_id=bindparam("b_room"),
                message_id=bindparam("b_msg"),
                sent_at=now,
                lease_until=None,
                last_error=None,
                updated_at=now,
            ),
            [
                {"b_id": i, "b_room": r, "b_msg": m}
                for i, r, m in zip(ids, rooms, messages, strict=True)
            ],
        )

    async def _settle_in_doubt(self, now: datetime) -> None:
        """Rows left ``sending`` by a dead process: maybe posted, so never re-sent; reported."""
        platforms = [p for p, a in self.adapters.items() if not is_idempotent(a)]
        if not platforms:
            return
        error = "in doubt: the bot stopped while sending it; it may or may not have been posted"
        async with self.db.session() as session:
            result = await session.execute(
                update(OUTBOX)
                .where(
                    OUTBOX.c.platform.in_(platforms),
                    OUTBOX.c.state == SENDING,
                    OUTBOX.c.lease_until < now,
                )
                .values(state=FAILED, lease_until=None, last_error=error, updated_at=now)
                .returning(*_CLAIM_COLUMNS)
            )
            rows = [_claimed(r) for r in result.all()]
            reports = [r for r in (failure_report(row, error, now) for row in rows) if r]
            await insert_rows(session, reports)
        for row in rows:
            log.warning("outbox_in_doubt", id=row.id, platform=row.platform, target=row.target_name)
        if reports:
            self.wake()


_MARK_SENT_PG = text(
    """
    UPDATE outbox AS o
    SET state = :sent, sent_room_id = v.room, message_id = v.msg, sent_at = :now,
        lease_until = NULL, last_error = NULL, updated_at = :now
    FROM unnest(CAST(:ids AS integer[]), CAST(:rooms AS varchar[]), CAST(:msgs AS varchar[]))
        AS v(id, room, msg)
    WHERE o.id = v.id AND o.claimed_by = :me AND o.state = :claimed
    """
).bindparams(bindparam("now", type_=UtcDateTime()))


def failure_report(row: Claimed, error: str, now: datetime) -> dict[str, Any] | None:
    """The DM telling the owner a delivery failed for good (none for notifications)."""
    if row.owner_id is None or row.kind == NOTIFICATION:
        return None
    platform, _, native = row.owner_id.partition(":")
    what = {ANNOUNCEMENT: "announcement", REMINDER: "reminder"}.get(row.kind, row.kind)
    number = f" #{row.ref.rpartition(':')[2]}" if row.ref else ""
    where = "to " + row.target_name if row.member_id else "in " + row.target_name
    reply = Reply.of(
        f"I couldn't post your {what}{number} ",
        Plain(where),
        f" ({row.platform}) after {row.attempts} attempt{'s' if row.attempts != 1 else ''}: ",
        Plain(error),
    )
    owner = Member(row.owner_id, platform, native)
    return delivery_row(
        Delivery(platform, reply, member=owner, kind=NOTIFICATION, ref=row.ref), now
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def outbox_of(bot: Host) -> Outbox:
    """The bot's sender, created (and added as a worker) on first use."""
    found = bot.services.get("outbox")
    if isinstance(found, Outbox):
        return found
    box = bot.config.outbox
    rates = dict(DEFAULT_RATES)
    rates.update({k: (float(v[0]), float(v[1])) for k, v in box.rates.items()})
    settings = OutboxSettings(
        batch=box.batch,
        lease=box.lease_seconds,
        shutdown_grace=box.shutdown_grace,
        retry=RetryPolicy(max_attempts=box.max_attempts),
        rates=rates,
    )
    outbox = Outbox(
        bot.db,
        bot.adapters,
        clock=bot.clock,
        settings=settings,
        instance=bot.instance,
        owns=bot.owns_connection,
    )
    bot.services["outbox"] = outbox
    bot.add_worker("outbox", outbox.run)
    return outbox
