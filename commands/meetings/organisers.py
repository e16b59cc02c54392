"""Organisers' commands: ``!meeting add``, ``confirm``, ``edit`` and ``cancel``; each change
is a conditional update, run again on the fresh meeting when another got there first."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, _p, verbatim
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import ANNOUNCEMENT
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level, quote
from chatbot.messages.events import Code, Part, Plain, Reply, Room, When
from chatbot.storage.conditional import retrying
from chatbot.storage.delivery import BroadcastRoomRow
from commands.meetings import meeting, platform_events
from commands.meetings.jobs import room_deliveries, schedule_occurrence
from commands.meetings.reading import (
    check_link,
    describe_times,
    example,
    local_iso,
    parse_duration,
    read_when,
    reader_lang,
    split_options,
    suggest_title_quotes,
)
from commands.meetings.recurrence import read_option, read_recurrence
from commands.meetings.render import duration_words, room_post, rsvp_buttons
from commands.meetings.series import Rule, Series
from commands.meetings.store import (
    CANCELLED,
    CONFIRMED,
    DRAFT,
    MeetingRow,
    change,
    get_meeting,
    state_words,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


MAX_TITLE = 200
DRAFT_LIFETIME = timedelta(days=1)


def _for_you(ctx: Context, at: datetime, other_zone: bool) -> list[Part]:
    """``at`` for the reader: always where the platform shows each reader's own time."""
    if other_zone or ctx.adapter.capabilities.native_timestamps:
        return ["\n", _("For you: {when}", when=When(at, "full"))]
    return []


def _title_length() -> UserError:
    return UserError(_("A title has 1 to {n} characters.", n=MAX_TITLE))


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


@meeting.command(
    help=_("Add a meeting (or a series): I echo what I understood and you confirm it."),
    level=Level.ORGANISER,
    examples=[
        verbatim(
            'meeting add "{title}" {at} Asia/Manila --duration 1h',
            title=_p(
                "a meeting's title in a command example (no quotation marks)", "APAC open meeting"
            ),
            at=_p(
                "date in a command example: write it as the bot reads it in your language",
                "friday 09:00",
            ),
        ),
        verbatim(
            'meeting add "{title}" 2026-12-02 15:00 --every 2 weeks --link https://meet.example',
            title=_p("a meeting's title in a command example (no quotation marks)", "Open meeting"),
        ),
        verbatim(
            'meeting add "{title}" 2026-12-08 17:00 UTC --monthly 2nd tuesday',
            title=_p(
                "a meeting's title in a command example (no quotation marks)", "Americas call"
            ),
        ),
    ],
    params={
        "title": _("the title, in quotes"),
        "details": _(
            "when, then `--duration`, `--every N days|weeks` or `--monthly 2nd tuesday`, `--link`"
        ),
    },
)
async def add(ctx: Context, title: str, details: str = "") -> Reply:
    prefix = ctx.prefix
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise _title_length()
    phrase, options = split_options(details)
    unknown = sorted(set(options) - {"duration", "every", "monthly", "link"})
    if unknown:
        raise UserError(
            _(
                "I don't know {option}. Options: `--duration`, `--every`, `--monthly`, "
                "`--link`. For example: {example}",
                option=Code(f"--{unknown[0]}"),
                example=example(prefix),
            )
        )
    if "every" in options and "monthly" in options:
        raise UserError(_("Use either `--every` or `--monthly`, not both."))
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
                    _(
                        "Repeating {rule}: at what time? For example: {example}",
                        rule=said.words() or "",
                        example=Code(f"{prefix}meeting add {quote(title)} {phrase} 15:00 UTC"),
                    )
                )
            rule, phrase = said, rest
    duration = parse_duration(options["duration"]) if "duration" in options else 60
    link = check_link(options["link"]) if "link" in options else None
    try:
        at, zone_key = await read_when(ctx, phrase)
    except UserError:
        await suggest_title_quotes(ctx, title, phrase, details)
        raise
    now = ctx.now()
    series = Series(datetime.fromisoformat(local_iso(at, zone_key)), zone_key, rule)
    first = series.next_after(now)
    if first is None:
        raise UserError(_("That series has no occurrence in the future."))
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
            created_by=ctx.member.key,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        number = row.id
    parts: list[Part] = [
        _("**Meeting #{number} (not saved yet)**: {title}", number=str(number), title=Plain(title)),
        "\n",
        _("When: {when}", when=describe_times(row, first, now, await reader_lang(ctx))),
        "\n",
        _("Duration: {duration}", duration=duration_words(duration)),
    ]
    own = (await ctx.prefs()).zone
    parts += _for_you(ctx, first, own != zone_key and own is not None)
    if zone_key == "UTC" and own is None:
        parts += [
            "\n",
            _("(Read in UTC: set your zone with `{prefix}tz set <city>`.)", prefix=prefix),
        ]
    if link:
        parts += ["\n", _("Link: {link}", link=Plain(link))]
    if rooms:
        names = ", ".join(f"{r.name} ({r.platform})" for r in rooms)
        parts += ["\n", _("It will be posted in: {rooms}", rooms=Plain(names))]
    else:
        parts += ["\n", _("No room to post it in: reminders go only to members who opt in.")]
    parts += [
        "\n",
        _(
            "If that is right, type `{prefix}meeting confirm {number}`; "
            "otherwise `{prefix}meeting cancel {number}`.",
            prefix=prefix,
            number=str(number),
        ),
    ]
    return Reply.of(*parts)


@meeting.command(
    help=_("Save a meeting you added: it is posted and its reminders are scheduled."),
    level=Level.ORGANISER,
    examples=["meeting confirm 3"],
    params={"number": _("the number shown when you added it")},
)
async def confirm(ctx: Context, number: int) -> Reply:
    return await retrying(lambda: _confirm(ctx, number), busy=_busy(number))


def _busy(number: int) -> Msg:
    return _(
        "Meeting #{number} is being changed by others right now; try again in a moment.",
        number=str(number),
    )


async def _confirm(ctx: Context, number: int) -> Reply:
    now = ctx.now()
    prefix = ctx.prefix
    outbox = outbox_of(ctx.host)
    async with ctx.db.session() as session:
        row = await get_meeting(session, number)
        num = str(number)
        if row.state != DRAFT:
            raise UserError(
                _(
                    "Meeting #{number} is already {state}.",
                    number=num,
                    state=state_words(row.state),
                )
            )
        if row.created_by != ctx.member.key:
            raise UserError(_("Meeting #{number} is someone else's draft.", number=num))
        if now - row.created_at > DRAFT_LIFETIME:
            raise UserError(_("The draft #{number} is too old: add the meeting again.", number=num))
        at = row.series().next_after(now)
        if at is None:
            raise UserError(
                _("Meeting #{number} has no occurrence left: add it again.", number=num)
            )
        await change(session, row, {"state": CONFIRMED, "confirmed_at": now, "updated_at": now})
        await outbox.enqueue(
            session,
            room_deliveries(ctx.host, row, at, ANNOUNCEMENT, room_post(row, at, prefix)),
        )
        await schedule_occurrence(ctx.host, session, row, at, now)
        await platform_events.schedule_sync(ctx.host, session, row, due=now)
    return Reply.of(
        _(
            "Meeting #{number} is saved: {title}, {when}. Members see it with "
            "`{prefix}meetings`, in their own time zone.",
            number=str(number),
            title=Plain(row.title),
            when=When(at, "full"),
            prefix=prefix,
        ),
        buttons=rsvp_buttons(number),
    )


Field = Literal["title", "when", "link", "duration"]


@meeting.command(
    help=_("Change a meeting's title, time, link or duration."),
    level=Level.ORGANISER,
    examples=[
        "meeting edit 3 when 2026-12-04 16:00",
        "meeting edit 3 link https://meet.example/room",
        "meeting edit 3 duration 90m",
    ],
    params={
        "number": _("the meeting"),
        "field": _("`title`, `when`, `link` or `duration`"),
        "value": _("the new value"),
    },
)
async def edit(ctx: Context, number: int, field: Field, value: str) -> Reply:
    values: dict[str, Any] = {}
    if field == "title":
        title = " ".join(value.split())
        if not title or len(title) > MAX_TITLE:
            raise _title_length()
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
            raise UserError(_("Meeting #{number} is cancelled.", number=str(number)))
        times = {"generation": row.generation + 1} if field == "when" else {}
        await change(session, row, {**values, **times, "updated_at": now})
        at = row.series().next_after(now)
        if field == "when" and row.state == CONFIRMED and at is not None:
            await schedule_occurrence(ctx.host, session, row, at, now)
            moved = room_post(row, at, ctx.prefix)
            notice = Reply((_("**Moved**:"), " ", *moved.parts), buttons=moved.buttons)
            await outbox_of(ctx.host).enqueue(
                session, room_deliveries(ctx.host, row, at, ANNOUNCEMENT, notice)
            )
        if row.state == CONFIRMED:
            await platform_events.schedule_sync(ctx.host, session, row, due=now)
    head: list[Part] = [
        _("Meeting #{number} updated: {title}", number=str(number), title=Plain(row.title))
    ]
    if at is not None:
        head += [
            "\n",
            _("Next: {when}", when=describe_times(row, at, now, await reader_lang(ctx))),
            *_for_you(ctx, at, False),
        ]
    if row.link:
        head += ["\n", _("Link: {link}", link=Plain(row.link))]
    head += ["\n", _("Duration: {duration}", duration=duration_words(row.duration_minutes))]
    return Reply.of(*head)


@meeting.command(
    help=_("Cancel a meeting or a whole series; `--occurrence <date>` cancels one date only."),
    level=Level.ORGANISER,
    examples=["meeting cancel 3", "meeting cancel 3 --occurrence 2026-12-18"],
    params={"number": _("the meeting"), "occurrence": _("`--occurrence <date>` for one date")},
)
async def cancel(ctx: Context, number: int, occurrence: str = "") -> Reply:
    prefix = ctx.prefix
    _rest, options = split_options(occurrence)
    if occurrence.strip() and "occurrence" not in options:
        raise UserError(
            _(
                "Use `{prefix}meeting cancel {number}` or "
                "`{prefix}meeting cancel {number} --occurrence <date>`.",
                prefix=prefix,
                number=str(number),
            )
        )
    return await retrying(lambda: _cancel(ctx, number, options), busy=_busy(number))


async def _cancel(ctx: Context, number: int, options: dict[str, str]) -> Reply:
    now = ctx.now()
    outbox = outbox_of(ctx.host)
    async with ctx.db.session() as session:
        row = await get_meeting(session, number)
        if row.state == CANCELLED:
            return Reply.of(_("Meeting #{number} is already cancelled.", number=str(number)))
        if "occurrence" in options:
            return await _cancel_occurrence(ctx, session, row, options["occurrence"])
        was = row.state
        await change(
            session, row, {"state": CANCELLED, "generation": row.generation + 1, "updated_at": now}
        )
        at = row.series().next_after(now)
        if was == CONFIRMED and at is not None:
            notice = Reply.of(
                _(
                    "**Cancelled**: meeting #{number} {title} ({when})",
                    number=str(number),
                    title=Plain(row.title),
                    when=When(at),
                )
            )
            await outbox.enqueue(session, room_deliveries(ctx.host, row, at, ANNOUNCEMENT, notice))
        if was == CONFIRMED:
            await platform_events.schedule_sync(ctx.host, session, row, due=now)
    if was == DRAFT:
        return Reply.of(_("Draft #{number} dropped.", number=str(number)))
    if row.rule:
        return Reply.of(_("Meeting #{number} is cancelled (the whole series).", number=str(number)))
    return Reply.of(_("Meeting #{number} is cancelled.", number=str(number)))


async def _cancel_occurrence(
    ctx: Context, session: AsyncSession, row: MeetingRow, phrase: str
) -> Reply:
    from chatbot.time.parse import parse_details

    if not row.rule:
        raise UserError(
            _("Meeting #{number} is not a series: cancel it as a whole.", number=str(row.id))
        )
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
            _(
                "Meeting #{number} has no upcoming occurrence on {day} ({zone} date).",
                number=str(row.id),
                day=day.isoformat(),
                zone=Plain(row.zone),
            )
        )
    exdates = sorted({*json.loads(row.exdates), day.isoformat()})
    await change(session, row, {"exdates": json.dumps(exdates), "updated_at": ctx.now()})
    if row.state == CONFIRMED:
        notice = Reply.of(
            _(
                "**Cancelled**: meeting #{number} {title} on {when} only; the series goes on.",
                number=str(row.id),
                title=Plain(row.title),
                when=When(match),
            )
        )
        await outbox_of(ctx.host).enqueue(
            session, room_deliveries(ctx.host, row, match, ANNOUNCEMENT, notice)
        )
        await platform_events.schedule_sync(ctx.host, session, row, due=ctx.now())
    return Reply.of(
        _(
            "Meeting #{number} on {when} is cancelled; the series goes on.",
            number=str(row.id),
            when=When(match),
        )
    )
