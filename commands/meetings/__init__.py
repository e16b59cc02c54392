"""Meetings in every member's time zone: ``!meeting add``, ``!meetings``, ``!rsvp``, reminders.

Organisers add a meeting (or a series) with a date phrase read in their own zone unless the
phrase names one; the bot echoes what it understood, in that zone and in UTC, and saves it
only on ``!meeting confirm N``.  Series are anchored in that zone (see :mod:`.series`).

Reminders are durable scheduler jobs, one per lead time of the *next* occurrence, plus an
``advance`` job at its start that schedules the occurrence after it.  Each job checks the
meeting is still confirmed, still at that time (its ``generation``) and that the occurrence
was not cancelled, then queues outbox rows in its own transaction: posts in the meeting's
rooms (at the rooms' lead times) and a DM for every member who opted in to that lead time,
rendered in the member's own zone and language.  A job found late after an outage runs within
its grace period (half the lead time, at most 6 h) and is skipped after it; the outbox rows
also expire when the meeting starts.

Organisers acting at once: confirm, edit and cancel each write the meeting with a conditional
update (:func:`.store.change`); one that finds the meeting changed since it read it runs again
on the fresh meeting, so the second of two confirms hears "already confirmed", and of two
moves the last wins with one set of reminders.  An RSVP is an upsert, checked against the
meeting after it is written.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, select

from chatbot.base.errors import UserError
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import (
    ANNOUNCEMENT,
    REMINDER,
    Delivery,
    dm_rows,
    insert_rows,
)
from chatbot.delivery.scheduler import Job, scheduler_of
from chatbot.dispatch.context import Context
from chatbot.dispatch.host import QUESTION_HOOKS
from chatbot.dispatch.registry import Level, Module, quote
from chatbot.messages.events import Bullets, Inline, Plain, Reply, Room, When
from chatbot.storage.conditional import retrying, upsert
from chatbot.storage.delivery import BroadcastRoomRow
from chatbot.storage.models import MemberRow
from chatbot.time.format import format_utc, format_when
from commands.meetings import platform_events
from commands.meetings.questions import next_meeting_hook
from commands.meetings.recurrence import read_option, read_recurrence
from commands.meetings.render import (
    duration_words,
    lead_list,
    leads_before,
    parse_leads,
    room_post,
    rsvp_buttons,
)
from commands.meetings.series import Rule, Series
from commands.meetings.store import (
    CANCELLED,
    CONFIRMED,
    DRAFT,
    MAYBE,
    NO,
    YES,
    MeetingRow,
    ReminderPrefRow,
    RsvpRow,
    change,
    confirmed_meetings,
    get_meeting,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

module = Module(
    "meetings", "Open meetings, shown in every member's own time zone.", migrations=MIGRATIONS
)
meeting = module.group("meeting", "One meeting: add, confirm, edit, cancel, or show it.")
remind = module.group("remind", "Meeting reminders by direct message, in your own time zone.")

REMINDER_JOB = "meetings.reminder"
ADVANCE_JOB = "meetings.advance"
#: lead times (minutes) posted in the meeting's rooms
ROOM_LEADS = (7 * 1440, 1440, 15)
#: lead times a member may pick for DMs (a job is scheduled for each)
MEMBER_LEADS = (7 * 1440, 2 * 1440, 1440, 720, 360, 60, 30, 15, 5)
DEFAULT_MEMBER_LEADS = (1440, 15)
MAX_TITLE = 200
DRAFT_LIFETIME = timedelta(days=1)
EXAMPLE = '`{p}meeting add "Open meeting" friday 15:00 --duration 1h --every 2 weeks`'

_OPTION = re.compile(r"(?:^|\s)--([a-z]+)\b", re.IGNORECASE)
_DURATION = re.compile(r"^(?:(\d{1,2})h(?:ours?)?)?(?:(\d{1,4})(?:m|mins?|minutes?)?)?$")


@module.on_startup
async def _start(bot: Host) -> None:
    """Register the reminder jobs; the outbox and the scheduler run as workers."""
    outbox_of(bot)
    scheduler = scheduler_of(bot)

    async def reminder(job: Job, session: AsyncSession) -> None:
        await run_reminder(bot, job, session)

    async def advance(job: Job, session: AsyncSession) -> None:
        await run_advance(bot, job, session)

    scheduler.register(REMINDER_JOB, reminder)
    scheduler.register(ADVANCE_JOB, advance)
    platform_events.attach(bot)
    hooks = bot.services.setdefault(QUESTION_HOOKS, [])
    hooks.append(next_meeting_hook(next_meeting_number, show))
    if bot.config.web.enabled:  # the calendar feed (needs the web extra and icalendar)
        from chatbot.web.app import add_route
        from commands.meetings.ics import ROUTES

        for method, path, handler in ROUTES:
            add_route(bot, method, path, handler)
        if bot.config.web.public_pages:
            from commands.meetings.web import add_routes

            add_routes(bot)


# -- reading organisers' input --------------------------------------------------------------


def split_options(text: str) -> tuple[str, dict[str, str]]:
    """``friday 15:00 --every 2 weeks --link X`` → (``friday 15:00``, {every: …, link: …})."""
    marks = list(_OPTION.finditer(text))
    if not marks:
        return text.strip(), {}
    head = text[: marks[0].start()].strip()
    options: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        name = mark.group(1).lower()
        if name in options:
            raise UserError(f"--{name} is given twice.")
        options[name] = text[mark.end() : end].strip()
    return head, options


def parse_duration(text: str) -> int:
    """``1h``, ``90m``, ``1h30`` → minutes."""
    found = _DURATION.match(text.strip().lower().replace(" ", ""))
    if found is None or not (found.group(1) or found.group(2)):
        raise UserError("I read a duration like `1h`, `90m` or `1h30`.", markdown=True)
    minutes = int(found.group(1) or 0) * 60 + int(found.group(2) or 0)
    if not 5 <= minutes <= 24 * 60:
        raise UserError("A meeting lasts between 5 minutes and 24 hours.")
    return minutes


def check_link(text: str) -> str:
    link = text.strip()
    if not re.match(r"^https?://\S+$", link) or len(link) > 500:
        raise UserError("The link must be a web address starting with https://.")
    return link


async def _suggest_title_quotes(ctx: Context, title: str, phrase: str, details: str) -> None:
    """``!meeting add Open meeting friday 15:00`` reads the title ``Open`` and the date
    ``meeting friday 15:00``: when moving a few words into the title makes the date readable,
    refuse with the command to type, the title in quotes, instead of "cannot read the date"."""
    from chatbot.time.parse import parse_details

    if ctx.incoming.text.split(None, 2)[-1:] and _QUOTED_START.match(
        ctx.incoming.text.split(None, 2)[-1]
    ):
        return  # the title was quoted: the date really is unreadable
    words = phrase.split()
    prefs = await ctx.prefs()
    for taken in range(1, min(4, len(words))):
        try:
            await parse_details(
                " ".join(words[taken:]),
                zone_key=prefs.zone,
                now=ctx.now(),
                date_order=ctx.config.time.date_order,
            )
        except UserError:
            continue
        whole = " ".join([title, *words[:taken]])
        rest = details.split(None, taken)[-1]
        raise UserError(
            f"Is the title {quote(whole)}? A title of several words goes in quotes: "
            f"`{ctx.prefix}meeting add {quote(whole)} {rest}`",
            markdown=True,
        )


_QUOTED_START = re.compile("^[\"'“‘«„]")


async def read_when(ctx: Context, phrase: str) -> tuple[datetime, str]:
    """The instant and the zone it was read in; refused with the reason and an example."""
    from chatbot.time.parse import parse_details
    from chatbot.time.schedule_rules import PastTime, check_schedulable

    example = EXAMPLE.format(p=ctx.prefix)
    if not phrase:
        raise UserError(f"When is it? For example: {example}", markdown=True)
    prefs = await ctx.prefs()
    try:
        parsed = await parse_details(
            phrase, zone_key=prefs.zone, now=ctx.now(), date_order=ctx.config.time.date_order
        )
    except UserError as exc:
        raise UserError(f"{exc.message} For example: {example}") from None
    try:
        check_schedulable(parsed.at, ctx.now(), phrase, "meeting")
    except PastTime as exc:
        raise UserError(f"{exc.message} For example: {example}") from None
    return parsed.at, parsed.zone_key


def local_iso(at: datetime, zone_key: str) -> str:
    from chatbot.time.zones import zone_from_key

    local = at.astimezone(zone_from_key(zone_key).tzinfo)
    return local.replace(tzinfo=None).isoformat(timespec="minutes")


def describe_times(meeting_row: MeetingRow, at: datetime, now: datetime) -> str:
    """``Fri 4 Dec, 15:00 (London) = 2026-12-04 15:00 UTC, every week (London time)``."""
    text = f"{format_when(at, meeting_row.zone, now=now)} = {format_utc(at)}"
    rule = Rule.decode(meeting_row.rule).describe()
    if rule:
        text += f"; repeats {series_words(rule, at, meeting_row.zone)}"
    return text


def series_words(rule: str, at: datetime, zone_key: str) -> str:
    """``every 2nd Tuesday of the month, 15:00 UTC``: the rule and its wall time, which stays
    the same across daylight-saving changes in that zone."""
    from chatbot.time.zones import zone_from_key

    zone = zone_from_key(zone_key)
    clock = at.astimezone(zone.tzinfo).strftime("%H:%M")
    where = zone.label if zone.label.startswith("UTC") else f"{zone.label} time"
    return f"{rule}, {clock} {where}"


def _for_you(ctx: Context, at: datetime, other_zone: bool) -> list[Inline]:
    """``at`` for the reader: always where the platform shows each reader's own time."""
    if other_zone or ctx.adapter.capabilities.native_timestamps:
        return ["\nFor you: ", When(at, "full")]
    return []


def _rooms_json(rooms: list[Room]) -> str:
    return json.dumps([[r.id, r.platform, r.name] for r in rooms])


async def _target_rooms(ctx: Context, session: AsyncSession) -> list[Room]:
    """The broadcast rooms, else the room the meeting was added in."""
    found = (
        await session.scalars(select(BroadcastRoomRow).order_by(BroadcastRoomRow.room_id))
    ).all()
    if found:
        return [Room(r.room_id, r.platform, r.name) for r in found]
    return [] if ctx.room.is_direct else [ctx.room]


# -- organisers' commands -------------------------------------------------------------------


@meeting.command(
    help="Add a meeting (or a series): I echo what I understood and you confirm it.",
    level=Level.ORGANISER,
    examples=[
        'meeting add "APAC open meeting" friday 09:00 Asia/Manila --duration 1h',
        'meeting add "Open meeting" 2026-12-02 15:00 --every 2 weeks --link https://meet.example',
        'meeting add "Americas call" 2026-12-08 17:00 UTC --monthly 2nd tuesday',
    ],
    params={
        "title": "the title, in quotes",
        "details": "when, then --duration, --every N days|weeks or --monthly 2nd tuesday, --link",
    },
)
async def add(ctx: Context, title: str, details: str = "") -> Reply:
    prefix = ctx.prefix
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise UserError(f"A title has 1 to {MAX_TITLE} characters.")
    phrase, options = split_options(details)
    unknown = sorted(set(options) - {"duration", "every", "monthly", "link"})
    if unknown:
        raise UserError(
            f"I don't know --{unknown[0]}. Options: --duration, --every, --monthly, --link. "
            f"For example: {EXAMPLE.format(p=prefix)}"
        )
    if "every" in options and "monthly" in options:
        raise UserError("Use either --every or --monthly, not both.")
    rule = Rule()
    if "every" in options:
        rule = read_option("every", options["every"])
    elif "monthly" in options:
        rule = read_option("monthly", options["monthly"])
    else:
        said, rest = read_recurrence(phrase)
        if said is not None:
            if not rest:
                raise UserError(
                    f"{said.describe().capitalize()}: at what time? For example: "
                    f"`{prefix}meeting add {quote(title)} {phrase} 15:00 UTC`",
                    markdown=True,
                )
            rule, phrase = said, rest
    duration = parse_duration(options["duration"]) if "duration" in options else 60
    link = check_link(options["link"]) if "link" in options else None
    try:
        at, zone_key = await read_when(ctx, phrase)
    except UserError:
        await _suggest_title_quotes(ctx, title, phrase, details)
        raise
    now = ctx.now()
    series = Series(datetime.fromisoformat(local_iso(at, zone_key)), zone_key, rule)
    first = series.next_after(now)
    if first is None:
        raise UserError("That series has no occurrence in the future.")
    async with ctx.db.session() as session:
        rooms = await _target_rooms(ctx, session)
        row = MeetingRow(
            title=title,
            start_local=local_iso(first, zone_key),
            zone=zone_key,
            rule=rule.encode(),
            exdates="[]",
            duration_minutes=duration,
            link=link,
            rooms=_rooms_json(rooms),
            state=DRAFT,
            generation=0,
            created_by=ctx.member.id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        number = row.id
    parts: list[Inline | Bullets] = [
        f"**Meeting #{number} (not saved yet)**: ",
        Plain(title),
        "\nWhen: ",
        Plain(describe_times(row, first, now)),
        f"\nDuration: {duration_words(duration)}",
    ]
    own = (await ctx.prefs()).zone
    parts += _for_you(ctx, first, own != zone_key and own is not None)
    if zone_key == "UTC" and own is None:
        parts.append(f"\n(Read in UTC: set your zone with `{prefix}tz set <city>`.)")
    if link:
        parts += ["\nLink: ", Plain(link)]
    if rooms:
        names = ", ".join(f"{r.name} ({r.platform})" for r in rooms)
        parts += ["\nIt will be posted in: ", Plain(names)]
    else:
        parts.append("\nNo room to post it in: reminders go only to members who opt in.")
    parts.append(
        f"\nIf that is right, type `{prefix}meeting confirm {number}`; "
        f"otherwise `{prefix}meeting cancel {number}`."
    )
    return Reply.of(*parts)


async def schedule_occurrence(
    bot: Host, session: AsyncSession, row: MeetingRow, at: datetime, now: datetime
) -> int:
    """Reminder jobs for the occurrence at ``at`` (the lead times still ahead), and the job
    at its start that schedules the next one; returns how many reminders."""
    scheduler = scheduler_of(bot)
    base = {"meeting": row.id, "generation": row.generation, "at": at.isoformat()}
    count = 0
    for lead in MEMBER_LEADS:
        due = at - timedelta(minutes=lead)
        if due <= now:
            continue
        grace = min(timedelta(minutes=lead) / 2, timedelta(hours=6))
        await scheduler.schedule(
            session,
            REMINDER_JOB,
            due,
            payload={**base, "lead": lead},
            grace=grace,
            created_by=row.created_by,
        )
        count += 1
    if Rule.decode(row.rule).kind:
        await scheduler.schedule(session, ADVANCE_JOB, at, payload=base, grace=timedelta(days=3650))
    return count


def _room_deliveries(
    bot: Host, row: MeetingRow, at: datetime, kind: str, reply: Reply
) -> list[Delivery]:
    return [
        Delivery(
            room.platform,
            reply,
            room=room,
            kind=kind,
            owner_id=row.created_by,
            ref=f"meeting:{row.id}",
            expires_at=at,
        )
        for room in row.room_list()
    ]


@meeting.command(
    help="Save a meeting you added: it is posted and its reminders are scheduled.",
    level=Level.ORGANISER,
    examples=["meeting confirm 3"],
    params={"number": "the number shown when you added it"},
)
async def confirm(ctx: Context, number: int) -> Reply:
    return await retrying(lambda: _confirm(ctx, number), busy=_busy(number))


def _busy(number: int) -> str:
    return f"Meeting #{number} is being changed by others right now; try again in a moment."


async def _confirm(ctx: Context, number: int) -> Reply:
    now = ctx.now()
    prefix = ctx.prefix
    outbox = outbox_of(ctx.host)
    async with ctx.db.session() as session:
        row = await get_meeting(session, number)
        if row.state != DRAFT:
            raise UserError(f"Meeting #{number} is already {row.state}.")
        if row.created_by != ctx.member.id:
            raise UserError(f"Meeting #{number} is someone else's draft.")
        if now - row.created_at > DRAFT_LIFETIME:
            raise UserError(f"The draft #{number} is too old: add the meeting again.")
        at = row.series().next_after(now)
        if at is None:
            raise UserError(f"Meeting #{number} has no occurrence left: add it again.")
        await change(session, row, {"state": CONFIRMED, "confirmed_at": now, "updated_at": now})
        await outbox.enqueue(
            session,
            _room_deliveries(ctx.host, row, at, ANNOUNCEMENT, room_post(row, at, prefix)),
        )
        await schedule_occurrence(ctx.host, session, row, at, now)
        await platform_events.schedule_sync(ctx.host, session, row, due=now)
    return Reply.of(
        f"Meeting #{number} is saved: ",
        Plain(row.title),
        ", ",
        When(at, "full"),
        f". Members see it with `{prefix}meetings`, in their own time zone.",
        buttons=rsvp_buttons(number),
    )


Field = Literal["title", "when", "link", "duration"]


@meeting.command(
    help="Change a meeting's title, time, link or duration.",
    level=Level.ORGANISER,
    examples=[
        "meeting edit 3 when 2026-12-04 16:00",
        "meeting edit 3 link https://meet.example/room",
        "meeting edit 3 duration 90m",
    ],
    params={"number": "the meeting", "field": "title, when, link or duration", "value": "new"},
)
async def edit(ctx: Context, number: int, field: Field, value: str) -> Reply:
    values: dict[str, Any] = {}
    if field == "title":
        title = " ".join(value.split())
        if not title or len(title) > MAX_TITLE:
            raise UserError(f"A title has 1 to {MAX_TITLE} characters.")
        values["title"] = title
    elif field == "link":
        values["link"] = check_link(value)
    elif field == "duration":
        values["duration_minutes"] = parse_duration(value)
    else:
        new_at, zone_key = await read_when(ctx, value)
        values.update(start_local=local_iso(new_at, zone_key), zone=zone_key, exdates="[]")
    return await retrying(lambda: _edit(ctx, number, field, values), busy=_busy(number))


async def _edit(ctx: Context, number: int, field: Field, values: dict[str, Any]) -> Reply:
    now = ctx.now()
    async with ctx.db.session() as session:
        row = await get_meeting(session, number)
        if row.state == CANCELLED:
            raise UserError(f"Meeting #{number} is cancelled.")
        times = {"generation": row.generation + 1} if field == "when" else {}
        await change(session, row, {**values, **times, "updated_at": now})
        at = row.series().next_after(now)
        if field == "when" and row.state == CONFIRMED and at is not None:
            await schedule_occurrence(ctx.host, session, row, at, now)
            moved = room_post(row, at, ctx.prefix)
            notice = Reply(("**Moved**: ", *moved.parts), buttons=moved.buttons)
            await outbox_of(ctx.host).enqueue(
                session, _room_deliveries(ctx.host, row, at, ANNOUNCEMENT, notice)
            )
        if row.state == CONFIRMED:
            await platform_events.schedule_sync(ctx.host, session, row, due=now)
    head: list[Inline] = [f"Meeting #{number} updated: ", Plain(row.title)]
    if at is not None:
        head += ["\nNext: ", Plain(describe_times(row, at, now)), *_for_you(ctx, at, False)]
    if row.link:
        head += ["\nLink: ", Plain(row.link)]
    head.append(f"\nDuration: {duration_words(row.duration_minutes)}")
    return Reply.of(*head)


@meeting.command(
    help="Cancel a meeting or a whole series; `--occurrence <date>` cancels one date only.",
    level=Level.ORGANISER,
    examples=["meeting cancel 3", "meeting cancel 3 --occurrence 2026-12-18"],
    params={"number": "the meeting", "occurrence": "--occurrence <date> for one date"},
)
async def cancel(ctx: Context, number: int, occurrence: str = "") -> Reply:
    prefix = ctx.prefix
    _rest, options = split_options(occurrence)
    if occurrence.strip() and "occurrence" not in options:
        raise UserError(
            f"Use `{prefix}meeting cancel {number}` or "
            f"`{prefix}meeting cancel {number} --occurrence <date>`.",
            markdown=True,
        )
    return await retrying(lambda: _cancel(ctx, number, options), busy=_busy(number))


async def _cancel(ctx: Context, number: int, options: dict[str, str]) -> Reply:
    now = ctx.now()
    outbox = outbox_of(ctx.host)
    async with ctx.db.session() as session:
        row = await get_meeting(session, number)
        if row.state == CANCELLED:
            return Reply.of(f"Meeting #{number} is already cancelled.")
        if "occurrence" in options:
            return await _cancel_occurrence(ctx, session, row, options["occurrence"])
        was = row.state
        await change(
            session, row, {"state": CANCELLED, "generation": row.generation + 1, "updated_at": now}
        )
        at = row.series().next_after(now)
        if was == CONFIRMED and at is not None:
            notice = Reply.of(
                f"**Cancelled**: meeting #{number} ", Plain(row.title), " (", When(at), ")"
            )
            await outbox.enqueue(session, _room_deliveries(ctx.host, row, at, ANNOUNCEMENT, notice))
        if was == CONFIRMED:
            await platform_events.schedule_sync(ctx.host, session, row, due=now)
    if was == DRAFT:
        return Reply.of(f"Draft #{number} dropped.")
    return Reply.of(f"Meeting #{number} is cancelled", " (the whole series)." if row.rule else ".")


async def _cancel_occurrence(
    ctx: Context, session: AsyncSession, row: MeetingRow, phrase: str
) -> Reply:
    from chatbot.time.parse import parse_details

    if not row.rule:
        raise UserError(f"Meeting #{row.id} is not a series: cancel it as a whole.")
    parsed = await parse_details(
        phrase,
        zone_key=row.zone,
        now=ctx.now(),
        date_order=ctx.config.time.date_order,
        allow_date_only=True,
    )
    series = row.series()
    day = series.local_date_of(parsed.at)
    match = next(
        (at for at in series.occurrences(ctx.now(), 400) if series.local_date_of(at) == day),
        None,
    )
    if match is None:
        raise UserError(
            f"Meeting #{row.id} has no upcoming occurrence on {day.isoformat()} ({row.zone} date)."
        )
    exdates = sorted({*json.loads(row.exdates), day.isoformat()})
    await change(session, row, {"exdates": json.dumps(exdates), "updated_at": ctx.now()})
    if row.state == CONFIRMED:
        notice = Reply.of(
            f"**Cancelled**: meeting #{row.id} ",
            Plain(row.title),
            " on ",
            When(match),
            " only; the series goes on.",
        )
        await outbox_of(ctx.host).enqueue(
            session, _room_deliveries(ctx.host, row, match, ANNOUNCEMENT, notice)
        )
        await platform_events.schedule_sync(ctx.host, session, row, due=ctx.now())
    return Reply.of(f"Meeting #{row.id} on ", When(match), " is cancelled; the series goes on.")


# -- members' commands ----------------------------------------------------------------------


def _next_of(row: MeetingRow, now: datetime) -> datetime | None:
    """The next start, or the current one while it is still going on."""
    return row.series().next_after(now - timedelta(minutes=row.duration_minutes))


async def next_meeting_number(ctx: Context, now: datetime) -> int | None:
    """The confirmed meeting that starts next (or is going on now), if any."""
    async with ctx.db.sessions() as session:
        rows = await confirmed_meetings(session)
    upcoming = [(at, row.id) for row in rows if (at := _next_of(row, now)) is not None]
    return min(upcoming)[1] if upcoming else None


@module.command(
    help="Upcoming meetings, in your own time zone.",
    examples=["meetings"],
)
async def meetings(ctx: Context) -> Reply:
    now = ctx.now()
    prefix = ctx.prefix
    async with ctx.db.sessions() as session:
        rows = await confirmed_meetings(session)
    upcoming = sorted(
        ((at, row) for row in rows if (at := _next_of(row, now)) is not None),
        key=lambda pair: (pair[0], pair[1].id),
    )
    prefs = await ctx.prefs()
    if not upcoming:
        return Reply.of("No meetings are planned yet.")
    items: list[tuple[Inline, ...]] = []
    for at, row in upcoming:
        line: list[Inline] = [f"#{row.id} ", Plain(row.title), " — ", When(at, "full")]
        rule = Rule.decode(row.rule).describe()
        if rule:
            line.append(f" ({rule})")
        items.append(tuple(line))
    parts: list[Inline | Bullets] = ["Upcoming meetings:\n", Bullets(tuple(items))]
    if prefs.zone is None:
        parts.append(
            f"Times are in UTC: set your zone with `{prefix}tz set <city>` "
            f"(e.g. `{prefix}tz set Lagos`) to see them in yours.\n"
        )
    parts.append(f"`{prefix}meeting N` shows one, `{prefix}rsvp N yes` says you're coming.")
    return Reply.of(*parts)


@meeting.command(
    default=True,
    help="Show a meeting: its time in your zone, link and who is coming.",
    examples=["meeting 3"],
    params={"number": "the meeting's number (see !meetings)"},
)
async def show(ctx: Context, number: int, view: Literal["ics"] | None = None) -> Reply:
    if view == "ics":
        return await ics_link(ctx, number)
    now = ctx.now()
    prefix = ctx.prefix
    async with ctx.db.sessions() as session:
        row = await get_meeting(session, number)
        answers = list(
            (
                await session.scalars(
                    select(RsvpRow)
                    .where(RsvpRow.meeting_id == number)
                    .order_by(RsvpRow.display_name)
                )
            ).all()
        )
    if row.state == DRAFT:
        raise UserError(f"Meeting #{number} is not confirmed yet.")
    if row.state == CANCELLED:
        return Reply.of(f"Meeting #{number} (", Plain(row.title), ") is cancelled.")
    at = _next_of(row, now)
    parts: list[Inline] = [f"**Meeting #{number}**: ", Plain(row.title), "\n"]
    if at is None:
        parts.append("It is over.")
        return Reply.of(*parts)
    parts += ["When: ", When(at, "full")]
    rule = Rule.decode(row.rule).describe()
    if rule:
        parts.append(f", {rule}")
    parts.append(f" ({duration_words(row.duration_minutes)})")
    if row.link:
        parts += ["\nLink: ", Plain(row.link)]
    for answer, label in ((YES, "Going"), (MAYBE, "Maybe")):
        names = [a.display_name for a in answers if a.answer == answer]
        parts += [f"\n{label} ({len(names)}): ", Plain(", ".join(names) or "nobody yet")]
    cant = sum(1 for a in answers if a.answer == NO)
    if cant:
        parts.append(f"\nCan't come: {cant}")
    if (await ctx.prefs()).zone is None:
        parts.append(f"\nTimes are in UTC: `{prefix}tz set <city>` shows them in yours.")
    parts.append(f"\n`{prefix}rsvp {number} yes|maybe|no`")
    return Reply.of(*parts, buttons=rsvp_buttons(number))


@meeting.command(
    help="The calendar (.ics) link of a meeting, or of all of them: times in your own zone.",
    examples=["meeting ics 3", "meeting 3 ics", "meeting ics"],
    params={"number": "the meeting (none: every meeting)"},
)
async def ics(ctx: Context, number: int | None = None) -> Reply:
    return await ics_link(ctx, number)


async def ics_link(ctx: Context, number: int | None) -> Reply:
    """The feed's address, or one meeting's (``!meeting ics N`` and ``!meeting N ics``)."""
    if not ctx.config.web.enabled:
        raise UserError(
            "The calendar feed is off on this bot. Whoever runs the bot turns it on with "
            "`enabled = true` in the `[web]` section of its config (see the README).",
            markdown=True,
        )
    from commands.meetings.ics import feed_url

    if number is None:
        return Reply.of(
            "All meetings, for your calendar app (subscribe to it, or add it by URL): ",
            Plain(feed_url(ctx.host)),
        )
    async with ctx.db.sessions() as session:
        row = await get_meeting(session, number)
    if row.state != CONFIRMED:
        raise UserError(f"Meeting #{number} is {row.state}: it has no calendar entry.")
    return Reply.of(
        f"Meeting #{number} ",
        Plain(row.title),
        " for your calendar app: ",
        Plain(feed_url(ctx.host, number)),
        f"\nEvery meeting: `{ctx.prefix}meeting ics`.",
    )


@module.command(
    help="Say whether you're coming to a meeting.",
    examples=["rsvp 3 yes", "rsvp 3 maybe", "rsvp 3 no"],
    params={"number": "the meeting", "answer": "yes, maybe or no"},
)
async def rsvp(ctx: Context, number: int, answer: Literal["yes", "no", "maybe"]) -> Reply:
    now = ctx.now()
    async with ctx.db.session() as session:
        # write first, then check the meeting: on SQLite the write's transaction sees the
        # latest meeting, and on PostgreSQL the shared lock waits for a cancel under way
        await upsert(
            session,
            RsvpRow,
            {
                "meeting_id": number,
                "member_id": ctx.member.id,
                "display_name": ctx.member.display_name,
                "answer": answer,
                "updated_at": now,
                "source": None,  # an explicit answer: unmarking an event leaves it
            },
            ["meeting_id", "member_id"],
        )
        row = await session.get(MeetingRow, number, with_for_update={"read": True})
        if row is None:
            raise UserError(f"There is no meeting #{number}.")
        if row.state != CONFIRMED:
            raise UserError(f"Meeting #{number} is not open for answers ({row.state}).")
    at = _next_of(row, now)
    said = {YES: "You're going to", MAYBE: "Maybe, then, for", NO: "Noted: you can't make"}
    parts: list[Inline] = [f"{said[answer]} #{number} ", Plain(row.title)]
    if at is not None:
        parts += [" (", When(at, "full"), ")"]
    return Reply.of(*parts, ".", aside=True)


@remind.command(
    help="Reminders of every meeting by DM, in your zone: `on [1d,15m]` or `off`.",
    examples=["remind me on", "remind me on 1d,15m", "remind me on 1h", "remind me off"],
    params={"state": "on or off", "leads": "how long before, e.g. 7d,1d,1h,15m"},
    private=True,
)
async def me(ctx: Context, state: Literal["on", "off"], leads: str = "") -> Reply:
    now = ctx.now()
    prefix = ctx.prefix
    async with ctx.db.session() as session:
        found = await session.get(ReminderPrefRow, ctx.member.id)
        if state == "off":
            if found is not None:
                await session.delete(found)
            return Reply.of("Meeting reminders are off.", aside=True)
        try:
            minutes = parse_leads(leads, MEMBER_LEADS) if leads.strip() else []
        except ValueError as exc:
            raise UserError(
                f"I can't use '{str(exc)[:20]}' as a lead time. Pick from: "
                f"{lead_list(MEMBER_LEADS)}, written like 7d, 1d, 12h, 1h, 30m, 15m, 5m."
            ) from None
        minutes = minutes or list(DEFAULT_MEMBER_LEADS)
        value = ",".join(str(m) for m in minutes)
        if found is None:
            session.add(
                ReminderPrefRow(
                    member_id=ctx.member.id,
                    platform=ctx.member.platform,
                    display_name=ctx.member.display_name,
                    leads=value,
                    updated_at=now,
                )
            )
        else:
            found.leads = value
            found.display_name = ctx.member.display_name
            found.updated_at = now
    prefs = await ctx.prefs()
    parts: list[Inline] = [f"I'll DM you {leads_before(minutes)} each meeting"]
    if prefs.zone is None:
        parts.append(f", in UTC until you set your zone (`{prefix}tz set <city>`)")
    parts.append(f". `{prefix}remind me off` stops them.")
    return Reply.of(*parts, aside=True)


# -- jobs -----------------------------------------------------------------------------------


async def _live(session: AsyncSession, job: Job) -> tuple[MeetingRow, datetime] | None:
    """The meeting and occurrence of a job, if both still stand as they were scheduled."""
    row = await session.get(MeetingRow, int(job.payload["meeting"]))
    if row is None or row.state != CONFIRMED:
        return None
    if row.generation != int(job.payload["generation"]):
        return None
    return row, datetime.fromisoformat(job.payload["at"])


async def run_reminder(bot: Host, job: Job, session: AsyncSession) -> None:
    """Queue the room posts and members' DMs for one lead time of one occurrence."""
    live = await _live(session, job)
    if live is None:
        return
    row, at = live
    if not row.series().includes(at):  # this occurrence was cancelled
        return
    lead = int(job.payload["lead"])
    now = bot.clock.now()
    outbox = outbox_of(bot)
    if lead in ROOM_LEADS:
        post = room_post(row, at, bot.prefix, lead)
        await outbox.enqueue(session, _room_deliveries(bot, row, at, REMINDER, post))
    declined = set(
        (
            await session.scalars(
                select(RsvpRow.member_id).where(RsvpRow.meeting_id == row.id, RsvpRow.answer == NO)
            )
        ).all()
    )
    found = (
        await session.execute(
            select(ReminderPrefRow, MemberRow.zone, MemberRow.lang).outerjoin(
                MemberRow, MemberRow.id == ReminderPrefRow.member_id
            )
        )
    ).all()
    by_platform: dict[str, list[tuple[str, str, str | None, str | None]]] = {}
    for pref, zone, lang in found:
        if lead in pref.lead_minutes() and pref.member_id not in declined:
            by_platform.setdefault(pref.platform, []).append(
                (pref.member_id, pref.display_name, zone, lang)
            )
    from commands.meetings.render import dm_payloads

    rows: list[dict[str, Any]] = []
    for platform, members in sorted(by_platform.items()):
        targets = dm_payloads(row.id, row.title, at, row.link, lead, members, now)
        rows += dm_rows(
            platform,
            targets,
            now,
            kind=REMINDER,
            ref=f"meeting:{row.id}",
            expires_at=at,
        )
    if rows:
        await insert_rows(session, rows)
        outbox.wake_after_commit(session)


async def run_advance(bot: Host, job: Job, session: AsyncSession) -> None:
    """At an occurrence's start, schedule the reminders of the next one."""
    live = await _live(session, job)
    if live is None:
        return
    row, at = live
    now = bot.clock.now()
    # after a long outage, skip straight to the next occurrence still ahead
    following = row.series().next_after(max(at, now))
    if following is not None:
        await schedule_occurrence(bot, session, row, following, now)
    # platform events move on to the next occurrence once this one is over
    ended = at + timedelta(minutes=row.duration_minutes)
    await platform_events.schedule_sync(bot, session, row, due=max(ended, now))


# -- privacy --------------------------------------------------------------------------------


@module.on_mydata
async def _mydata(bot: Host, member_id: str) -> dict[str, Any]:
    async with bot.db.sessions() as session:
        answers = (
            await session.scalars(
                select(RsvpRow).where(RsvpRow.member_id == member_id).order_by(RsvpRow.meeting_id)
            )
        ).all()
        pref = await session.get(ReminderPrefRow, member_id)
    return {
        "rsvps": [
            {"meeting": a.meeting_id, "answer": a.answer, "updated_at": a.updated_at.isoformat()}
            for a in answers
        ],
        "reminders": None if pref is None else {"lead_minutes": pref.lead_minutes()},
    }


@module.on_forget
async def _forget(bot: Host, member_id: str) -> str | None:
    async with bot.db.session() as session:
        gone = await session.execute(delete(RsvpRow).where(RsvpRow.member_id == member_id))
        prefs = await session.execute(
            delete(ReminderPrefRow).where(ReminderPrefRow.member_id == member_id)
        )
    count = int(getattr(gone, "rowcount", 0) or 0) + int(getattr(prefs, "rowcount", 0) or 0)
    return "Your meeting answers and reminder settings are deleted too." if count else None


# registers ``!meeting minutes`` on the group above
from commands.meetings import minutes as _minutes  # noqa: E402, F401
