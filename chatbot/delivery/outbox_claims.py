"""The outbox's row transitions: claim due rows, then record each outcome, guarded.

Every statement that moves a row between states is here, so the exactly-once rules can be
checked in one place: a claim is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED) RETURNING …`` (:func:`claim_due`), and every later transition is guarded by
``claimed_by`` and ``state`` (:func:`mark_sent`, :func:`mark_for_retry`, :func:`mark_failed`,
:func:`fail_in_doubt`), so an instance that lost its lease never overwrites the outcome the
instance that took the row over recorded.  When to retry is :func:`retry_time`; the DM telling
an owner that a delivery failed for good is :func:`failure_report`.  The sender that calls
these, and the reasons behind them, are in :mod:`chatbot.delivery.outbox`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import and_, bindparam, func, or_, select, text, update

from chatbot.base.i18n import N_, Msg, _, _n
from chatbot.delivery.outbox_policy import RetryPolicy
from chatbot.delivery.outbox_rows import (
    CLAIMED,
    FAILED,
    NOTIFICATION,
    OUTBOX,
    PENDING,
    REMINDER,
    SENDING,
    SENT,
    Delivery,
    aware,
    delivery_row,
)
from chatbot.messages.events import Member, Plain, Reply
from chatbot.storage.models import UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.engine import Row
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.elements import ColumnElement

    from chatbot.dispatch.adapter import Sent


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


class Outcome(msgspec.Struct, frozen=True):
    """What sending a claimed row came to: ``sent``, or an ``error`` (``permanent``: no retry)."""

    row: Claimed
    sent: Sent | None = None
    error: str | None = None
    permanent: bool = False


CLAIM_COLUMNS = [OUTBOX.c[name] for name in Claimed.__struct_fields__]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _claimed(row: Row[Any]) -> Claimed:
    return Claimed(**row._mapping)


def _guard(instance: str, claimed_state: str) -> ColumnElement[bool]:
    """Only the instance holding the claim, and only while the row is still in that state."""
    return and_(OUTBOX.c.claimed_by == instance, OUTBOX.c.state == claimed_state)


async def claim_due(
    session: AsyncSession,
    platform: str,
    limit: int,
    state: str,
    *,
    instance: str,
    now: datetime,
    lease: float,
) -> list[Claimed]:
    """Claim up to ``limit`` due rows of ``platform`` (pending and due, or claimed with a lease
    that ran out) for ``instance``, putting them in ``state``; oldest due first."""
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
            claimed_by=instance,
            lease_until=now + timedelta(seconds=lease),
            attempts=OUTBOX.c.attempts + 1,
            updated_at=now,
        )
        .returning(*CLAIM_COLUMNS)
    )
    rows = [_claimed(r) for r in (await session.execute(stmt)).all()]
    rows.sort(key=lambda r: (r.next_attempt_at, r.id))
    return rows


async def release_all_claims(session: AsyncSession) -> None:
    """Make every claimed or sending row's lease run out (SQLite at start-up: a dead process's)."""
    await session.execute(
        update(OUTBOX).where(OUTBOX.c.state.in_((CLAIMED, SENDING))).values(lease_until=_EPOCH)
    )


async def next_due_times(
    session: AsyncSession, platforms: Sequence[str]
) -> list[tuple[str, datetime | None]]:
    """Per platform, the earliest pending row's due time and the earliest claim's lease end."""
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
    return [(platform, when) for platform, when in [*pending, *leased]]


async def mark_sent(
    session: AsyncSession,
    sent: list[Outcome],
    *,
    instance: str,
    claimed_state: str,
    now: datetime,
    is_sqlite: bool,
) -> None:
    """One statement for the whole batch (guarded like every transition)."""
    ids = [o.row.id for o in sent]
    rooms = [o.sent.room_id if o.sent else None for o in sent]
    messages = [o.sent.message_id if o.sent else None for o in sent]
    if not is_sqlite:  # PostgreSQL: one UPDATE … FROM unnest(arrays)
        await session.execute(
            _MARK_SENT_PG,
            {
                "ids": ids,
                "rooms": rooms,
                "msgs": messages,
                "now": now,
                "me": instance,
                "claimed": claimed_state,
                "sent": SENT,
            },
        )
        return
    await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id == bindparam("b_id"),
            OUTBOX.c.claimed_by == instance,
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


def retry_time(
    outcome: Outcome, now: datetime, policy: RetryPolicy, rng: random.Random
) -> datetime | None:
    """When to try a failed row again, or None: a permanent error, no attempts left, or a
    retry that would come after the row expires."""
    row = outcome.row
    retry_at: datetime | None = None
    limit = row.max_attempts or policy.max_attempts
    if not outcome.permanent and row.attempts < limit:
        retry_at = now + timedelta(seconds=policy.delay(row.attempts, rng))
        if row.expires_at is not None and retry_at > aware(row.expires_at):
            retry_at = None
    return retry_at


async def mark_for_retry(
    session: AsyncSession,
    outcome: Outcome,
    retry_at: datetime,
    *,
    instance: str,
    claimed_state: str,
    now: datetime,
) -> None:
    """Back to ``pending`` until ``retry_at``, the error kept (guarded)."""
    await session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outcome.row.id, _guard(instance, claimed_state))
        .values(
            state=PENDING,
            next_attempt_at=retry_at,
            claimed_by=None,
            lease_until=None,
            last_error=outcome.error,
            updated_at=now,
        )
    )


async def mark_failed(
    session: AsyncSession, outcome: Outcome, *, instance: str, claimed_state: str, now: datetime
) -> bool:
    """``failed`` for good (guarded); whether this call made it so (then report it, once)."""
    result = await session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outcome.row.id, _guard(instance, claimed_state))
        .values(state=FAILED, lease_until=None, last_error=outcome.error, updated_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def fail_in_doubt(
    session: AsyncSession, platforms: Sequence[str], now: datetime, error: str
) -> list[Claimed]:
    """Rows left ``sending`` past their lease (a dead process: maybe posted) set ``failed``."""
    result = await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.platform.in_(platforms),
            OUTBOX.c.state == SENDING,
            OUTBOX.c.lease_until < now,
        )
        .values(state=FAILED, lease_until=None, last_error=error, updated_at=now)
        .returning(*CLAIM_COLUMNS)
    )
    return [_claimed(r) for r in result.all()]


#: the reasons the outbox itself gives for a failure: kept in English in ``last_error`` (for
#: the operator), translated in the report to the owner; other errors are the platform's own
TOO_LATE = N_("too late: it was due before the bot could send it")
NO_DMS = N_("the member does not accept direct messages")
NOT_ACCEPTED = N_("the platform did not accept the message")
IN_DOUBT = N_("in doubt: the bot stopped while sending it; it may or may not have been posted")
_REASONS = frozenset({TOO_LATE, NO_DMS, NOT_ACCEPTED, IN_DOUBT})


def failure_report(row: Claimed, error: str, now: datetime) -> dict[str, Any] | None:
    """The DM telling the owner a delivery failed for good (none for notifications)."""
    if row.owner_id is None or row.kind == NOTIFICATION:
        return None
    platform, _sep, native = row.owner_id.partition(":")
    number = f" #{row.ref.rpartition(':')[2]}" if row.ref else ""
    args = {"number": number, "target": Plain(row.target_name), "platform": row.platform}
    reason: Msg | Plain = _(error) if error in _REASONS else Plain(error)
    args["error"] = reason
    n = row.attempts
    # one whole sentence per kind and place (a member's DM, a room), for word order
    if row.kind == REMINDER and row.member_id:
        said = _n(
            "I couldn't post your reminder{number} to {target} ({platform}) after {n} "
            "attempt: {error}",
            "I couldn't post your reminder{number} to {target} ({platform}) after {n} "
            "attempts: {error}",
            n,
            **args,
        )
    elif row.kind == REMINDER:
        said = _n(
            "I couldn't post your reminder{number} in {target} ({platform}) after {n} "
            "attempt: {error}",
            "I couldn't post your reminder{number} in {target} ({platform}) after {n} "
            "attempts: {error}",
            n,
            **args,
        )
    elif row.member_id:
        said = _n(
            "I couldn't post your announcement{number} to {target} ({platform}) after {n} "
            "attempt: {error}",
            "I couldn't post your announcement{number} to {target} ({platform}) after {n} "
            "attempts: {error}",
            n,
            **args,
        )
    else:
        said = _n(
            "I couldn't post your announcement{number} in {target} ({platform}) after {n} "
            "attempt: {error}",
            "I couldn't post your announcement{number} in {target} ({platform}) after {n} "
            "attempts: {error}",
            n,
            **args,
        )
    reply = Reply.of(said)
    owner = Member(row.owner_id, platform, native)
    return delivery_row(
        Delivery(platform, reply, member=owner, kind=NOTIFICATION, ref=row.ref), now
    )
