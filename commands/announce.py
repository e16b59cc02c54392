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
from chatbot.base.i18n import Msg, _, _n, _p, verbatim
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
from chatbot.dispatch.context import Context, room_reader
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import Bullets, Inline, Plain, Reply, Room, When
from chatbot.storage.delivery import AnnouncementRow, BroadcastRoomRow, OutboxRow

if TYPE_CHECKING:
    from chatbot.dispatch.host import Host

module = Module("announce", _("Organisers' announcements to every broadcast room."))
announce = module.group("announce", _("Send an announcement to every broadcast room."))

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


def _state(state: str) -> Msg:
    """An announcement's state, as a word in the reader's language."""
    if state == DRAFT:
        return _p("announcement", "draft")
    if state == CONFIRMED:
        return _p("announcement", "confirmed")
    if state == CANCELLED:
        return _p("announcement", "cancelled")
    if state == RETRACTED:
        return _p("announcement", "retracted")
    return verbatim(state)  # a state a later version added


def _tally(state: str, n: int) -> Msg:
    """How many of an announcement's posts are in one outbox state ("3 sent")."""
    if state == PENDING:
        return _n("{n} pending", "{n} pending", n)
    if state == CLAIMED:
        return _n("{n} claimed", "{n} claimed", n)
    if state == SENDING:
        return _n("{n} sending", "{n} sending", n)
    if state == SENT:
        return _n("{n} sent", "{n} sent", n)
    if state == FAILED:
        return _n("{n} failed", "{n} failed", n)
    if state == CANCELLED:
        return _n("{n} cancelled", "{n} cancelled", n)
    if state == RETRACTED:
        return _n("{n} retracted", "{n} retracted", n)
    return verbatim("{n} {state}", n=n, state=state)


async def _get(ctx: Context, number: int) -> AnnouncementRow:
    async with ctx.db.sessions() as session:
        row = await session.get(AnnouncementRow, number)
    if row is None:
        raise UserError(_("There is no announcement #{number}.", number=str(number)))
    return row


@announce.command(
    default=True,
    help=_("Preview an announcement to every broadcast room (add `--at <when>` to schedule it)."),
    level=Level.ORGANISER,
    examples=[
        verbatim(
            "announce {text}",
            text=_p(
                "an announcement in a command example",
                "The December call is on Friday at 15:00 UTC!",
            ),
        ),
        verbatim(
            "announce {text} --at {at} UTC",
            text=_p("an announcement in a command example", "Call starts in 10 minutes"),
            at=_p(
                "date in a command example: write it as the bot reads it in your language",
                "friday 14:50",
            ),
        ),
    ],
    params={"text": _("the message; end with `--at <when>` to send it later")},
)
async def draft(ctx: Context, text: str) -> Reply:
    message, phrase = split_at(text)
    prefix = ctx.prefix
    if not message:
        raise UserError(_("The announcement is empty: write its text after the command."))
    if len(message) > MAX_LENGTH:
        raise UserError(
            _(
                "That is {length} characters; an announcement can have {limit}.",
                length=str(len(message)),
                limit=str(MAX_LENGTH),
            )
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
                _(
                    "There are no broadcast rooms yet. Add this room with "
                    "`{prefix}announce rooms add here`.",
                    prefix=prefix,
                )
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
    ref = str(number)
    head = (
        _(
            "**Preview of announcement #{number}**, to be posted at {when}:",
            number=ref,
            when=When(due),
        )
        if due
        else _("**Preview of announcement #{number}**, to be posted now:", number=ref)
    )
    parts: list[Inline | Bullets] = [
        head,
        "\n",
        Plain(cleaned),
        "\n\n",
        _n("It will go to {n} room:", "It will go to {n} rooms:", len(rooms)),
        "\n",
        Bullets(tuple((_room_item(r.name, r.platform, ctx),) for r in rooms)),
    ]
    if had_pings:
        parts += [
            _("Mass pings (@everyone, @here, @room) are removed: I never ping everyone."),
            "\n",
        ]
    parts.append(
        _(
            "To send it, type `{prefix}announce confirm {number}`; "
            "to drop it, `{prefix}announce cancel {number}`.",
            prefix=prefix,
            number=ref,
        )
    )
    return Reply.of(*parts)


def _room_item(name: str, platform: str, ctx: Context) -> Inline:
    room = Plain(f"{name} ({platform})")
    if platform in ctx.adapters:
        return room
    return _("{room} — not connected here", room=room)


@announce.command(
    help=_("Send (or schedule) an announcement you previewed."),
    level=Level.ORGANISER,
    examples=["announce confirm 3"],
    params={"number": _("the number shown in the preview")},
)
async def confirm(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    prefix = ctx.prefix
    now = ctx.now()
    ref = str(number)
    if row.created_by != ctx.member.key:
        raise UserError(
            _("Announcement #{number} is someone else's draft: preview your own.", number=ref)
        )
    if row.state != DRAFT:
        raise UserError(
            _("Announcement #{number} is already {state}.", number=ref, state=_state(row.state))
        )
    if now - row.created_at > DRAFT_LIFETIME:
        raise UserError(_("The preview of #{number} is too old: preview it again.", number=ref))
    if row.due_at is not None and row.due_at <= now:
        raise UserError(
            _(
                "The time set for #{number} has passed: preview it again with a new time.",
                number=ref,
            )
        )
    rooms = _rooms_of(row)
    due = row.due_at or now
    deliveries = [
        Delivery(
            room.platform,
            Reply.of(Plain(row.text)),
            room=room,
            reader=room_reader(ctx.config, room.id),
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
            raise UserError(_("Announcement #{number} was confirmed meanwhile.", number=ref))
        await outbox.enqueue(session, deliveries)
    if row.due_at is not None:
        return Reply.of(
            _n(
                "Announcement #{number} is scheduled for {when} in {n} room. "
                "`{prefix}announce cancel {number}` stops it before then.",
                "Announcement #{number} is scheduled for {when} in {n} rooms. "
                "`{prefix}announce cancel {number}` stops it before then.",
                len(rooms),
                number=ref,
                when=When(row.due_at),
                prefix=prefix,
            )
        )
    return Reply.of(
        _n(
            "Announcement #{number} is on its way to {n} room. "
            "`{prefix}announce status {number}` shows where it has been posted.",
            "Announcement #{number} is on its way to {n} rooms. "
            "`{prefix}announce status {number}` shows where it has been posted.",
            len(rooms),
            number=ref,
            prefix=prefix,
        )
    )


def _row_state(row: OutboxRow, now: datetime) -> Msg:
    if row.state == PENDING:
        if row.attempts == 0 and row.next_attempt_at > now:
            return _("scheduled for {when}", when=When(row.next_attempt_at))
        if row.attempts:
            return _(
                "retrying at {when} (last error: {error})",
                when=When(row.next_attempt_at),
                error=Plain(row.last_error or "?"),
            )
        return _("queued")
    if row.state in (CLAIMED, SENDING):
        return _("being sent")
    if row.state == SENT:
        if row.sent_at is not None:
            return _("posted {when}", when=When(row.sent_at, "short"))
        return _("posted")
    if row.state == FAILED:
        if row.last_error:
            return _("not posted: {error}", error=Plain(row.last_error))
        return _("not posted: unknown error")
    if row.state == CANCELLED:
        return _p("post", "cancelled")
    if row.state == RETRACTED:
        return _p("post", "retracted")
    return verbatim(row.state)


async def _deliveries(ctx: Context, number: int) -> list[OutboxRow]:
    async with ctx.db.sessions() as session:
        found = await session.scalars(
            select(OutboxRow).where(OutboxRow.ref == _ref(number)).order_by(OutboxRow.id)
        )
        return list(found.all())


@announce.command(
    help=_("Where an announcement has been posted, room by room."),
    level=Level.ORGANISER,
    examples=["announce status 3"],
    params={"number": _("the announcement's number")},
)
async def status(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    rows = await _deliveries(ctx, number)
    now = ctx.now()
    head = _(
        "Announcement #{number} ({state}): {text}",
        number=str(number),
        state=_state(row.state),
        text=Plain(_excerpt(row.text)),
    )
    if not rows:
        rooms = ", ".join(r.name for r in _rooms_of(row))
        return Reply.of(
            head,
            "\n",
            _("Not sent to any room. Rooms in the preview: {rooms}", rooms=Plain(rooms)),
        )
    items = tuple(
        (
            _(
                "{room}: {state}",
                room=Plain(f"{r.target_name} ({r.platform})"),
                state=_row_state(r, now),
            ),
        )
        for r in rows
    )
    return Reply.of(head, "\n", Bullets(items))


@announce.command(
    name="list",
    help=_("The latest announcements and how far they got."),
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
        return Reply.of(_("No announcements yet."))
    items: list[tuple[Inline, ...]] = []
    for r in rows:
        tally = counts.get(_ref(r.id), {})
        text = Plain(_excerpt(r.text))
        line: list[Inline] = [
            _(
                "#{number} {state} for {when}: {text}",
                number=str(r.id),
                state=_state(r.state),
                when=When(r.due_at, "short"),
                text=text,
            )
            if r.due_at is not None
            else _("#{number} {state}: {text}", number=str(r.id), state=_state(r.state), text=text)
        ]
        for index, (state, n) in enumerate(sorted(tally.items())):
            line += [" (" if index == 0 else ", ", _tally(state, n)]
        if tally:
            line.append(")")
        items.append(tuple(line))
    return Reply.of(_("Latest announcements:"), "\n", Bullets(tuple(items)))


@announce.command(
    help=_("Stop an announcement (or a draft) before it goes out."),
    level=Level.ORGANISER,
    examples=["announce cancel 3"],
    params={"number": _("the announcement's number")},
)
async def cancel(ctx: Context, number: int) -> Reply:
    row = await _get(ctx, number)
    prefix = ctx.prefix
    now = ctx.now()
    ref = str(number)
    if row.state in (CANCELLED, RETRACTED):
        return Reply.of(
            _("Announcement #{number} is already {state}.", number=ref, state=_state(row.state))
        )
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
        return Reply.of(_("Draft #{number} dropped: nothing was sent.", number=ref))
    if not gone:
        return Reply.of(
            _("Announcement #{number} is cancelled: it was not posted anywhere.", number=ref)
        )
    return Reply.of(
        _(
            "Stopped #{number} in {rooms}; {posted} `{prefix}announce retract {number}` deletes "
            "the posted copies where the platform allows it.",
            number=ref,
            rooms=_n("{n} room", "{n} rooms", stopped_count),
            posted=_n(
                "{n} already had it (or were being sent).",
                "{n} already had it (or were being sent).",
                int(gone),
            ),
            prefix=prefix,
        )
    )


@announce.command(
    help=_("Delete an announcement's posted copies (where the platform allows it)."),
    level=Level.ORGANISER,
    examples=["announce retract 3"],
    params={"number": _("the announcement's number")},
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
    ref = str(number)
    parts: list[Inline] = [
        _n(
            "Announcement #{number}: removed from {n} room.",
            "Announcement #{number}: removed from {n} rooms.",
            len(done),
            number=ref,
        )
    ]
    if unsupported:
        where = Plain(", ".join(unsupported))
        parts += [" ", _("Can't be removed by me in: {rooms}.", rooms=where)]
    if failed:
        parts += [" ", _("Removing failed in: {rooms}.", rooms=Plain(", ".join(failed)))]
    if row.state == DRAFT:
        parts = [_("#{number} was only a draft; it is dropped.", number=ref)]
    return Reply.of(*parts)


@announce.command(
    help=_("The rooms announcements go to: `list`, `add here`, `add <room>`, `remove <room>`."),
    level=Level.ORGANISER,
    examples=["announce rooms", "announce rooms add here", "announce rooms remove here"],
    params={"action": _("`list`, `add` or `remove`"), "room": _("`here`, or a room id")},
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
                _(
                    "No broadcast rooms yet. Add this one with `{prefix}announce rooms add here`.",
                    prefix=prefix,
                )
            )
        items = tuple((Plain(f"{r.name} ({r.platform})"),) for r in found)
        return Reply.of(_("Announcements go to:"), "\n", Bullets(items))
    if action not in ("add", "remove"):
        raise UserError(
            _("Use `{prefix}announce rooms add here` or `… remove here`.", prefix=prefix)
        )
    target = _target_room(ctx, room)
    now = ctx.now()
    async with ctx.db.session() as session:
        existing = await session.get(BroadcastRoomRow, target.id)
        if action == "add":
            if existing is not None:
                return Reply.of(_("{room} is already a broadcast room.", room=Plain(target.name)))
            session.add(
                BroadcastRoomRow(
                    room_id=target.id,
                    platform=target.platform,
                    name=target.name,
                    added_by=ctx.member.key,
                    added_at=now,
                )
            )
            return Reply.of(_("Added {room} to the broadcast rooms.", room=Plain(target.name)))
        if existing is None:
            return Reply.of(_("{room} is not a broadcast room.", room=Plain(target.name)))
        await session.delete(existing)
        return Reply.of(_("Removed {room} from the broadcast rooms.", room=Plain(existing.name)))


def _target_room(ctx: Context, text: str) -> Room:
    text = text.strip()
    if not text or text.casefold() == "here":
        if ctx.room.is_direct:
            raise UserError(
                _("A direct message can't be a broadcast room: ask in the room itself.")
            )
        return ctx.room
    platform = ctx.room.platform
    if text.split(":", 1)[0] in ctx.adapters and ":" in text:
        platform = text.split(":", 1)[0]
        native = text.split(":", 1)[1]
    else:
        native = text
    if len(native) > 200 or any(c.isspace() for c in native):
        raise UserError(_("That doesn't look like a room id."))
    return Room(f"{platform}:{native}", platform, native)


def _excerpt(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
