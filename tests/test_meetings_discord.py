"""Meetings on Discord (issue 7), through the real bot, the unmodified discord.py and the fake.

The announcement carries native timestamps and RSVP buttons; with ``scheduled_events`` on, a
meeting is also a Guild Scheduled Event (external, the link as its location, the recurrence
where Discord's UTC rules hold it) that follows edits and cancellations, and members marking
it "Interested" are counted as coming.  Nothing sleeps: each step waits for what the fake
records, or for the database commit it expects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from adapters.discord import DiscordAdapter
from chatbot.base.clock import FakeClock
from chatbot.delivery.scheduler import PENDING, scheduler_of
from chatbot.runtime.bot import Bot
from chatbot.storage.delivery import JobRow
from commands import basics, meetings, members
from commands.meetings.platform_events import EVENT_JOB
from commands.meetings.store import MeetingEventRow, RsvpRow
from tests.discord_fake import FakeDiscord, RecordedMessage, User
from tests.discord_fake.models import ADMINISTRATOR, JSON, MANAGE_EVENTS
from tests.discord_helpers import TOKEN_ENV, discord_config
from tests.harness import ready

T = TypeVar("T")

#: seconds for the bot to get ready, and for one thing the fake should record
WAIT = 10.0
#: Monday 1 March 2027, 12:00 UTC: the fake refuses events in the real past
START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LINK = "https://meet.example/apac"
EVENTS_ROUTE = "/guilds/{guild_id}/scheduled-events"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord, url: str, clock: FakeClock, *, scheduled_events: bool = True
) -> AsyncIterator[Bot]:
    """A bot with the meetings module on the Discord adapter, ready; stopped on exit."""
    config = discord_config(url, fake, scheduled_events=scheduled_events)
    bot = Bot(
        config,
        clock=clock,
        adapters=[DiscordAdapter(config)],
        modules=[basics.module, members.module, meetings.module],
    )
    async with ready(bot, WAIT):
        yield bot


async def until_committed(
    bot: Bot,
    check: Callable[[AsyncSession], Awaitable[T | None]],
    what: str,
) -> T:
    """Wait (without polling) until ``check`` finds something, re-checking after commits."""
    committed = asyncio.Event()

    def on_commit(_session: Session) -> None:
        committed.set()

    sa_event.listen(Session, "after_commit", on_commit)
    try:
        async with asyncio.timeout(WAIT):
            while True:
                committed.clear()
                async with bot.db.sessions() as session:
                    found = await check(session)
                if found is not None:
                    return found
                await committed.wait()
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
    finally:
        sa_event.remove(Session, "after_commit", on_commit)


def rsvp_of(member: str) -> Callable[[AsyncSession], Awaitable[RsvpRow | None]]:
    async def check(session: AsyncSession) -> RsvpRow | None:
        return await session.get(RsvpRow, (1, member))

    return check


def unix(at: datetime) -> int:
    return int(at.timestamp())


def starts_at(event: JSON) -> datetime:
    return datetime.fromisoformat(str(event["scheduled_start_time"]))


def custom_ids(message: RecordedMessage) -> list[str]:
    return [str(c["custom_id"]) for row in message.components for c in row["components"]]


async def say(fake: FakeDiscord, who: User | str, text: str, reply_start: str) -> RecordedMessage:
    """``who`` types ``text`` in #events; the bot's answer there that starts with
    ``reply_start`` (searched from this message on)."""
    assert fake.guild is not None
    channel = fake.guild.channel("events")
    start = len(fake.sent)
    await fake.send_message(channel, who, text)
    return await fake.wait_for_message(
        lambda m: m.content.startswith(reply_start),
        channel_id=channel.id,
        start=start,
        timeout=WAIT,
    )


async def add_and_confirm(fake: FakeDiscord, details: str) -> RecordedMessage:
    """Alice (an administrator, in Manila) adds meeting #1 and confirms it; the room post."""
    await say(fake, "alice", "!tz set Asia/Manila", "")
    await say(fake, "alice", f'!meeting add "APAC open meeting" {details}', "**Meeting #1")
    start = len(fake.sent)
    await say(fake, "alice", "!meeting confirm 1", "Meeting #1 is saved")
    return await fake.wait_for_message(
        lambda m: m.content.startswith("**Meeting #1**: APAC open meeting"),
        start=start,
        timeout=WAIT,
    )


async def test_meeting_announced_published_followed_and_cancelled(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Post with native times and buttons; event created, moved, RSVPs from it, deleted."""
    fake = discord_fake
    guild = fake.guild
    assert guild is not None
    events = guild.channel("events")
    bob = fake.user("bob")
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    first = datetime(2027, 3, 5, 1, 0, tzinfo=UTC)  # Friday 09:00 in Manila
    async with running(fake, sqlite_url, clock) as bot:
        post = await add_and_confirm(
            fake, f"2027-03-05 09:00 --duration 90m --every week --link {LINK}"
        )
        assert post.channel_id == events.id
        assert f"<t:{unix(first)}:F>" in post.content
        assert "every week (1 h 30 min)" in post.content
        assert f"Join: {LINK}" in post.content
        assert custom_ids(post) == [
            "wmlib:cmd:rsvp 1 yes",
            "wmlib:cmd:rsvp 1 maybe",
            "wmlib:cmd:rsvp 1 no",
        ]
        assert post.allowed_mentions == {"parse": []}

        created = await fake.wait_for_event_log("create", timeout=WAIT)
        assert created["guild_id"] == str(guild.id)
        assert created["name"] == "APAC open meeting"
        assert created["entity_type"] == 3 and created["channel_id"] is None
        assert created["entity_metadata"] == {"location": LINK}
        assert created["privacy_level"] == 2
        assert starts_at(created) == first
        assert datetime.fromisoformat(created["scheduled_end_time"]) == first + timedelta(
            minutes=90
        )
        assert "Meeting #1" in created["description"]
        rule = created["recurrence_rule"]
        assert rule is not None
        assert (rule["frequency"], rule["interval"], rule["by_weekday"]) == (2, 1, [4])
        assert datetime.fromisoformat(rule["start"]) == first
        event_id = int(created["id"])

        # editing the time moves the event (and its recurrence) with it
        log_at = len(fake.scheduled_event_log)
        await say(fake, "alice", "!meeting edit 1 when 2027-03-05 10:00", "Meeting #1 updated")
        moved = await fake.wait_for_event_log(
            "update", lambda e: starts_at(e) == first + timedelta(hours=1), start=log_at
        )
        assert int(moved["id"]) == event_id
        assert datetime.fromisoformat(moved["recurrence_rule"]["start"]) == starts_at(moved)

        # "Interested" counts as coming, and unmarking takes it back
        assert await fake.mark_interested(event_id, bob) == 1
        answer = await until_committed(bot, rsvp_of(f"discord:{bob.id}"), "bob's RSVP")
        assert (answer.answer, answer.source, answer.display_name) == ("yes", "event", "Bob")
        shown = await say(fake, bob, "!meeting 1", "**Meeting #1**")
        assert "Going (1): Bob" in shown.content

        async def gone(session: AsyncSession) -> bool | None:
            return True if await session.get(RsvpRow, (1, f"discord:{bob.id}")) is None else None

        await fake.mark_interested(event_id, bob, interested=False)
        await until_committed(bot, gone, "bob's RSVP removed")
        shown = await say(fake, bob, "!meeting 1", "**Meeting #1**")
        assert "Going (0): nobody yet" in shown.content

        # an explicit answer outlives the event's: mark, say no, unmark
        await fake.mark_interested(event_id, bob)
        await until_committed(bot, rsvp_of(f"discord:{bob.id}"), "bob's RSVP")
        await say(fake, bob, "!rsvp 1 no", "")
        await fake.mark_interested(event_id, bob, interested=False)
        await fake.mark_interested(event_id, "alice")
        await until_committed(bot, rsvp_of(f"discord:{fake.user('alice').id}"), "alice's RSVP")
        async with bot.db.sessions() as session:
            kept = await session.get(RsvpRow, (1, f"discord:{bob.id}"))
        assert kept is not None and (kept.answer, kept.source) == ("no", None)

        # cancelling the series deletes the event
        await say(fake, "alice", "!meeting cancel 1", "Meeting #1 is cancelled")
        deleted = await fake.wait_for_event_log("delete", timeout=WAIT)
        assert int(deleted["id"]) == event_id
        assert event_id not in fake.scheduled_events

        async def unmapped(session: AsyncSession) -> bool | None:
            found = await session.scalar(select(MeetingEventRow))
            return True if found is None else None

        await until_committed(bot, unmapped, "the event mapping removed")
    assert fake.unknown_requests == []


async def test_daylight_saving_series_is_published_one_occurrence_at_a_time(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """London's 15:00 moves in UTC: no Discord rule; the event moves on once a meeting ends."""
    fake = discord_fake
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    first = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)  # Wednesday 15:00 in London (GMT)
    async with running(fake, sqlite_url, clock) as bot:
        await add_and_confirm(fake, f"2027-03-03 15:00 Europe/London --every week --link {LINK}")
        created = await fake.wait_for_event_log("create", timeout=WAIT)
        assert starts_at(created) == first
        assert created["recurrence_rule"] is None

        log_at = len(fake.scheduled_event_log)
        clock.set(first + timedelta(minutes=61))
        scheduler_of(bot).wake()
        moved = await fake.wait_for_event_log("update", start=log_at, timeout=WAIT)
        assert int(moved["id"]) == int(created["id"])
        assert starts_at(moved) == first + timedelta(weeks=1)
        assert datetime.fromisoformat(moved["scheduled_end_time"]) == starts_at(moved) + timedelta(
            hours=1
        )

        # a moderator deletes the event in Discord: the next edit publishes it again
        await fake.delete_scheduled_event(int(created["id"]))
        log_at = len(fake.scheduled_event_log)
        await say(fake, "alice", '!meeting edit 1 title "EMEA open meeting"', "Meeting #1 updated")
        again = await fake.wait_for_event_log("create", start=log_at, timeout=WAIT)
        assert again["name"] == "EMEA open meeting"
        assert starts_at(again) == first + timedelta(weeks=1)
        assert len(fake.scheduled_events) == 1

        # cancelling that one date moves the event to the week after
        log_at = len(fake.scheduled_event_log)
        await say(fake, "alice", "!meeting cancel 1 --occurrence 2027-03-10", "Meeting #1 on")
        skipped = await fake.wait_for_event_log("update", start=log_at, timeout=WAIT)
        assert int(skipped["id"]) == int(again["id"])
        assert starts_at(skipped) == first + timedelta(weeks=2)


async def test_monthly_rule_within_discords_subset_is_kept(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 2nd Tuesday at 17:00 UTC is a Discord monthly rule; "last Friday" is not."""
    fake = discord_fake
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    async with running(fake, sqlite_url, clock):
        await add_and_confirm(fake, f"2027-03-09 17:00 UTC --monthly 2nd tuesday --link {LINK}")
        created = await fake.wait_for_event_log("create", timeout=WAIT)
        assert starts_at(created) == datetime(2027, 3, 9, 17, 0, tzinfo=UTC)
        rule = created["recurrence_rule"]
        assert (rule["frequency"], rule["by_n_weekday"]) == (1, [{"n": 2, "day": 1}])

        await say(fake, "alice", '!meeting add "Wrap-up" 2027-03-26 17:00 UTC', "**Meeting #2")
        # (a fresh draft: the same organiser, so the same flow)
        await say(fake, "alice", "!meeting cancel 2", "Draft #2 dropped")
        await say(
            fake,
            "alice",
            f'!meeting add "Wrap-up" 2027-03-26 17:00 UTC --monthly last friday --link {LINK}',
            "**Meeting #3",
        )
        await say(fake, "alice", "!meeting confirm 3", "Meeting #3 is saved")
        last = await fake.wait_for_event_log("create", lambda e: e["name"] == "Wrap-up")
        assert last["recurrence_rule"] is None


async def test_without_manage_events_the_event_is_retried_until_allowed(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord's 403 leaves the meeting saved and a retry job; with the permission, it lands."""
    fake = discord_fake
    guild = fake.guild
    assert guild is not None
    bot_role = guild.get_role(fake.bot_user.username)
    bot_role.permissions = 0
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    async with running(fake, sqlite_url, clock) as bot:
        await add_and_confirm(fake, f"2027-03-05 09:00 --every week --link {LINK}")
        refused = await fake.wait_for_request(
            "POST", EVENTS_ROUTE, lambda r: r.status == 403, timeout=WAIT
        )
        assert refused.status == 403

        async def retry(session: AsyncSession) -> JobRow | None:
            found = await session.scalars(
                select(JobRow).where(JobRow.kind == EVENT_JOB, JobRow.state == PENDING)
            )
            return next((j for j in found if '"attempt":1' in j.payload), None)

        job = await until_committed(bot, retry, "the retry job")
        assert job.due_at.replace(tzinfo=UTC) == START + timedelta(seconds=30)

        bot_role.permissions = MANAGE_EVENTS
        clock.advance(timedelta(seconds=30))
        scheduler_of(bot).wake()
        created = await fake.wait_for_event_log("create", timeout=WAIT)
        assert created["entity_metadata"] == {"location": LINK}
    bot_role.permissions = ADMINISTRATOR


async def test_switch_off_publishes_nothing(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``scheduled_events`` the meeting is announced, and no event job is queued."""
    fake = discord_fake
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    async with running(fake, sqlite_url, clock, scheduled_events=False) as bot:
        post = await add_and_confirm(fake, f"2027-03-05 09:00 --link {LINK}")
        assert f"<t:{unix(datetime(2027, 3, 5, 1, 0, tzinfo=UTC))}:F>" in post.content
        async with bot.db.sessions() as session:
            jobs: list[Any] = list(
                (await session.scalars(select(JobRow).where(JobRow.kind == EVENT_JOB))).all()
            )
        assert jobs == []
    assert fake.scheduled_event_log == []
    assert not [r for r in fake.requests if r.route == EVENTS_ROUTE]


async def test_the_organisers_preview_shows_native_times(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `!meeting add` understood, and `!meeting edit`'s next time, are also shown as
    Discord timestamps, which every reader sees in their own zone (no zone set needed)."""
    fake = discord_fake
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    first = datetime(2027, 3, 5, 1, 0, tzinfo=UTC)  # Friday 09:00 in Manila
    async with running(fake, sqlite_url, clock, scheduled_events=False):
        preview = await say(
            fake, "alice", '!meeting add "Call" 2027-03-05 09:00 Asia/Manila', "**Meeting #1"
        )
        edited = await say(
            fake, "alice", "!meeting edit 1 when 2027-03-05 10:00 Asia/Manila", "Meeting #1 updated"
        )
    assert "When: Fri 5 Mar, 09:00 (Manila) = 2027-03-05 01:00 UTC" in preview.content
    assert f"\nFor you: <t:{unix(first)}:F>\n" in preview.content
    assert f"<t:{unix(first + timedelta(hours=1))}:F>" in edited.content
