"""Members' commands: ``!meetings``, ``!meeting N``, its calendar link, ``!rsvp`` and
``!remind me``; times are shown in each reader's own zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, verbatim
from chatbot.dispatch.answers import SHOWN_KEYWORDS
from chatbot.dispatch.context import Context
from chatbot.dispatch.converters import OnOff, YesNoMaybe
from chatbot.messages.events import Bullets, Inline, Part, Plain, Reply, When
from chatbot.storage.conditional import upsert
from commands.meetings import gestures, meeting, module, remind
from commands.meetings.jobs import MEMBER_LEADS
from commands.meetings.render import (
    duration_words,
    lead_list,
    leads_before,
    parse_leads,
    recurrence_part,
    rsvp_buttons,
    rsvp_usage,
)
from commands.meetings.series import Rule
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
    confirmed_meetings,
    get_meeting,
    state_words,
)

DEFAULT_MEMBER_LEADS = (1440, 15)


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
    help=_("Upcoming meetings, in your own time zone."),
    examples=["meetings"],
    aliases=("reuniones", "réunions", "reunions", "reuniões", "reunioes", "treffen"),
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
        return Reply.of(_("No meetings are planned yet."))
    items: list[tuple[Inline, ...]] = []
    for at, row in upcoming:
        line: list[Inline] = [
            verbatim(
                "#{number} {title} — {when}",
                number=str(row.id),
                title=Plain(row.title),
                when=When(at, "full"),
            )
        ]
        rule = Rule.decode(row.rule).words()
        if rule is not None:
            line.append(verbatim(" ({rule})", rule=rule))
        items.append(tuple(line))
    parts: list[Part] = [_("Upcoming meetings:"), "\n", Bullets(tuple(items))]
    if prefs.zone is None:
        parts += [
            _(
                "Times are in UTC: set your zone with `{prefix}tz set <city>` "
                "(e.g. `{prefix}tz set Lagos`) to see them in yours.",
                prefix=prefix,
            ),
            "\n",
        ]
    parts.append(
        _(
            "`{prefix}meeting N` shows one, `{prefix}rsvp N {yes}` says you're coming.",
            prefix=prefix,
            yes=SHOWN_KEYWORDS["yes"],
        )
    )
    return Reply.of(*parts)


@meeting.command(
    default=True,
    help=_("Show a meeting: its time in your zone, link and who is coming."),
    examples=["meeting 3"],
    params={"number": _("the meeting's number (see !meetings)")},
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
        raise UserError(_("Meeting #{number} is not confirmed yet.", number=str(number)))
    title = Plain(row.title)
    if row.state == CANCELLED:
        return Reply.of(
            _("Meeting #{number} ({title}) is cancelled.", number=str(number), title=title)
        )
    at = _next_of(row, now)
    parts: list[Part] = [
        _("**Meeting #{number}**: {title}", number=str(number), title=title),
        "\n",
    ]
    if at is None:
        parts.append(_("It is over."))
        return Reply.of(*parts)
    parts += [_("When: {when}", when=When(at, "full")), *recurrence_part(row)]
    parts.append(verbatim(" ({duration})", duration=duration_words(row.duration_minutes)))
    if row.link:
        parts += ["\n", _("Link: {link}", link=Plain(row.link))]
    for answer in (YES, MAYBE):
        names = [a.display_name for a in answers if a.answer == answer]
        who = Plain(", ".join(names)) if names else _("nobody yet")
        line = _("Going ({n}): {names}", n=len(names), names=who)
        if answer == MAYBE:
            line = _("Maybe ({n}): {names}", n=len(names), names=who)
        parts += ["\n", line]
    cant = sum(1 for a in answers if a.answer == NO)
    if cant:
        parts += ["\n", _("Can't come: {n}", n=cant)]
    if (await ctx.prefs()).zone is None:
        parts += [
            "\n",
            _("Times are in UTC: `{prefix}tz set <city>` shows them in yours.", prefix=prefix),
        ]
    parts += ["\n", rsvp_usage(prefix, number)]
    return Reply.of(*parts, buttons=rsvp_buttons(number))


@meeting.command(
    help=_("The calendar (.ics) link of a meeting, or of all of them: times in your own zone."),
    examples=["meeting ics 3", "meeting 3 ics", "meeting ics"],
    params={"number": _("the meeting (none: every meeting)")},
)
async def ics(ctx: Context, number: int | None = None) -> Reply:
    return await ics_link(ctx, number)


async def ics_link(ctx: Context, number: int | None) -> Reply:
    """The feed's address, or one meeting's (``!meeting ics N`` and ``!meeting N ics``)."""
    if not ctx.config.web.enabled:
        raise UserError(
            _(
                "The calendar feed is off on this bot. Whoever runs the bot turns it on with "
                "`enabled = true` in the `[web]` section of its config (see the README)."
            )
        )
    from commands.meetings.ics import feed_url

    if number is None:
        return Reply.of(
            _(
                "All meetings, for your calendar app (subscribe to it, or add it by URL): {url}",
                url=Plain(feed_url(ctx.host)),
            )
        )
    async with ctx.db.sessions() as session:
        row = await get_meeting(session, number)
    if row.state != CONFIRMED:
        raise UserError(
            _(
                "Meeting #{number} is {state}: it has no calendar entry.",
                number=str(number),
                state=state_words(row.state),
            )
        )
    return Reply.of(
        _(
            "Meeting #{number} {title} for your calendar app: {url}",
            number=str(number),
            title=Plain(row.title),
            url=Plain(feed_url(ctx.host, number)),
        ),
        "\n",
        _("Every meeting: `{prefix}meeting ics`.", prefix=ctx.prefix),
    )


@module.command(
    help=_("Say whether you're coming to a meeting."),
    examples=[
        verbatim("rsvp 3 {yes}", yes=SHOWN_KEYWORDS["yes"]),
        verbatim("rsvp 3 {maybe}", maybe=SHOWN_KEYWORDS["maybe"]),
        verbatim("rsvp 3 {no}", no=SHOWN_KEYWORDS["no"]),
    ],
    params={"number": _("the meeting"), "answer": _("yes, maybe or no")},
)
async def rsvp(ctx: Context, number: int, answer: YesNoMaybe) -> Reply:
    now = ctx.now()
    gesture = ctx.incoming.gesture  # a reaction, which the member may take back
    async with ctx.db.session() as session:
        # write first, then check the meeting: on SQLite the write's transaction sees the
        # latest meeting, and on PostgreSQL the shared lock waits for a cancel under way
        await upsert(
            session,
            RsvpRow,
            {
                "meeting_id": number,
                "member_id": ctx.member.key,
                "display_name": ctx.member.display_name,
                "answer": answer,
                "updated_at": now,
                # typed or clicked: unmarking an event or taking a reaction back leaves it
                "source": gestures.SOURCE if gesture else None,
            },
            ["meeting_id", "member_id"],
        )
        await gestures.note(session, number, ctx.member.key, answer, gesture, now)
        row = await session.get(MeetingRow, number, with_for_update={"read": True})
        if row is None:
            raise UserError(_("There is no meeting #{number}.", number=str(number)))
        if row.state != CONFIRMED:
            raise UserError(
                _(
                    "Meeting #{number} is not open for answers ({state}).",
                    number=str(number),
                    state=state_words(row.state),
                )
            )
    at = _next_of(row, now)
    meeting_text = verbatim("#{number} {title}", number=str(number), title=Plain(row.title))
    if at is not None:
        meeting_text = verbatim("{meeting} ({when})", meeting=meeting_text, when=When(at, "full"))
    said = {
        YES: _("You're going to {meeting}.", meeting=meeting_text),
        MAYBE: _("Maybe, then, for {meeting}.", meeting=meeting_text),
        NO: _("Noted: you can't make {meeting}.", meeting=meeting_text),
    }
    return Reply.of(said[answer], aside=True)


@remind.command(
    help=_(
        "Reminders of every meeting by DM, in your zone: {on} or {off}.",
        on=verbatim("`{on} [1d,15m]`", on=SHOWN_KEYWORDS["on"]),
        off=verbatim("`{off}`", off=SHOWN_KEYWORDS["off"]),
    ),
    examples=[
        verbatim("remind me {on}", on=SHOWN_KEYWORDS["on"]),
        verbatim("remind me {on} 1d,15m", on=SHOWN_KEYWORDS["on"]),
        verbatim("remind me {on} 1h", on=SHOWN_KEYWORDS["on"]),
        verbatim("remind me {off}", off=SHOWN_KEYWORDS["off"]),
    ],
    params={
        "state": _("{on} or {off}", on=SHOWN_KEYWORDS["on"], off=SHOWN_KEYWORDS["off"]),
        "leads": _("how long before, e.g. 7d,1d,1h,15m"),
    },
    private=True,
)
async def me(ctx: Context, state: OnOff, leads: str = "") -> Reply:
    now = ctx.now()
    prefix = ctx.prefix
    async with ctx.db.session() as session:
        found = await session.get(ReminderPrefRow, ctx.member.key)
        if state == "off":
            if found is not None:
                await session.delete(found)
            return Reply.of(_("Meeting reminders are off."), aside=True)
        try:
            minutes = parse_leads(leads, MEMBER_LEADS) if leads.strip() else []
        except ValueError as exc:
            raise UserError(
                _(
                    "I can't use '{lead}' as a lead time. Pick from: {leads}, written like "
                    "7d, 1d, 12h, 1h, 30m, 15m, 5m.",
                    lead=Plain(str(exc)[:20]),
                    leads=lead_list(MEMBER_LEADS),
                )
            ) from None
        minutes = minutes or list(DEFAULT_MEMBER_LEADS)
        value = ",".join(str(m) for m in minutes)
        if found is None:
            session.add(
                ReminderPrefRow(
                    member_id=ctx.member.key,
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
    before = leads_before(minutes)
    said = (
        _(
            "I'll DM you {before} each meeting, in UTC until you set your zone "
            "(`{prefix}tz set <city>`). `{prefix}remind me {off}` stops them.",
            before=before,
            prefix=prefix,
            off=SHOWN_KEYWORDS["off"],
        )
        if prefs.zone is None
        else _(
            "I'll DM you {before} each meeting. `{prefix}remind me {off}` stops them.",
            before=before,
            prefix=prefix,
            off=SHOWN_KEYWORDS["off"],
        )
    )
    return Reply.of(said, aside=True)


@remind.command(
    help=_(
        "Where your reminders go when you linked accounts (`!link`): "
        "`matrix`, `discord`, or `auto` (where you last spoke to me)."
    ),
    examples=["remind via matrix", "remind via discord", "remind via auto"],
    params={"platform": _("`matrix`, `discord` or `auto`")},
    private=True,
)
async def via(ctx: Context, platform: str) -> Reply:
    choice = platform.strip().casefold()
    prefix = ctx.prefix
    accounts = await ctx.members.links.accounts(ctx.member.key)
    if choice == "auto":
        await ctx.members.update(ctx.member, remind_via=None)
        return Reply.of(
            _("Done: your reminders go to the account you last spoke to me from."),
            *await _reminders_state(ctx),
            aside=True,
        )
    mine = {a.platform: a for a in accounts}
    if choice not in mine:
        if choice not in ctx.host.adapters:
            choices = ", ".join(f"`{prefix}remind via {p}`" for p in sorted(ctx.host.adapters))
            raise UserError(
                _(
                    "Say where reminders should go: {choices}, or `{prefix}remind via auto` "
                    "for where you last spoke to me.",
                    choices=choices,
                    prefix=prefix,
                )
            )
        raise UserError(
            _(
                "You have no {platform} account linked to this one. Say `{prefix}link` here and "
                "type the code I send you from your {platform} account, then try again.",
                platform=choice.capitalize(),
                prefix=prefix,
            )
        )
    await ctx.members.update(ctx.member, remind_via=choice)
    account = mine[choice]
    return Reply.of(
        _(
            "Done: your reminders go to your {platform} account {name}.",
            platform=choice.capitalize(),
            name=Plain(account.display_name or account.id.partition(":")[2]),
        ),
        *await _reminders_state(ctx),
        aside=True,
    )


async def _reminders_state(ctx: Context) -> list[Msg | str]:
    """``!remind via`` only chooses where: say so when reminders are off."""
    async with ctx.db.sessions() as session:
        pref = await session.get(ReminderPrefRow, ctx.member.key)
    if pref is not None:
        return []
    return [
        " ",
        _(
            "Reminders are off: `{prefix}remind me {on}` turns them on.",
            prefix=ctx.prefix,
            on=SHOWN_KEYWORDS["on"],
        ),
    ]
