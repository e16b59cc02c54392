"""The reminder and advance jobs of a meeting's occurrences (see the package docstring):
scheduling them, and what each queues in the outbox when it runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from chatbot.base.i18n import first_language
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import REMINDER, Delivery, dm_rows, insert_rows
from chatbot.delivery.scheduler import Job, scheduler_of
from chatbot.dispatch.context import room_language, room_reader
from chatbot.messages.events import Reply
from chatbot.storage.models import MemberRow
from commands.meetings import platform_events
from commands.meetings.render import room_post
from commands.meetings.series import Rule
from commands.meetings.store import CONFIRMED, NO, MeetingRow, ReminderPrefRow, RsvpRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host

REMINDER_JOB = "meetings.reminder"
ADVANCE_JOB = "meetings.advance"
#: lead times (minutes) posted in the meeting's rooms
ROOM_LEADS = (7 * 1440, 1440, 15)
#: lead times a member may pick for DMs (a job is scheduled for each)
MEMBER_LEADS = (7 * 1440, 2 * 1440, 1440, 720, 360, 60, 30, 15, 5)


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


def room_deliveries(
    bot: Host, row: MeetingRow, at: datetime, kind: str, reply: Reply
) -> list[Delivery]:
    """The post in each of the meeting's rooms, translated into the room's language."""
    return [
        Delivery(
            room.platform,
            reply,
            room=room,
            reader=room_reader(bot.config, room.id),
            kind=kind,
            owner_id=row.created_by,
            ref=f"meeting:{row.id}",
            expires_at=at,
        )
        for room in row.room_list()
    ]


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
        await outbox.enqueue(session, room_deliveries(bot, row, at, REMINDER, post))
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
    # a member who chose no language reads the meeting's (first) room's, else the bot's
    rooms = row.room_list()
    fallback = (
        room_language(bot.config, rooms[0].id) if rooms else None
    ) or bot.config.bot.language
    linked = bot.members.links.linked_keys()
    for pref, zone, lang in found:
        if lead in pref.lead_minutes() and pref.member_id not in declined:
            # the id's own platform: a setting made on a linked account is kept under the
            # member's key, which stays theirs after ``!unlink`` (``pref.platform`` is where
            # it was typed)
            target, name = pref.member_id, pref.display_name
            platform = target.partition(":")[0] or pref.platform
            if target in linked:  # one reminder, where the member last spoke or chose
                account = await bot.members.links.deliver_to(target)
                target, platform = account.id, account.platform
                name = account.display_name or name
            by_platform.setdefault(platform, []).append(
                (target, name, zone, first_language(lang, None, fallback))
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
