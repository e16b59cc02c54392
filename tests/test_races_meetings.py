"""Meetings and RSVPs under concurrency, on SQLite and PostgreSQL.

Each ``*_round`` function runs one race on a fresh meeting and returns the faults it saw
(empty when all went right); the tests run several rounds and expect none, and
``benchmarks/races.py`` counts them on any version of the bot.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import func, select

from chatbot.base.clock import FakeClock
from chatbot.delivery.outbox_rows import ANNOUNCEMENT
from chatbot.storage.delivery import JobRow, OutboxRow
from commands import basics, members
from commands import meetings as meetings_module
from commands.meetings import REMINDER_JOB
from commands.meetings.store import MeetingRow, RsvpRow
from tests.concurrency import ROUNDS, Said, race
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, meetings_module.module]
Round = Callable[[ConsoleChat], Awaitable[list[str]]]


async def open_meetings(url: str, clock: FakeClock) -> ConsoleChat:
    return await open_chat(url, clock, modules=MODULES)


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_meetings(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def new_meeting(chat: ConsoleChat, *, confirmed: bool) -> int:
    echo = await chat.say('!meeting add "Call" 2026-12-02 15:00 UTC', as_="ana", room="#general")
    found = re.search(r"Meeting #(\d+)", echo)
    assert found is not None, echo
    number = int(found.group(1))
    if confirmed:
        assert "is saved" in await chat.say(f"!meeting confirm {number}")
    return number


async def meeting(chat: ConsoleChat, number: int) -> MeetingRow:
    async with chat.bot.db.sessions() as session:
        row = await session.get(MeetingRow, number)
    assert row is not None
    return row


async def announcements(chat: ConsoleChat, number: int) -> list[str]:
    async with chat.bot.db.sessions() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(
                OutboxRow.ref == f"meeting:{number}", OutboxRow.kind == ANNOUNCEMENT
            )
        )
        return list(rows)


async def reminder_times(chat: ConsoleChat, number: int) -> dict[int, set[str]]:
    """The occurrence times of the pending reminder jobs, by generation."""
    async with chat.bot.db.sessions() as session:
        payloads = await session.scalars(
            select(JobRow.payload).where(JobRow.kind == REMINDER_JOB, JobRow.state == "pending")
        )
        found: dict[int, set[str]] = {}
        for raw in payloads:
            payload = json.loads(raw)
            if payload["meeting"] == number:
                found.setdefault(payload["generation"], set()).add(payload["at"])
        return found


def winners(replies: list[str], won: str) -> list[int]:
    return [i for i, text in enumerate(replies) if won in text]


def internal(replies: list[str]) -> list[str]:
    return ["an internal error"] if any("something broke" in t for t in replies) else []


async def confirm_twice_round(chat: ConsoleChat) -> list[str]:
    """The organiser sends confirm twice at once: saved once, announced once."""
    number = await new_meeting(chat, confirmed=False)
    command = f"!meeting confirm {number}"
    replies = await race(chat, [Said("ana", command), Said("ana", command)])
    faults = internal(replies)
    won = winners(replies, "is saved")
    if len(won) != 1:
        faults.append(f"{len(won)} winners")
    elif f"Meeting #{number} is already confirmed." not in replies[1 - won[0]]:
        faults.append("the loser not told it is already confirmed")
    if len(await announcements(chat, number)) != 1:
        faults.append(f"announced {len(await announcements(chat, number))} times")
    times = await reminder_times(chat, number)
    if sum(len(v) for v in times.values()) != 1 or await _doubled_jobs(chat, number):
        faults.append("reminders scheduled twice")
    return faults


async def _doubled_jobs(chat: ConsoleChat, number: int) -> bool:
    async with chat.bot.db.sessions() as session:
        payloads = list(
            await session.scalars(
                select(JobRow.payload).where(JobRow.kind == REMINDER_JOB, JobRow.state == "pending")
            )
        )
    mine = [p for p in payloads if json.loads(p)["meeting"] == number]
    return len(mine) != len(set(mine))


async def cancel_twice_round(chat: ConsoleChat) -> list[str]:
    """Two organisers cancel a confirmed meeting at once: one cancellation, one notice."""
    number = await new_meeting(chat, confirmed=True)
    command = f"!meeting cancel {number}"
    replies = await race(chat, [Said("ana", command), Said("olga", command)])
    faults = internal(replies)
    won = winners(replies, "is cancelled")
    if len(won) != 1:
        faults.append(f"{len(won)} winners")
    elif f"Meeting #{number} is already cancelled." not in replies[1 - won[0]]:
        faults.append("the loser not told it is already cancelled")
    if len(await announcements(chat, number)) != 2:  # the confirmation, one cancellation
        faults.append(f"{len(await announcements(chat, number)) - 1} cancellation notices")
    return faults


async def confirm_or_cancel_round(chat: ConsoleChat) -> list[str]:
    """Confirm and cancel a draft at once: both in some order, never a confirmed meeting
    whose cancellation was also reported, nor a dropped draft that was announced."""
    number = await new_meeting(chat, confirmed=False)
    replies = await race(
        chat, [Said("ana", f"!meeting confirm {number}"), Said("olga", f"!meeting cancel {number}")]
    )
    faults = internal(replies)
    row = await meeting(chat, number)
    saved, dropped = "is saved" in replies[0], "Draft" in replies[1] and "dropped" in replies[1]
    cancelled = "is cancelled" in replies[1]
    if saved and dropped:
        faults.append("saved and dropped as a draft")
    if (dropped or cancelled) and row.state != "cancelled":
        faults.append(f"cancel reported but the meeting is {row.state}")
    if saved and not (cancelled or row.state == "confirmed"):
        faults.append("saved but neither confirmed nor cancelled after")
    if dropped and await announcements(chat, number):
        faults.append("a dropped draft was announced")
    return faults


async def move_twice_round(chat: ConsoleChat) -> list[str]:
    """Two organisers move a meeting at once: it ends at one of the two times and only that
    time has live reminders."""
    number = await new_meeting(chat, confirmed=True)
    replies = await race(
        chat,
        [
            Said("ana", f"!meeting edit {number} when 2026-12-03 16:00 UTC"),
            Said("olga", f"!meeting edit {number} when 2026-12-04 17:00 UTC"),
        ],
    )
    faults = internal(replies)
    row = await meeting(chat, number)
    if row.start_local not in ("2026-12-03T16:00", "2026-12-04T17:00"):
        faults.append(f"ends at {row.start_local}")
    live = (await reminder_times(chat, number)).get(row.generation, set())
    if len(live) != 1:
        faults.append(f"live reminders for {len(live)} times")
    if await _doubled_jobs(chat, number):
        faults.append("reminders scheduled twice")
    return faults


async def cancel_a_date_twice_round(chat: ConsoleChat) -> list[str]:
    """Two organisers cancel the same date of a series at once: one notice, the other told."""
    echo = await chat.say(
        '!meeting add "Weekly" 2026-12-02 15:00 UTC --every week', as_="ana", room="#general"
    )
    found = re.search(r"Meeting #(\d+)", echo)
    assert found is not None, echo
    number = int(found.group(1))
    assert "is saved" in await chat.say(f"!meeting confirm {number}")
    command = f"!meeting cancel {number} --occurrence 2026-12-09"
    replies = await race(chat, [Said("ana", command), Said("olga", command)])
    faults = internal(replies)
    won = winners(replies, "is cancelled; the series goes on")
    if len(won) != 1:
        faults.append(f"{len(won)} winners")
    elif "no upcoming occurrence on 2026-12-09" not in replies[1 - won[0]]:
        faults.append("the loser not told the date is already cancelled")
    if len(await announcements(chat, number)) != 2:  # the confirmation, one cancellation
        faults.append(f"{len(await announcements(chat, number)) - 1} cancellation notices")
    if json.loads((await meeting(chat, number)).exdates) != ["2026-12-09"]:
        faults.append("the cancelled dates are wrong")
    return faults


async def rsvp_same_member_round(chat: ConsoleChat) -> list[str]:
    """One member's three first answers at once: all answered, one row, the last one kept."""
    number = await new_meeting(chat, confirmed=True)
    answers = ["yes", "maybe", "no"]
    replies = await race(chat, [Said("bob", f"!rsvp {number} {a}") for a in answers])
    faults = internal(replies)
    if sum(bool(re.search(r"(going to|Maybe, then, for|can't make) #", t)) for t in replies) != 3:
        faults.append("not every answer acknowledged")
    async with chat.bot.db.sessions() as session:
        rows = (
            await session.scalars(select(RsvpRow.answer).where(RsvpRow.meeting_id == number))
        ).all()
    if len(rows) != 1 or rows[0] not in answers:
        faults.append(f"rows {list(rows)}")
    return faults


async def rsvp_many_members_round(chat: ConsoleChat) -> list[str]:
    """Six members answer at once: six answers counted."""
    number = await new_meeting(chat, confirmed=True)
    names = ["bob", "carol", "dan", "erin", "femi", "gita"]
    replies = await race(chat, [Said(n, f"!rsvp {number} yes") for n in names])
    faults = internal(replies)
    async with chat.bot.db.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(RsvpRow).where(RsvpRow.meeting_id == number)
        )
    if count != len(names):
        faults.append(f"{count} answers counted")
    shown = await chat.say(f"!meeting {number}", as_="bob")
    if "Going (6)" not in shown:
        faults.append("the meeting does not show six going")
    return faults


ROUND_FUNCTIONS: dict[str, Round] = {
    "confirm twice": confirm_twice_round,
    "cancel twice": cancel_twice_round,
    "confirm vs cancel": confirm_or_cancel_round,
    "move twice": move_twice_round,
    "cancel a date twice": cancel_a_date_twice_round,
    "rsvp: one member, three answers": rsvp_same_member_round,
    "rsvp: six members": rsvp_many_members_round,
}


@pytest.mark.parametrize("name", list(ROUND_FUNCTIONS))
async def test_meeting_races(chat: ConsoleChat, name: str) -> None:
    """Every round of the race goes right."""
    for _ in range(ROUNDS):
        assert await ROUND_FUNCTIONS[name](chat) == []
