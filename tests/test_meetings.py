"""``!meeting`` / ``!meetings`` / ``!rsvp`` / ``!remind me`` through the console, and reminders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from chatbot.base.clock import FakeClock
from chatbot.delivery.outbox import Outbox
from chatbot.delivery.scheduler import SKIPPED, Scheduler
from chatbot.dispatch.adapter import Withdrawn
from chatbot.messages.events import Incoming
from chatbot.storage.delivery import JobRow, OutboxRow
from commands import announce, basics, members
from commands import meetings as meetings_module
from commands.meetings.store import MeetingRow, ReminderPrefRow, RsvpGestureRow, RsvpRow
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, meetings_module.module]


async def _open(url: str, clock: FakeClock) -> ConsoleChat:
    return await open_chat(url, clock, modules=MODULES)


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await _open(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def work(chat: ConsoleChat) -> list[str]:
    """Run due jobs, then the outbox sender until nothing is due; the lines printed."""
    scheduler = chat.bot.services["scheduler"]
    outbox = chat.bot.services["outbox"]
    assert isinstance(scheduler, Scheduler) and isinstance(outbox, Outbox)
    chat.out.seek(0)
    chat.out.truncate()
    while await scheduler.run_once():
        pass
    while await outbox.run_once():
        pass
    return chat.out.getvalue().splitlines()


async def add_and_confirm(chat: ConsoleChat, line: str) -> None:
    echo = await chat.say(line, as_="ana", room="#general")
    assert "(not saved yet)" in echo
    assert "is saved" in await chat.say("!meeting confirm 1")


async def test_members_cannot_add_confirm_edit_or_cancel(chat: ConsoleChat) -> None:
    """Adding, confirming, editing and cancelling meetings is for organisers only."""
    for line in (
        '!meeting add "Call" tomorrow 15:00',
        "!meeting confirm 1",
        "!meeting edit 1 title New",
        "!meeting cancel 1",
    ):
        assert "Only organisers can use `!meeting" in await chat.say(line, as_="bob")


async def test_add_echoes_in_zone_and_utc_and_refuses_bad_dates(chat: ConsoleChat) -> None:
    """The echo shows the organiser's zone, UTC and the rule; past/unreadable are refused."""
    await chat.say("!tz set Europe/London", as_="ana")
    echo = await chat.say(
        '!meeting add "Open meeting" 2026-12-02 15:00 --duration 90m --every week '
        "--link https://meet.example/x"
    )
    assert echo.splitlines() == [
        "Meeting #1 (not saved yet): Open meeting",
        "When: Wed 2 Dec, 15:00 (London) = 2026-12-02 15:00 UTC; repeats every week, 15:00 "
        "London time",
        "Duration: 1 h 30 min",
        "Link: https://meet.example/x",
        "It will be posted in: #general (console)",
        "If that is right, type `!meeting confirm 1`; otherwise `!meeting cancel 1`.",
    ]
    manila = await chat.say('!meeting add "APAC" 2026-12-03 09:00 Asia/Manila --monthly 1st thu')
    assert (
        "When: Thu 3 Dec, 09:00 (Manila) = 2026-12-03 01:00 UTC; repeats every 1st Thursday of "
        "the month, 09:00 Manila time" in manila
    )
    assert "For you: Thu 3 Dec, 01:00 (London)" in manila
    past = await chat.say('!meeting add "Late" yesterday 15:00')
    assert "which has already passed" in past and 'For example: `!meeting add "Open' in past
    assert "I can't read 'blorp' as a date" in await chat.say('!meeting add "X" blorp')
    # a title of several words without quotes: the command to type, nothing saved
    unquoted = await chat.say("!meeting add Open meeting friday 15:00 --duration 1h")
    assert 'Is the title "Open meeting"?' in unquoted
    assert '`!meeting add "Open meeting" friday 15:00 --duration 1h`' in unquoted
    ambiguous = await chat.say('!meeting add "X" friday 15:00 IST')
    assert "IST can mean several zones" in ambiguous and "For example: `!meeting add" in ambiguous
    assert "When is it?" in await chat.say('!meeting add "X" --every week')
    # series typed the way people say them, shown back in words before anything is saved
    said = await chat.say('!meeting add "Americas call" every second Tuesday at 15:00 UTC')
    assert "repeats every 2nd Tuesday of the month, 15:00 UTC" in said
    assert "When: Tue 8 Dec, 15:00 (UTC) = 2026-12-08 15:00 UTC" in said
    said = await chat.say('!meeting add "Standup" weekdays 9:00')
    assert "repeats every weekday (Monday to Friday), 09:00 London time" in said
    said = await chat.say('!meeting add "Sync" friday 15:00 --every other week')
    assert "repeats every 2 weeks, 15:00 London time" in said
    said = await chat.say('!meeting add "EMEA" first monday of the month 14:00')
    assert "repeats every 1st Monday of the month, 14:00 London time" in said
    said = await chat.say('!meeting add "X" --every second tuesday')
    assert "When is it?" in said and "can't read --every" not in said
    said = await chat.say('!meeting add "X" monthly on the 2nd tuesday')
    assert "at what time?" in said
    assert "`--every` or `--monthly`" in await chat.say(
        '!meeting add "X" friday 10:00 --every week --monthly 2nd tue'
    )
    assert "I don't know `--foo`" in await chat.say('!meeting add "X" friday 10:00 --foo 1')
    assert await chat.say("!meetings") == "No meetings are planned yet."


async def test_add_confirm_list_show_rsvp_and_cancel(chat: ConsoleChat) -> None:
    """The whole flow: confirm posts with RSVP hints, members see their own zone, cancel."""
    await chat.say("!tz set Europe/London", as_="ana")
    await chat.say(
        '!meeting add "Open meeting" 2026-12-02 15:00 --every week --link https://meet.example/x'
    )
    assert "someone else's draft" in await chat.say("!meeting confirm 1", as_="olga")
    assert "is saved: Open meeting, Wed 2 Dec, 15:00 (London)" in await chat.say(
        "!meeting confirm 1", as_="ana"
    )
    assert "already confirmed" in await chat.say("!meeting confirm 1")
    posted = await work(chat)
    # the console's reader is ana (London): a room post shows the reading member's zone
    assert posted[0] == "Meeting #1: Open meeting — Wed 2 Dec, 15:00 (London), every week (1 h)"
    assert "Join: https://meet.example/x" in posted
    assert posted.count(posted[0]) == 1
    listing = await chat.say("!meetings", as_="bob")
    assert "• #1 Open meeting — Wed 2 Dec, 15:00 (UTC) (every week)" in listing
    assert "Times are in UTC: set your zone with `!tz set <city>`" in listing
    await chat.say("!tz set Manila")
    listing = await chat.say("!meetings")
    assert "• #1 Open meeting — Wed 2 Dec, 23:00 (Manila) (every week)" in listing
    assert "Times are in UTC" not in listing
    assert (
        await chat.say("!rsvp 1 yes")
        == "You're going to #1 Open meeting (Wed 2 Dec, 23:00 (Manila))."
    )
    await chat.say("!rsvp 1 maybe", as_="carol")
    await chat.say("!rsvp 1 no", as_="dan")
    shown = await chat.say("!meeting 1", as_="bob")
    assert shown.splitlines() == [
        "Meeting #1: Open meeting",
        "When: Wed 2 Dec, 23:00 (Manila), every week (1 h)",
        "Link: https://meet.example/x",
        "Going (1): bob",
        "Maybe (1): carol",
        "Can't come: 1",
        "`!rsvp 1 yes|maybe|no`",
    ]
    assert "There is no meeting #9." in await chat.say("!meeting 9")
    one = await chat.say("!meeting cancel 1 --occurrence 2026-12-09", as_="ana")
    assert one == "Meeting #1 on Wed 9 Dec, 15:00 (London) is cancelled; the series goes on."
    assert "no upcoming occurrence on 2026-12-10" in await chat.say(
        "!meeting cancel 1 --occurrence 2026-12-10"
    )
    async with chat.bot.db.sessions() as session:
        row = await session.get(MeetingRow, 1)
    assert row is not None and row.exdates == '["2026-12-09"]'
    assert "Duration: 2 h" in await chat.say("!meeting edit 1 duration 2h")
    await work(chat)
    edited = await chat.say("!meeting edit 1 when 2026-12-03 16:00")
    assert "Next: Thu 3 Dec, 16:00 (London) = 2026-12-03 16:00 UTC; repeats every week" in edited
    moved = await work(chat)
    assert moved[0] == (
        "Moved: Meeting #1: Open meeting — Thu 3 Dec, 16:00 (London), every week (2 h)"
    )
    assert "cancelled (the whole series)" in await chat.say("!meeting cancel 1")
    assert await chat.say("!meetings") == "No meetings are planned yet."
    assert "is cancelled" in await chat.say("!meeting 1")
    assert "not open for answers" in await chat.say("!rsvp 1 yes", as_="bob")


async def test_reminders_to_rooms_and_opted_in_members(chat: ConsoleChat, clock: FakeClock) -> None:
    """At each lead time rooms get a post; opted-in members a DM in their own zone only."""
    await add_and_confirm(chat, '!meeting add "Call" 2026-11-27 15:00 UTC')
    await work(chat)
    await chat.say("!tz set Asia/Kathmandu", as_="bob")
    assert "I'll DM you 1 day before and 15 minutes before each meeting" in await chat.say(
        "!remind me on"
    )
    await chat.say("!remind me on 1h", as_="carol")
    assert "I can't use '2m'" in await chat.say("!remind me on 2m", as_="dan")
    clock.set(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
    lines = await work(chat)
    assert lines[0].startswith("Reminder (in 1 day): meeting #1 Call — Fri 27 Nov, 15:00 (UTC)")
    assert "[DM to bob] Reminder: Call starts in 1 day, Fri 27 Nov, 20:45 (Kathmandu)." in lines
    assert not any("carol" in line for line in lines)
    clock.set(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))
    lines = await work(chat)
    assert lines == ["[DM to carol] Reminder: Call starts in 1 hour, Fri 27 Nov, 15:00 (UTC)."]
    await chat.say("!rsvp 1 no", as_="bob")
    clock.set(datetime(2026, 11, 27, 14, 45, tzinfo=UTC))
    lines = await work(chat)
    assert len(lines) >= 1 and lines[0].startswith("Reminder (in 15 minutes): meeting #1 Call")
    assert not any("DM to bob" in line for line in lines)  # bob said he can't come
    assert await work(chat) == []


async def test_a_reminder_due_in_an_outage_is_sent_once_within_grace_then_skipped(
    db_url: str, clock: FakeClock
) -> None:
    """After a restart a late reminder within its grace goes out once; past it, it's skipped."""
    chat = await _open(db_url, clock)
    try:
        await add_and_confirm(chat, '!meeting add "Call" 2026-11-27 15:00 UTC')
        await work(chat)
    finally:
        await chat.bot.close()
    clock.set(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))  # the 1-day reminder is 2 h late
    chat = await _open(db_url, clock)
    try:
        lines = await work(chat)
        assert [line for line in lines if line.startswith("Reminder")] == [
            "Reminder (in 1 day): meeting #1 Call — Fri 27 Nov, 15:00 (UTC) (1 h)"
        ]
        assert await work(chat) == []
    finally:
        await chat.bot.close()
    clock.set(datetime(2026, 11, 27, 14, 55, tzinfo=UTC))  # the 15-minute one is 10 min late
    chat = await _open(db_url, clock)
    try:
        assert await work(chat) == []
        async with chat.bot.db.sessions() as session:
            jobs = (await session.scalars(select(JobRow).order_by(JobRow.due_at))).all()
        by_lead = {
            int(j.payload.split('"lead":')[1].rstrip("}")): j.state
            for j in jobs
            if '"lead"' in j.payload
        }
        assert by_lead[15] == SKIPPED and by_lead[1440] == "done"
    finally:
        await chat.bot.close()


async def test_weekly_series_schedules_the_next_occurrence(
    chat: ConsoleChat, clock: FakeClock
) -> None:
    """At each start the next occurrence's reminders are scheduled; an EXDATE posts nothing."""
    await add_and_confirm(chat, '!meeting add "Weekly" 2026-11-26 10:00 UTC --every week')
    await chat.say("!meeting cancel 1 --occurrence 2026-12-03", as_="ana")
    await work(chat)
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await work(chat)
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))  # 1 day before the cancelled date
    assert not any(line.startswith("Reminder") for line in await work(chat))
    clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    await work(chat)
    clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=UTC))
    lines = await work(chat)
    assert "Reminder (in 1 day): meeting #1 Weekly — Thu 10 Dec, 10:00 (UTC), every week (1 h)" in (
        lines
    )


async def test_mydata_and_forgetme_include_rsvps_and_reminders(chat: ConsoleChat) -> None:
    """!mydata lists RSVPs and reminder settings; !forgetme deletes them."""
    await add_and_confirm(chat, '!meeting add "Call" 2026-11-27 15:00 UTC')
    await chat.say("!rsvp 1 yes", as_="bob")
    await chat.say("!remind me on 7d,15m")
    data = await chat.say("!mydata")
    assert '"meetings": {' in data and '"answer": "yes"' in data
    assert '"lead_minutes": [' in data and "10080" in data
    done = await chat.say("!forgetme confirm")
    assert "Your meeting answers and reminder settings are deleted too." in done
    async with chat.bot.db.sessions() as session:
        assert (await session.scalars(select(RsvpRow))).all() == []
        assert (await session.scalars(select(ReminderPrefRow))).all() == []
    assert "I'll DM you" in await chat.say("!remind me on", as_="bob")
    assert await chat.say("!remind me off") == "Meeting reminders are off."


async def test_reaction_answers_are_listed_and_forgotten(chat: ConsoleChat) -> None:
    """An answer given by a reaction (as the Matrix adapter hands it over: a command with the
    reaction as its gesture) is listed by !mydata with its reaction, and !forgetme deletes
    both; a redaction of something else changes nothing."""
    await add_and_confirm(chat, '!meeting add "Call" 2026-11-27 15:00 UTC')
    await chat.say("/who", as_="bob")
    member, room = chat.adapter.member, chat.adapter.room
    pressed = Incoming("console", member, room, "!rsvp 1 maybe", gesture="$reaction-1")
    await chat.bot.handle(pressed)
    other = Withdrawn("console", room, "$some-message", member)
    await meetings_module.gestures.on_withdrawn(chat.bot, other)
    data = await chat.say("!mydata")
    assert '"answer": "maybe"' in data and '"reaction": "$reaction-1"' in data
    done = await chat.say("!forgetme confirm")
    assert "Your meeting answers and reminder settings are deleted too." in done
    async with chat.bot.db.sessions() as session:
        assert (await session.scalars(select(RsvpRow))).all() == []
        assert (await session.scalars(select(RsvpGestureRow))).all() == []


async def test_broadcast_rooms_are_reused_when_set(sqlite_url: str, clock: FakeClock) -> None:
    """With broadcast rooms (from !announce), meetings are posted there, not where added."""
    chat = await open_chat(sqlite_url, clock, modules=[*MODULES, announce.module])
    try:
        await chat.say("!announce rooms add here", as_="ana", room="#events")
        echo = await chat.say('!meeting add "Call" 2026-11-27 15:00 UTC', room="#general")
        assert "It will be posted in: #events (console)" in echo
        await chat.say("!meeting confirm 1")
        async with chat.bot.db.sessions() as session:
            rooms = (await session.scalars(select(OutboxRow.room_id))).all()
        assert list(rooms) == ["console:#events"]
        dm = await chat.say('!meeting add "Call" 2026-11-27 15:00 UTC', room="dm")
        assert "It will be posted in: #events (console)" in dm
    finally:
        await chat.bot.close()


@pytest.mark.parametrize(
    "question",
    [
        "when is the next meeting?",
        "next call??",
        "¿Cuándo es la próxima reunión?",
        "quand est la prochaine réunion ?",
        "wann ist das nächste Treffen?",
        "quando é a próxima reunião?",
    ],
)
async def test_next_meeting_questions_get_the_meeting(
    sqlite_url: str, clock: FakeClock, question: str
) -> None:
    """Asked by DM, by mention or with !ask, in English or another of the group's
    languages, the answer is the next meeting itself, in the member's zone, with the RSVP."""
    from commands import faq

    chat = await open_chat(sqlite_url, clock, modules=[*MODULES, faq.module])
    try:
        assert "No meeting is planned yet" in await chat.say(question, room="dm")
        await chat.say("!tz set Europe/London", as_="ana", room="#general")
        await chat.say('!meeting add "Open meeting" 2026-12-02 15:00 --every week')
        await chat.say("!meeting confirm 1")
        await chat.say('!meeting add "Later meeting" 2026-12-09 15:00')
        await chat.say("!meeting confirm 2")
        await chat.say("!tz set Manila", as_="rosa")
        for answer in (
            await chat.say(question, room="dm"),
            await chat.say(f"!ask {question}", room="#general"),
        ):
            assert answer.startswith("The next meeting:")
            assert "Meeting #1" in answer and "Wed 2 Dec, 23:00 (Manila)" in answer
            assert "!rsvp 1 yes|maybe|no" in answer
        # other questions about meetings still go to the knowledge base
        assert "The next meeting" not in await chat.say("!ask how do I add a meeting?")
    finally:
        await chat.bot.close()
