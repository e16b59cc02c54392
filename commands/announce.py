"""Organisers' broadcasts: ``!announce``, previewed, confirmed, delivered through the outbox.

``!announce <text>`` shows a preview listing the broadcast rooms it will reach and asks for
``!announce confirm N``.  Confirming writes the announcement's state and one outbox row per
room in one transaction; the outbox sender then posts them (retrying, rate-limited, each
exactly once on platforms with idempotency keys).  ``--at <when>`` schedules it, read in the
organiser's zone.  Text always travels as :class:`~chatbot.messages.events.Plain`, and mass pings
(``@everyone``, ``@here``, ``@room``) are removed: the bot never pings everyone on someone's
behalf.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import desc, func, select, update

from chatbot.base.errors import UserError
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import (
    ANNOUNCEMENT,
    CANCELLED,
    CLAIMED,
    FAILED,
    OUTBOX,
    PENDING,
    SENDING,
    SENT,
    Delivery,
)
from chatbot.delivery.scheduler import scheduler_of
from chatbot.dispatch.adapter import Sent
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import Bullets, Inline, Plain, Reply, Room, When
from chatbot.storage.delivery import AnnouncementRow, BroadcastRoomRow, OutboxRow

if TYPE_CHECKING:
    from chatbot.dispatch.host import Host

module = Module("announce", "Organisers' announcements to every broadcast room.")
announce = module.group("announce", "Send an announcement to every broadcast room.")

MAX_LENGTH = 4000
#: a confirmed announcement not posted within this time after it was due is not posted late
GRACE = timedelta(hours=6)
#: drafts older than this must be previewed again
DRAFT_LIFETIME = timedelta(days=1)
RETRACTED = "retracted"

DRAFT = "draft"
CONFIRMED = "confirmed"

_MASS_PING = re.compile(r"(?<![\w@])@(everyone|here|room|channel|all)\b", re.IGNORECASE)
_AT_START = re.compile(r"^--at\s+(?:\"([^\"]+)\"|'([^']+)'|(\S+))\s*(.*)$", re.DOTALL)


@module.on_startup
async def start_delivery(bot: Host) -> None:
    """The outbox sender and the scheduler run as the bot's workers."""
    outbox_of(bot)
    scheduler_of(bot)


def neutralise(text: str) -> tuple[str, bool]:
    """``@everyone`` → ``everyone`` (and @here, @room, @channel, @all); whether any was found."""
    cleaned, count = _MASS_PING.subn(r"\1", text)
    return cleaned, count > 0


def split_at(text: str) -> tuple[str, str | None]:
    """``"Hello --at friday 18h"`` or ``'--at "friday 18h" Hello'`` → (text, when phrase)."""
    text = text.strip()
    start = _AT_START.match(text)
    if start:
        phrase = start.group(1) or start.group(2) or start.group(3)
        return start.group(4).strip(), phrase
    head, sep, tail = text.rpartition(" --at ")
    if sep:
        return head.strip(), tail.strip()
    return text, None


def _rooms_json(rooms: list[BroadcastRoomRow]) -> str:
    return json.dumps([[r.room_id, r.platform, r.name] for r in rooms])


def _rooms_of(row: AnnouncementRow) -> list[Room]:
    return [Room(rid, platform, name) for rid, platform, name in json.loads(row.rooms)]


def _ref(number: int) -> str:
    return f"announcement:{number}"


async def _get(ctx: Context, number: int) -> AnnouncementRow:
    async with ctx.db.sessions() as session:
        row = await session.get(AnnouncementRow, number)
    if row is None:
        raise UserError(f"There is no announcement #{number}.")
    return row


@announce.command(
    default=True,
    help="Preview an announcement to every broadcast room (add --at <when> to schedule it).",
    level=Level.ORGANISER,
    examples=[
        "announce The December call is on Friday at 15:00 UTC!",
        "announce Call starts in 10 minutes --at friday 14:50 UTC",
    ],
    params={"text": "the message; end with --at <when> to send it later"},
)
async def draft(ctx: Context, text: str) -> Reply:
    message, phrase = split_at(text)
    prefix = ctx.prefix
    if not message:
        raise UserError("The announcement is empty: write its text after the command.")
    if len(message) > MAX_LENGTH:
        raise UserError(
            f"That is {len(message)} characters; an announcement can have {MAX_LENGTH}."
        )
    due: datetime | None = None
    if phrase is not None:
        from chatbot.time.parse import parse_when
        from chatbot.time.schedule_rules import check_schedulable

        prefs = await ctx.prefs()
        due = await parse_when(
            phrase,
            zone_key=prefs.zone,
            now=ctx.now(),
            date_order=ctx.config.time.date_order,
            lang=prefs.lang,
        )
        check_schedulable(due, ctx.now(), phrase, "announcement")
    cleaned, had_pings = neutralise(message)
    now = ctx.now()
    async with ctx.db.session() as session:
        rooms = list(
            (
                await session.scalars(select(BroadcastRoomRow).order_by(BroadcastRoomRow.room_id))
            ).all()
        )
        if not rooms:
            raise UserError(
                f"There are no broadcast rooms yet. Add this room with "
                f"`{prefix}announce rooms add here`.",
                markdown=True,
            )
        row = AnnouncementRow(
            text=cleaned,
            created_by=ctx.member.key,
            origin_room_id=ctx.room.id,
            rooms=_rooms_json(rooms),
            state=DRAFT,
            due_at=due,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        number = row.id
    when: list[Inline] = [" at ", When(due), ":"] if due else [" now:"]
    parts: list[Inline | Bullets] = [
        f"**Preview of announcement #{number}**, to be posted",
        *when,
        "\n",
        Plain(cleaned),
        f"\n\nIt will go to {len(rooms)} room{'s' if len(rooms) != 1 else ''}:\n",
        Bullets(
            tuple(
                (
                    Plain(f"{r.name} ({r.platform})"),
                    *(() if r.platform in ctx.adapters else (" — not connected here",)),
                )
                for r in rooms
            )
        ),
    ]
    if had_pings:
        parts.append("Mass pings (@everyone, @here, @room) are removed: I never ping everyone.\n")
    parts.append(
        f"To send it, type `{prefix}announce confirm {number}`; "
        f"to drop it, `{prefix}announce cancel {number}`."
    )
    return Reply.of(*parts)


@announce.command(
    help="Send (or schedule) an announcement you previewed.",
    level=Level.ORGANISER,
    examples=["announce confirm 3"],
    params={"number": "the number shown in the preview"},
)
async def confirm(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    prefix = ctx.prefix
    now = ctx.now()
    if row.created_by != ctx.member.key:
        raise UserError(f"Announcement #{number} is someone else's draft: preview your own.")
    if row.state != DRAFT:
        raise UserError(f"Announcement #{number} is already {row.state}.")
    if now - row.created_at > DRAFT_LIFETIME:
        raise UserError(f"The preview of #{number} is too old: preview it again.")
    if row.due_at is not None and row.due_at <= now:
        raise UserError(f"The time set for #{number} has passed: preview it again with a new time.")
    rooms = _rooms_of(row)
    due = row.due_at or now
    deliveries = [
        Delivery(
            room.platform,
            Reply.of(Plain(row.text)),
            room=room,
            kind=ANNOUNCEMENT,
            owner_id=row.created_by,
            ref=_ref(number),
            due_at=due,
            expires_at=due + GRACE,
        )
        for room in rooms
    ]
    outbox = outbox_of(ctx.host)
    async with ctx.db.session() as session:
        result = await session.execute(
            update(AnnouncementRow)
            .where(AnnouncementRow.id == number, AnnouncementRow.state == DRAFT)
            .values(state=CONFIRMED, confirmed_at=now)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise UserError(f"Announcement #{number} was confirmed meanwhile.")
        await outbox.enqueue(session, deliveries)
    count = f"{len(rooms)} room{'s' if len(rooms) != 1 else ''}"
    if row.due_at is not None:
        return Reply.of(
            f"Announcement #{number} is scheduled for ",
            When(row.due_at),
            f" in {count}. `{prefix}announce cancel {number}` stops it before then.",
        )
    return Reply.of(
        f"Announcement #{number} is on its way to {count}. "
        f"`{prefix}announce status {number}` shows where it has been posted."
    )


def _row_state(row: OutboxRow, now: datetime) -> list[Inline]:
    if row.state == PENDING:
        if row.attempts == 0 and row.next_attempt_at > now:
            return ["scheduled for ", When(row.next_attempt_at)]
        if row.attempts:
            return [
                "retrying at ",
                When(row.next_attempt_at),
                " (last error: ",
                Plain(row.last_error or "?"),
                ")",
            ]
        return ["queued"]
    if row.state in (CLAIMED, SENDING):
        return ["being sent"]
    if row.state == SENT:
        if row.sent_at is not None:
            return ["posted ", When(row.sent_at, "short")]
        return ["posted"]
    if row.state == FAILED:
        return ["not posted: ", Plain(row.last_error or "unknown error")]
    return [row.state]


async def _deliveries(ctx: Context, number: int) -> list[OutboxRow]:
    async with ctx.db.sessions() as session:
        found = await session.scalars(
            select(OutboxRow).where(OutboxRow.ref == _ref(number)).order_by(OutboxRow.id)
        )
        return list(found.all())


@announce.command(
    help="Where an announcement has been posted, room by room.",
    level=Level.ORGANISER,
    examples=["announce status 3"],
    params={"number": "the announcement's number"},
)
async def status(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    rows = await _deliveries(ctx, number)
    now = ctx.now()
    head: list[Inline] = [f"Announcement #{number} ({row.state}): ", Plain(_excerpt(row.text))]
    if not rows:
        rooms = ", ".join(r.name for r in _rooms_of(row))
        return Reply.of(*head, "\nNot sent to any room. Rooms in the preview: ", Plain(rooms))
    items = tuple(
        (Plain(f"{r.target_name} ({r.platform})"), ": ", *_row_state(r, now)) for r in rows
    )
    return Reply.of(*head, "\n", Bullets(items))


@announce.command(
    name="list",
    help="The latest announcements and how far they got.",
    level=Level.ORGANISER,
    examples=["announce list"],
)
async def list_(ctx: Context) -> Reply:
    async with ctx.db.sessions() as session:
        rows = list(
            (
                await session.scalars(
                    select(AnnouncementRow).order_by(desc(AnnouncementRow.id)).limit(10)
                )
            ).all()
        )
        refs = [_ref(r.id) for r in rows]
        counts: dict[str, dict[str, int]] = {}
        for ref, state, count in (
            await session.execute(
                select(OUTBOX.c.ref, OUTBOX.c.state, func.count())
                .where(OUTBOX.c.ref.in_(refs))
                .group_by(OUTBOX.c.ref, OUTBOX.c.state)
            )
        ).all():
            counts.setdefault(ref, {})[state] = count
    if not rows:
        return Reply.of("No announcements yet.")
    items: list[tuple[Inline, ...]] = []
    for r in rows:
        tally = counts.get(_ref(r.id), {})
        summary = ", ".join(f"{n} {s}" for s, n in sorted(tally.items()))
        line: list[Inline] = [f"#{r.id} {r.state}"]
        if r.due_at is not None:
            line += [" for ", When(r.due_at, "short")]
        line += [": ", Plain(_excerpt(r.text))]
        if summary:
            line.append(f" ({summary})")
        items.append(tuple(line))
    return Reply.of("Latest announcements:\n", Bullets(tuple(items)))


@announce.command(
    help="Stop an announcement (or a draft) before it goes out.",
    level=Level.ORGANISER,
    examples=["announce cancel 3"],
    params={"number": "the announcement's number"},
)
async def cancel(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    prefix = ctx.prefix
    now = ctx.now()
    if row.state in (CANCELLED, RETRACTED):
        return Reply.of(f"Announcement #{number} is already {row.state}.")
    async with ctx.db.session() as session:
        stopped = await session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.ref == _ref(number), OUTBOX.c.state == PENDING)
            .values(state=CANCELLED, updated_at=now)
        )
        stopped_count = int(getattr(stopped, "rowcount", 0) or 0)
        gone = await session.scalar(
            select(func.count())
            .select_from(OUTBOX)
            .where(OUTBOX.c.ref == _ref(number), OUTBOX.c.state.in_((CLAIMED, SENDING, SENT)))
        )
        if not gone:
            await session.execute(
                update(AnnouncementRow)
                .where(AnnouncementRow.id == number)
                .values(state=CANCELLED, closed_at=now)
            )
    if row.state == DRAFT:
        return Reply.of(f"Draft #{number} dropped: nothing was sent.")
    if not gone:
        return Reply.of(f"Announcement #{number} is cancelled: it was not posted anywhere.")
    return Reply.of(
        f"Stopped #{number} in {stopped_count} room{'s' if stopped_count != 1 else ''}; "
        f"{gone} already had it (or were being sent). "
        f"`{prefix}announce retract {number}` deletes the posted copies where the platform "
        "allows it."
    )


@announce.command(
    help="Delete an announcement's posted copies (where the platform allows it).",
    level=Level.ORGANISER,
    examples=["announce retract 3"],
    params={"number": "the announcement's number"},
)
async def retract(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    now = ctx.now()
    async with ctx.db.session() as session:
        await session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.ref == _ref(number), OUTBOX.c.state == PENDING)
            .values(state=CANCELLED, updated_at=now)
        )
    rows = [r for r in await _deliveries(ctx, number) if r.state == SENT]
    done: list[int] = []
    unsupported: list[str] = []
    failed: list[str] = []
    for r in rows:
        adapter = ctx.adapters.get(r.platform)
        method = getattr(adapter, "retract", None) if adapter is not None else None
        if method is None or not r.message_id or not r.sent_room_id:
            unsupported.append(r.target_name)
            continue
        try:
            ok = bool(await method(Sent(r.sent_room_id, r.message_id)))
        except Exception:
            ok = False
        if ok:
            done.append(r.id)
        else:
            failed.append(r.target_name)
    async with ctx.db.session() as session:
        if done:
            await session.execute(
                update(OUTBOX).where(OUTBOX.c.id.in_(done)).values(state=RETRACTED, updated_at=now)
            )
        await session.execute(
            update(AnnouncementRow)
            .where(AnnouncementRow.id == number)
            .values(state=RETRACTED, closed_at=now)
        )
    parts: list[Inline] = [
        f"Announcement #{number}: removed from {len(done)} room{'s' if len(done) != 1 else ''}."
    ]
    if unsupported:
        parts += [" Can't be removed by me in: ", Plain(", ".join(unsupported)), "."]
    if failed:
        parts += [" Removing failed in: ", Plain(", ".join(failed)), "."]
    if row.state == DRAFT:
        parts = [f"#{number} was only a draft; it is dropped."]
    return Reply.of(*parts)


@announce.command(
    help="The rooms announcements go to: list, `add here`, `add <room>`, `remove <room>`.",
    level=Level.ORGANISER,
    examples=["announce rooms", "announce rooms add here", "announce rooms remove here"],
    params={"action": "list, add or remove", "room": "here, or a room id"},
)
async def rooms(ctx: Context, action: str = "list", room: str = "") -> Reply:
    action = action.casefold()
    prefix = ctx.prefix
    if action == "list":
        async with ctx.db.sessions() as session:
            found = list(
                (
                    await session.scalars(
                        select(BroadcastRoomRow).order_by(BroadcastRoomRow.room_id)
                    )
                ).all()
            )
        if not found:
            return Reply.of(
                f"No broadcast rooms yet. Add this one with `{prefix}announce rooms add here`."
            )
        items = tuple((Plain(f"{r.name} ({r.platform})"),) for r in found)
        return Reply.of("Announcements go to:\n", Bullets(items))
    if action not in ("add", "remove"):
        raise UserError(f"Use `{prefix}announce rooms add here` or `… remove here`.", markdown=True)
    target = _target_room(ctx, room)
    now = ctx.now()
    async with ctx.db.session() as session:
        existing = await session.get(BroadcastRoomRow, target.id)
        if action == "add":
            if existing is not None:
                return Reply.of(Plain(target.name), " is already a broadcast room.")
            session.add(
                BroadcastRoomRow(
                    room_id=target.id,
                    platform=target.platform,
                    name=target.name,
                    added_by=ctx.member.key,
                    added_at=now,
                )
            )
            return Reply.of("Added ", Plain(target.name), " to the broadcast rooms.")
        if existing is None:
            return Reply.of(Plain(target.name), " is not a broadcast room.")
        await session.delete(existing)
        return Reply.of("Removed ", Plain(existing.name), " from the broadcast rooms.")


def _target_room(ctx: Context, text: str) -> Room:
    text = text.strip()
    if not text or text.casefold() == "here":
        if ctx.room.is_direct:
            raise UserError("A direct message can't be a broadcast room: ask in the room itself.")
        return ctx.room
    platform = ctx.room.platform
    if text.split(":", 1)[0] in ctx.adapters and ":" in text:
        platform = text.split(":", 1)[0]
        native = text.split(":", 1)[1]
    else:
        native = text
    if len(native) > 200 or any(c.isspace() for c in native):
        raise UserError("That doesn't look like a room id.")
    return Room(f"{platform}:{native}", platform, native)


def _excerpt(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
