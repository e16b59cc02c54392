"""Meetings as platform-native scheduled events (Discord's Events tab), and "Interested" as RSVP.

An adapter that implements :class:`~chatbot.dispatch.adapter.EventPublisher` with its switch on
(``[adapters.discord] scheduled_events = true``) gets one event per meeting and per scope
(a Discord guild) of the meeting's rooms.  Publishing is durable: confirming, editing or
cancelling a meeting schedules a :data:`EVENT_JOB` job in the same transaction, and the job
brings the platform's events in line with the meeting as it then is (create, update, delete),
so jobs may run in any order or twice.  A job that finds the platform unreachable (adapter not
on this instance or not connected, Discord refusing or down) keeps what it did and schedules
itself again with back-off.

The recurrence is published only where the platform can hold it exactly: Discord's rules
repeat in UTC, so a series whose UTC time moves (daylight saving in its zone), a monthly rule
whose UTC date differs from its local one, or one with cancelled dates ahead is published as
its next occurrence only, and the ``advance`` job moves the event on when that one ends.

A member marking the event "Interested" answers yes (``source = "event"``); unmarking removes
that answer only if it still is the one the event gave, never an explicit ``!rsvp``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from chatbot.base.i18n import _
from chatbot.base.logs import get_logger
from chatbot.delivery.scheduler import Job, scheduler_of
from chatbot.dispatch.adapter import (
    EventInterest,
    EventPublisher,
    EventRecurrence,
    EventRef,
    EventSpec,
)
from chatbot.dispatch.answers import SHOWN_KEYWORDS
from chatbot.dispatch.context import room_language
from chatbot.messages.events import Inline, Plain, Reply
from chatbot.messages.localise import expand, text_in
from chatbot.storage.conditional import upsert
from commands.meetings.render import rsvp_usage
from commands.meetings.series import DAYS, MONTHLY_NTH, WEEKS, Rule
from commands.meetings.store import CONFIRMED, YES, MeetingEventRow, MeetingRow, RsvpRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host

log = get_logger("commands.meetings.events")

EVENT_JOB = "meetings.platform_event"
#: the RSVP source of an answer given by marking the event "Interested"
SOURCE = "event"
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 40
#: how far ahead a series must keep its UTC time to be published with its recurrence
STABLE_FOR = timedelta(days=366)


class NotHere(RuntimeError):
    """The platform's adapter is not connected on this instance: try again later."""


# -- which adapters publish ---------------------------------------------------------------------


def _publisher(bot: Host, platform: str) -> EventPublisher | None:
    adapter: object = bot.adapters.get(platform)
    if isinstance(adapter, EventPublisher):
        return adapter
    return None


def _platform_publishes(bot: Host, platform: str) -> bool:
    """The switch of the platform's adapter; for one run by another instance, its config."""
    if platform in bot.adapters:
        adapter = _publisher(bot, platform)
        return adapter is not None and adapter.publishes_events
    return bot.adapter_config(platform).get("scheduled_events") is True


async def schedule_sync(
    bot: Host, session: AsyncSession, row: MeetingRow, *, due: datetime
) -> bool:
    """Queue an event sync for ``row`` in the caller's transaction, if any of its rooms'
    platforms publishes events or events were published before; returns whether it did."""
    platforms = {room.platform for room in row.room_list() if not room.is_direct}
    wanted = any(_platform_publishes(bot, p) for p in platforms)
    if not wanted:
        found = await session.scalar(
            select(MeetingEventRow.event_id).where(MeetingEventRow.meeting_id == row.id).limit(1)
        )
        wanted = found is not None
    if wanted:
        await scheduler_of(bot).schedule(
            session,
            EVENT_JOB,
            due,
            payload={"meeting": row.id, "attempt": 0},
            grace=timedelta(days=3650),
            created_by=row.created_by,
        )
    return wanted


# -- what the event says ------------------------------------------------------------------------


def recurrence_of(row: MeetingRow, at: datetime) -> EventRecurrence | None:
    """The series' rule in UTC terms from ``at`` on, None where UTC cannot express it."""
    rule = Rule.decode(row.rule)
    if not rule.kind:
        return None
    series = row.series()
    if any(d > series.local_date_of(at) for d in series.exdates):
        return None
    local = series.local_date_of(at)
    if rule.kind == MONTHLY_NTH and local != at.date():
        return None
    horizon = at + STABLE_FOR
    for start in series.occurrences(at - timedelta(seconds=1), 400):
        if start > horizon:
            break
        if start.astimezone(UTC).time() != at.astimezone(UTC).time():
            return None  # daylight saving moves it in UTC
    if rule.kind == DAYS:
        return EventRecurrence("daily", rule.interval)
    if rule.kind == WEEKS:
        if rule.days and rule.days != (at.astimezone(UTC).weekday(),):
            return None  # on several weekdays: the next occurrence only, moved along
        return EventRecurrence("weekly", rule.interval, weekday=at.astimezone(UTC).weekday())
    return EventRecurrence("monthly", 1, weekday=rule.weekday, nth=rule.nth)


def event_spec(bot: Host, row: MeetingRow, at: datetime, lang: str | None = None) -> EventSpec:
    """The event as the platform shows it to everybody: in ``lang`` (the room's language,
    else the bot's), since one event is posted for all its readers."""
    lang = lang or bot.config.bot.language
    prefix = bot.prefix
    number = str(row.id)
    rule = Rule.decode(row.rule).words()
    head = (
        _("Meeting #{number}.", number=number)
        if rule is None
        else _("Meeting #{number}, {rule} ({zone} time).", number=number, rule=rule, zone=row.zone)
    )
    lines = [head]
    if row.link:
        lines.append(_("Join: {link}", link=Plain(row.link)))
    lines.append(
        _(
            '"Interested" counts as going; {rsvp} answers too, `{prefix}remind me {on}` '
            "sends reminders in your own time zone.",
            prefix=prefix,
            on=SHOWN_KEYWORDS["on"],
            rsvp=rsvp_usage(prefix, number),
        )
    )
    text: list[Inline] = []
    for line in lines:  # in the event's language now: the platform only renders it
        text += ["\n", *expand(line, lang)] if text else expand(line, lang)
    command = f"{prefix}meeting {number}"  # built outside _(): the extractor reads no f-strings
    where = _("See meeting #{number} ({command})", number=number, command=command)
    return EventSpec(
        title=row.title,
        starts_at=at,
        ends_at=at + timedelta(minutes=row.duration_minutes),
        location=row.link or text_in(where, lang),
        description=Reply(tuple(text)),
        recurrence=recurrence_of(row, at),
        key=f"meeting-{row.id}",
    )


# -- the job ------------------------------------------------------------------------------------


async def run_event_job(bot: Host, job: Job, session: AsyncSession) -> None:
    """Bring the platform events of one meeting in line; on failure, keep what was done and
    try again later (the scheduler itself never retries)."""
    meeting_id = int(job.payload["meeting"])
    attempt = int(job.payload.get("attempt", 0))
    try:
        await sync_events(bot, session, meeting_id)
    except Exception as exc:  # platform down, refusing (no Manage Events), or not here
        error = (str(exc).strip() or type(exc).__name__)[:300]
        if attempt + 1 >= MAX_ATTEMPTS:
            log.error(
                "meeting_event_gave_up", meeting=meeting_id, attempts=attempt + 1, error=error
            )
            return
        delay = min(RETRY_FIRST * 2**attempt, RETRY_MAX)
        log.warning(
            "meeting_event_retry",
            meeting=meeting_id,
            attempt=attempt + 1,
            retry_in=delay.total_seconds(),
            error=error,
        )
        await scheduler_of(bot).schedule(
            session,
            EVENT_JOB,
            bot.clock.now() + delay,
            payload={"meeting": meeting_id, "attempt": attempt + 1},
            grace=timedelta(days=3650),
            created_by=job.created_by,
        )


def _connected(bot: Host, platform: str) -> EventPublisher:
    adapter = _publisher(bot, platform)
    if adapter is None or not adapter.connected:
        raise NotHere(f"{platform} is not connected on this instance")
    return adapter


async def sync_events(bot: Host, session: AsyncSession, meeting_id: int) -> None:
    """Create, move or remove the meeting's events; the session records each step as it
    succeeds, so a later failure keeps the earlier ones."""
    row = await session.get(MeetingRow, meeting_id)
    existing = list(
        (
            await session.scalars(
                select(MeetingEventRow).where(MeetingEventRow.meeting_id == meeting_id)
            )
        ).all()
    )
    now = bot.clock.now()
    at = row.series().next_after(now) if row is not None and row.state == CONFIRMED else None
    wanted: dict[tuple[str, str], EventPublisher] = {}
    langs: dict[tuple[str, str], str | None] = {}
    if row is not None and at is not None:
        for room in row.room_list():
            if room.is_direct or not _platform_publishes(bot, room.platform):
                continue
            adapter = _connected(bot, room.platform)
            scope = adapter.event_scope(room)
            if scope is None:
                log.warning("meeting_event_no_scope", meeting=meeting_id, room=room.id)
                continue
            wanted[(room.platform, scope)] = adapter
            langs.setdefault((room.platform, scope), room_language(bot.config, room.id))

    def spec_for(key: tuple[str, str]) -> EventSpec | None:
        if row is None or at is None:
            return None
        return event_spec(bot, row, at, langs.get(key))

    for found in existing:
        key = (found.platform, found.scope)
        ref = EventRef(found.scope, found.event_id, recurring=found.recurring)
        keep = wanted.pop(key) if key in wanted else None
        spec = spec_for(key)
        if keep is not None and spec is not None:
            try:
                ref = await keep.update_event(ref, spec)
            except LookupError:  # deleted on the platform: publish it again
                ref = await keep.publish_event(found.scope, spec)
            found.event_id = ref.event_id
            found.recurring = ref.recurring
            found.updated_at = now
            continue
        await _connected(bot, found.platform).cancel_event(ref)
        await session.delete(found)
        log.info("meeting_event_removed", meeting=meeting_id, scope=found.scope)
    for (platform, scope), adapter in wanted.items():
        spec = spec_for((platform, scope))
        assert spec is not None
        ref = await adapter.publish_event(scope, spec)
        session.add(
            MeetingEventRow(
                meeting_id=meeting_id,
                platform=platform,
                scope=scope,
                event_id=ref.event_id,
                recurring=ref.recurring,
                updated_at=now,
            )
        )


# -- "Interested" -------------------------------------------------------------------------------


async def on_interest(bot: Host, interest: EventInterest) -> None:
    """Marking one of our events answers yes; unmarking takes back only that answer."""
    now = bot.clock.now()
    member = interest.member
    key = bot.members.key_of(member)  # a member who linked accounts answers once
    async with bot.db.session() as session:
        found = await session.scalar(
            select(MeetingEventRow).where(
                MeetingEventRow.platform == interest.platform,
                MeetingEventRow.scope == interest.scope,
                MeetingEventRow.event_id == interest.event_id,
            )
        )
        if found is None:
            return  # not one of ours
        meeting = await session.get(MeetingRow, found.meeting_id)
        if meeting is None or meeting.state != CONFIRMED:
            return
        # single statements, so an explicit !rsvp at the same moment is never overwritten
        # by a stale read nor collides with this insert
        mine = (RsvpRow.meeting_id == found.meeting_id, RsvpRow.member_id == key)
        if interest.interested:
            values = {
                "meeting_id": found.meeting_id,
                "member_id": key,
                "display_name": member.display_name,
                "answer": YES,
                "updated_at": now,
                "source": SOURCE,
            }
            if not await upsert(session, RsvpRow, values, list(values)[:2], replace=False):
                await session.execute(
                    update(RsvpRow)
                    .where(*mine, RsvpRow.answer != YES)
                    .values(answer=YES, source=SOURCE, updated_at=now)
                )
        else:
            await session.execute(
                delete(RsvpRow).where(*mine, RsvpRow.source == SOURCE, RsvpRow.answer == YES)
            )
    log.info(
        "meeting_event_interest",
        meeting=found.meeting_id,
        member=member.id,
        interested=interest.interested,
    )


def attach(bot: Host) -> None:
    """Register the job and hook the adapters that publish events (at the module's start)."""

    async def run(job: Job, session: AsyncSession) -> None:
        await run_event_job(bot, job, session)

    async def interest(event: EventInterest) -> None:
        await on_interest(bot, event)

    publishing = False
    for platform in bot.adapters:
        adapter = _publisher(bot, platform)
        if adapter is not None:
            adapter.on_event_interest = interest
            publishing = publishing or adapter.publishes_events
    if publishing:
        # only instances that publish claim the jobs (the scheduler claims registered kinds)
        scheduler_of(bot).register(EVENT_JOB, run)
