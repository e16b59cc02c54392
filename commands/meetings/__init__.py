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
meeting after it is written.  One given by a reaction is withdrawn when the reaction is taken
back (:mod:`.gestures`).

This package's ``__init__`` holds the module, its groups and start-up; the commands are in
:mod:`.organisers`, :mod:`.members` and :mod:`.minutes`, the jobs in :mod:`.jobs`, reading
the organisers' input in :mod:`.reading` and ``!mydata``/``!forgetme`` in :mod:`.privacy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chatbot.base.i18n import _
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.scheduler import Job, scheduler_of
from chatbot.dispatch.host import QUESTION_HOOKS
from chatbot.dispatch.registry import Module
from commands.meetings import gestures, platform_events
from commands.meetings.jobs import ADVANCE_JOB, run_advance, run_reminder
from commands.meetings.jobs import REMINDER_JOB as REMINDER_JOB
from commands.meetings.questions import next_meeting_hook
from commands.meetings.reading import parse_duration as parse_duration
from commands.meetings.reading import split_options as split_options

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

module = Module(
    "meetings", _("Open meetings, shown in every member's own time zone."), migrations=MIGRATIONS
)
meeting = module.group(
    "meeting",
    _("One meeting: add, confirm, edit, cancel, or show it."),
    # the word in Spanish, French, Portuguese (German "Treffen" is !meetings' alias)
    aliases=("reunión", "reunion", "réunion", "reunião", "reuniao"),
)
remind = module.group(
    "remind",
    _("Meeting reminders by direct message, in your own time zone."),
)


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
    gestures.attach(bot)
    hooks = bot.services.setdefault(QUESTION_HOOKS, [])
    hooks.append(next_meeting_hook(members.next_meeting_number, members.show))
    if bot.config.web.enabled:  # the calendar feed (needs the web extra and icalendar)
        from chatbot.web.app import add_route
        from commands.meetings.ics import ROUTES

        for method, path, handler in ROUTES:
            add_route(bot, method, path, handler)
        if bot.config.web.public_pages:
            from commands.meetings.web import add_routes

            add_routes(bot)


# isort: off
# the command modules register on ``module`` and the groups above when imported, in the
# order ``!help`` lists them
from commands.meetings import organisers  # noqa: E402, F401
from commands.meetings import members  # noqa: E402
from commands.meetings import minutes  # noqa: E402, F401
from commands.meetings import privacy  # noqa: E402, F401
# isort: on
