"""Flood protection: token buckets per member and per room, one notice per flood."""

from __future__ import annotations

from chatbot.base.clock import FakeClock
from chatbot.dispatch.ratelimit import FloodGuard, Verdict
from tests.harness import open_chat


def test_member_bucket_refills_and_notifies_once(clock: FakeClock) -> None:
    """A flooding member is told once, then ignored until the bucket refills."""
    guard = FloodGuard(clock, member_rate=1.0, member_burst=3, room_rate=100, room_burst=100)
    verdicts = [guard.check("m", "r") for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTIFY, Verdict.SILENT, Verdict.SILENT]
    clock.advance(1.0)
    assert guard.check("m", "r") is Verdict.ALLOW
    assert guard.check("m", "r") is Verdict.NOTIFY  # a new flood gets a new notice


def test_room_bucket_is_shared(clock: FakeClock) -> None:
    """A busy room limits everyone in it, and each member is told once."""
    guard = FloodGuard(clock, member_rate=10, member_burst=10, room_rate=0.5, room_burst=2)
    assert guard.check("a", "r") is Verdict.ALLOW
    assert guard.check("b", "r") is Verdict.ALLOW
    assert guard.check("a", "r") is Verdict.NOTIFY
    assert guard.check("b", "r") is Verdict.NOTIFY
    assert guard.check("a", "r") is Verdict.SILENT
    assert guard.check("c", "other") is Verdict.ALLOW
    clock.advance(2.0)
    assert guard.check("a", "r") is Verdict.ALLOW


def test_pruning_keeps_memory_bounded(clock: FakeClock) -> None:
    """Buckets of members who went quiet are dropped once the table is full."""
    guard = FloodGuard(clock, member_rate=1, member_burst=2, room_rate=1, room_burst=10**9)
    guard.members.max_keys = 100
    for i in range(100):
        guard.check(f"m{i}", "r")
    clock.advance(10)
    guard.check("newcomer", "r")
    assert len(guard.members._buckets) <= 2


async def test_flood_in_chat_gets_one_notice(sqlite_url: str, clock: FakeClock) -> None:
    """In a chat, ten quick commands give a few answers and exactly one notice."""
    chat = await open_chat(
        sqlite_url,
        clock,
        "",
        modules=None,
    )
    chat.bot.flood = FloodGuard(clock, member_rate=0.5, member_burst=3, room_rate=5, room_burst=50)
    try:
        outputs = [await chat.say("!ping") for _ in range(10)]
        assert outputs[:3] == ["Pong! I'm here."] * 3
        notices = [o for o in outputs if "faster than I can answer" in o]
        assert len(notices) == 1
        assert outputs[4:] == [""] * 6
        clock.advance(2)
        assert await chat.say("!ping") == "Pong! I'm here."
    finally:
        await chat.bot.close()
