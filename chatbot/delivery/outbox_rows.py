"""An outbox row: the table, its states and kinds, and how deliveries are written to it.

A :class:`Delivery` (what to post, where, on whose behalf) becomes one row
(:func:`delivery_row`; :func:`dm_rows` for a fan-out), written by one batched insert in the
caller's transaction (:func:`enqueue`, :func:`insert_rows`), so that a message is queued if and
only if the decision to send it commits.  The states and kinds here are also what status,
cancel and retract queries (``commands/announce.py``) filter on; the sender that moves rows
between states is :class:`chatbot.delivery.outbox.Outbox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import Table, insert

from chatbot.delivery.outbox_payload import NO_READER, encode_payload
from chatbot.messages.events import Member, Reader, Reply, Room
from chatbot.storage.delivery import OutboxRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

OUTBOX = cast(Table, OutboxRow.__table__)

# A row's state: pending → claimed (or sending) → sent or failed; cancelled: dropped unsent.
PENDING = "pending"
CLAIMED = "claimed"
SENDING = "sending"  # non-idempotent adapters: committed right before the send
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"

# What a row is (failure reports name it; notifications are not reported).
ANNOUNCEMENT = "announcement"
REMINDER = "reminder"
NOTIFICATION = "notification"


class Delivery(msgspec.Struct, frozen=True):
    """What to send and where: a ``room`` or a ``member``'s direct messages."""

    platform: str
    reply: Reply
    room: Room | None = None
    member: Member | None = None
    reader: Reader = NO_READER
    kind: str = NOTIFICATION
    #: who caused it: told by DM if it finally fails
    owner_id: str | None = None
    #: groups deliveries of one cause, e.g. ``announcement:12``
    ref: str | None = None
    due_at: datetime | None = None
    #: not sent after this instant (it would be too late to matter)
    expires_at: datetime | None = None
    #: 0: the sender's :class:`~chatbot.delivery.outbox_policy.RetryPolicy` decides
    max_attempts: int = 0

    def __post_init__(self) -> None:
        if (self.room is None) == (self.member is None):
            raise ValueError("a delivery goes to a room or to a member, not both")


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


def aware(value: datetime) -> datetime:
    """A time read back from a row; SQLite gives it back naive, and it is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
