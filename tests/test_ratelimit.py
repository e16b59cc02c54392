"""Flood protection: token buckets per member and per room, one notice per flood."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.matrix import MatrixAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.dispatch.ratelimit import FloodGuard, Verdict
from chatbot.messages.events import Plain, Reply
from chatbot.runtime.bot import Bot
from commands import basics
from tests.harness import open_chat, ready
from tests.matrix_helpers import BotAccount, Peer


def test_member_bucket_refills_and_notifies_once(clock: FakeClock) -> None:
    """A flooding member is told once, then ignored until the bucket refills."""
    guard = FloodGuard(clock, member_rate=1.0, member_burst=3, room_rate=100, room_burst=100)
    verdicts = [guard.check("m", "r") for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTIFY, Verdict.SILENT, Verdict.SILENT]
    clock.advance(1.0)
    assert guard.check("m", "r") is Verdict.ALLOW
    assert guard.check("m", "r") is Verdict.NOTIFY  # a new flood gets a new notice


def test_room_bucket_is_shared(clock: FakeClock) -> None:
    """A busy room limits everyone in it, and the room is told once, not each member."""
    guard = FloodGuard(clock, member_rate=10, member_burst=10, room_rate=0.5, room_burst=2)
    assert guard.check("a", "r") is Verdict.ALLOW
    assert guard.check("b", "r") is Verdict.ALLOW
    assert guard.check("a", "r") is Verdict.NOTIFY_ROOM
    assert guard.check("b", "r") is Verdict.SILENT
    assert guard.check("a", "r") is Verdict.SILENT
    assert guard.check("c", "other") is Verdict.ALLOW
    clock.advance(2.0)
    assert guard.check("a", "r") is Verdict.ALLOW


def test_a_flooded_room_gets_one_notice_per_burst(clock: FakeClock) -> None:
    """200 members flooding one room get one notice between them, also while tokens trickle
    back mid-flood; once the room has been quiet long enough, a new flood gets a new one."""
    guard = FloodGuard(clock, member_rate=0.5, member_burst=8, room_rate=2.0, room_burst=30)
    verdicts = []
    for second in range(4):
        verdicts += [guard.check(f"m{i}", "r") for i in range(50 * second, 50 * (second + 1))]
        clock.advance(1.0)
    assert verdicts.count(Verdict.NOTIFY_ROOM) == 1 and Verdict.NOTIFY not in verdicts
    assert verdicts.count(Verdict.ALLOW) == 30 + 2 * 3
    clock.advance(15.0)  # 30 tokens at 2 a second: the room is calm again
    again = [guard.check(f"n{i}", "r") for i in range(40)]
    assert again.count(Verdict.ALLOW) == 30 and again.count(Verdict.NOTIFY_ROOM) == 1


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


async def test_flooded_room_in_chat_gets_one_notice_for_everyone(
    sqlite_url: str, clock: FakeClock
) -> None:
    """200 members typing a command at once in one room: the first answers, then a single
    notice for the room, not one per member."""
    chat = await open_chat(sqlite_url, clock, "", modules=None)
    chat.bot.flood = FloodGuard(clock, member_rate=0.5, member_burst=8, room_rate=2, room_burst=30)
    try:
        outputs = [await chat.say("!ping", as_=f"member{i}") for i in range(200)]
        assert outputs[:30] == ["Pong! I'm here."] * 30
        notices = [o for o in outputs if "faster than I can answer" in o]
        assert notices == [
            "This room is sending commands faster than I can answer, so I'm skipping some. "
            "Give me a few seconds, then try again."
        ]
    finally:
        await chat.bot.close()


async def test_questions_mentions_and_dialogue_answers_count_too(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Not only prefix commands: questions by direct message, mentions and the answers to a
    dialogue draw on the same budget, with one notice per burst; chatter does not."""
    chat = await open_chat(sqlite_url, clock, "", modules=None)
    asked: list[str] = []

    async def questions(ctx: object, text: str) -> Reply:
        asked.append(text)
        return Reply.of(Plain("an answer"))

    chat.bot.services["questions"] = questions
    chat.bot.flood = FloodGuard(clock, member_rate=0.5, member_burst=3, room_rate=5, room_burst=50)
    try:
        outputs = [await chat.say(f"question {i}?", room="dm") for i in range(8)]
        assert outputs[:3] == ["an answer"] * 3
        assert sum("faster than I can answer" in o for o in outputs) == 1
        assert len(asked) == 3
        clock.advance(10)
        # a dialogue: its answers count as well
        start = await chat.say("!setup")
        assert start
        answers = [await chat.say("lagos") for _ in range(6)]
        assert sum("faster than I can answer" in o for o in answers) == 1
        assert answers[-1] == ""
        clock.advance(10)
        # chatter in a room that does not speak to the bot costs nothing
        for _ in range(20):
            assert await chat.say("just talking", room="#general") == ""
        assert await chat.say("!ping") == "Pong! I'm here."
    finally:
        await chat.bot.close()


@pytest.mark.synapse
async def test_matrix_flooded_room_gets_one_quiet_notice(synapse: Any, tmp_path: Path) -> None:
    """On Synapse: when a room floods the bot, one m.notice replies to the first refused
    command, and nobody else who joins the flood gets one."""
    bot_user = await synapse.register(synapse.fresh_localpart("floodbot"))
    account = BotAccount(synapse, bot_user, tmp_path, "encryption = false")
    peers = [await Peer.register(synapse, f"flooder{i}") for i in range(3)]
    text = account.config().source_text
    config = parse_config(
        text.replace("room_rate = 100.0", "room_rate = 0.001").replace(
            "room_burst = 10000", "room_burst = 2"
        )
    )
    try:
        bot = Bot(config, adapters=[MatrixAdapter(config)], modules=[basics.module])
        verdicts: list[Verdict] = []
        four = asyncio.Event()
        check = bot.flood.check

        def counted(member_id: str, room_id: str) -> Verdict:
            verdicts.append(check(member_id, room_id))
            if len(verdicts) == 4:
                four.set()
            return verdicts[-1]

        bot.flood.check = counted  # type: ignore[method-assign]
        async with ready(bot, 60):
            first = peers[0]
            room = await first.create_room([account.user_id, *(p.user_id for p in peers[1:])])
            for peer in peers[1:]:
                await peer.join(room)
            await first.membership(room, account.user_id, "join")
            sent = []
            for peer in [*peers, peers[0]]:
                sent.append(await peer.send(room, "!ping"))
                if len(sent) <= 3:  # the first two answered, the third the notice
                    await peer.reply_to(room, sent[-1])
            await asyncio.wait_for(four.wait(), 30)
            notice = await peers[2].reply_to(room, sent[2])
        assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY_ROOM, Verdict.SILENT]
        content = notice.source["content"]
        assert content["msgtype"] == "m.notice"
        assert content["body"].startswith("This room is sending commands faster than I can")
        assert not peers[0].replies_to(sent[3])
    finally:
        for peer in peers:
            await peer.close()
        account.forget_env()
