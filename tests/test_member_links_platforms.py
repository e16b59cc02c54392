"""One member on both platforms (issue 22), end to end: one bot process and one database with
the Matrix adapter on the test Synapse and the Discord adapter on the protocol fake.

Bob asks for a code on Matrix (it comes by Matrix DM) and types it to the bot on Discord;
from then on a zone set on one platform shows on the other, his two RSVPs are one, a
reminder comes once (on Matrix, where he last spoke or where he chose with ``!remind via``),
a case study begun on Discord is finished on Matrix, and ``!forgetme`` on Discord forgets
both accounts. Wrong, expired and used codes are refused. It runs on SQLite and on PostgreSQL.
Time is the injected FakeClock; nothing sleeps: each step waits for what Synapse delivers or
the fake records.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice
from sqlalchemy import func, select

from adapters.discord import DiscordAdapter
from adapters.matrix import MatrixAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import Config, parse_config
from chatbot.delivery.scheduler import scheduler_of
from chatbot.dispatch.registry import Module
from chatbot.runtime.bot import Bot
from chatbot.storage.delivery import OutboxRow
from chatbot.storage.models import LinkCodeRow, MemberLinkRow, MemberRow
from commands import basics, meetings, members
from commands import casestudies as cs
from commands.casestudies.store import CaseStudyRow
from commands.meetings.store import ReminderPrefRow, RsvpRow
from tests.discord_fake import FakeDiscord, User
from tests.discord_helpers import ORGANISER_ROLE, TOKEN_ENV
from tests.harness import ready
from tests.matrix_helpers import BotAccount, Peer
from tests.test_casestudies import GOOD

MODULES: list[Module] = [basics.module, members.module, meetings.module, cs.module]
START_TIMEOUT = 60.0
DISCORD_WAIT = 10.0
CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")
REFUSED = "That code doesn't work"
#: the meeting: Friday 27 November 2026, 15:00 UTC (the clock starts on the 25th at noon)
MEETING_AT = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def both_config(account: BotAccount, fake: FakeDiscord, database: str) -> Config:
    assert fake.guild is not None
    return parse_config(f"""
[bot]
database = "{database}"
adapters = ["matrix", "discord"]

[ratelimit]
member_rate = 100.0
member_burst = 10000
room_rate = 100.0
room_burst = 10000

[adapters.matrix]
homeserver = "{account.server.base_url}"
user_id = "{account.user_id}"
{account.login}
store_path = "{account.workdir / "store"}"
encryption = false

[adapters.discord]
token_env = "{TOKEN_ENV}"
guild_ids = [{fake.guild.id}]
organiser_roles = ["{ORGANISER_ROLE}"]
api_base_url = "{fake.api_base}"
gateway_url = "{fake.gateway_url}"
guild_ready_timeout = 0.05
""")


def notice_in(room_id: str, predicate: Callable[[str], bool]) -> Callable[[str, Any], bool]:
    return lambda rid, event: (
        rid == room_id and isinstance(event, RoomMessageNotice) and predicate(event.body)
    )


@dataclass
class Both:
    """The bot on both platforms, Bob on each, and where he talks to it."""

    bot: Bot
    clock: FakeClock
    fake: FakeDiscord
    peer: Peer  # Bob on Matrix
    bob: User  # Bob on Discord
    bot_user: str  # the bot's Matrix user id
    dm: str = ""  # Bob's Matrix DM room with the bot, once there is one
    lobby: str = ""  # a Matrix room Bob shares with the bot

    async def matrix(self, text: str) -> str:
        """Bob says ``text`` to the bot in his Matrix DM; the bot's reply."""
        sent = await self.peer.send(self.dm, text)
        return str((await self.peer.reply_to(self.dm, sent)).body)

    async def discord(self, text: str, who: User | None = None) -> str:
        """Bob (or ``who``) says ``text`` to the bot in a Discord DM; the bot's reply."""
        user = who or self.bob
        channel = self.fake.dm_channel(user)
        start = len(self.fake.sent)
        await self.fake.send_message(channel, user, text)
        found = await self.fake.wait_for_message(
            channel_id=channel.id, start=start, timeout=DISCORD_WAIT
        )
        return found.content

    async def in_events(self, who: str, text: str, reply_start: str) -> str:
        """``who`` types ``text`` in #events on Discord; the bot's answer starting so."""
        assert self.fake.guild is not None
        channel = self.fake.guild.channel("events")
        start = len(self.fake.sent)
        await self.fake.send_message(channel, who, text)
        found = await self.fake.wait_for_message(
            lambda m: m.content.startswith(reply_start),
            channel_id=channel.id,
            start=start,
            timeout=DISCORD_WAIT,
        )
        return found.content

    async def remind_at(self, lead: str, at: datetime) -> str:
        """Move the clock to ``at``, let the ``lead`` reminder go out; its text on Matrix."""
        self.clock.set(at)
        scheduler_of(self.bot).wake()
        event = await self.peer.wait_for(
            lambda rid, ev: (
                rid == self.dm
                and isinstance(ev, RoomMessageNotice)
                and ev.body.startswith(f"Reminder: Open call starts in {lead}")
            ),
            f"the {lead} reminder on Matrix",
        )
        return str(event.body)

    async def reminders_sent(self) -> list[tuple[str, str | None]]:
        """(platform, recipient) of every meeting reminder DM queued so far."""
        async with self.bot.db.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxRow).where(
                        OutboxRow.ref == "meeting:1", OutboxRow.kind == "reminder"
                    )
                )
            ).all()
        return sorted((r.platform, r.member_id) for r in rows if r.member_id)


@contextlib.asynccontextmanager
async def both_platforms(
    synapse: Any,
    discord_fake: FakeDiscord,
    tmp_path: Path,
    db_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Both]:
    monkeypatch.setenv(TOKEN_ENV, discord_fake.token)
    account = BotAccount(
        synapse, await synapse.register(synapse.fresh_localpart("linkbot")), tmp_path
    )
    peer = await Peer.register(synapse, "bob")
    try:
        config = both_config(account, discord_fake, db_url)
        bot = Bot(
            config,
            clock=clock,
            adapters=[MatrixAdapter(config), DiscordAdapter(config)],
            modules=MODULES,
        )
        async with ready(bot, START_TIMEOUT):
            yield Both(bot, clock, discord_fake, peer, discord_fake.user("bob"), account.user_id)
    finally:
        await peer.close()
        account.forget_env()


async def first_code(both: Both) -> str:
    """Bob's ``!link`` in a Matrix room: the code comes by direct message (which becomes
    ``both.dm``), and the room hears only that it was sent."""
    peer, account_id = both.peer, both.bot_user
    both.lobby = await peer.create_room([account_id], name="lobby")
    await peer.membership(both.lobby, account_id, "join")
    said = await peer.send(both.lobby, "!link")
    in_room = str((await peer.reply_to(both.lobby, said)).body)
    assert not CODE.search(in_room), in_room
    both.dm = await peer.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
    await peer.join(both.dm)
    note = await peer.wait_for(notice_in(both.dm, lambda b: "Your link code is" in b), "the code")
    found = CODE.search(note.body)
    assert found, note.body
    return found.group(1)


@pytest.mark.synapse
async def test_one_member_on_matrix_and_discord(
    synapse: Any,
    discord_fake: FakeDiscord,
    tmp_path: Path,
    db_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = discord_fake
    async with both_platforms(synapse, fake, tmp_path, db_url, clock, monkeypatch) as both:
        matrix_id = f"matrix:{both.peer.user_id}"
        discord_id = f"discord:{both.bob.id}"

        # -- codes: a wrong one, an expired one, then the right one ---------------------------
        expired = await first_code(both)
        assert REFUSED in await both.discord("!link ABCD-EFGH")
        clock.advance(timedelta(minutes=11))
        assert REFUSED in await both.discord(f"!link {expired}")
        asked = await both.matrix("!link")
        code = CODE.search(asked)
        assert code, asked
        done = await both.discord(f"!link {code.group(1)}")
        assert "are now one member" in done, done
        # used: nobody else can link with it, not even a moment later
        carol = fake.add_user("carol", global_name="Carol")
        assert REFUSED in await both.discord(f"!link {code.group(1)}", who=carol)
        async with both.bot.db.sessions() as session:
            rows = await session.execute(select(MemberLinkRow.account_id, MemberLinkRow.person_id))
            linked = {account: person for account, person in rows.all()}
            hashes = (await session.scalars(select(LinkCodeRow.code_hash))).all()
        assert linked == {matrix_id: matrix_id, discord_id: matrix_id}
        assert code.group(1) not in hashes  # stored hashed

        # -- one zone, set on either side -----------------------------------------------------
        assert "America/Lima" in await both.discord("!tz set Lima")
        assert "America/Lima" in await both.matrix("!tz")
        assert "Asia/Tokyo" in await both.matrix("!tz set Asia/Tokyo")
        assert "Asia/Tokyo" in await both.discord("!tz")
        assert "America/Lima" in await both.discord("!tz set America/Lima")

        # -- a meeting: one RSVP, whichever account answers -----------------------------------
        await both.in_events(
            "alice", '!meeting add "Open call" 2026-11-27 15:00 UTC', "**Meeting #1"
        )
        await both.in_events("alice", "!meeting confirm 1", "Meeting #1 is saved")
        assert "I'll DM you" in await both.discord("!remind me on 1d,1h")
        assert "You're going to #1" in await both.discord("!rsvp 1 yes")
        assert "Maybe, then, for #1" in await both.matrix("!rsvp 1 maybe")
        shown = await both.in_events("alice", "!meeting 1", "**Meeting #1**")
        assert "Going (0): nobody yet" in shown and "Maybe (1): " in shown, shown
        assert "You're going to #1" in await both.discord("!rsvp 1 yes")
        shown = await both.in_events("alice", "!meeting 1", "**Meeting #1**")
        assert "Going (1): Bob" in shown and "Maybe (0)" in shown, shown
        async with both.bot.db.sessions() as session:
            answers = (await session.scalars(select(RsvpRow))).all()
        assert [(a.member_id, a.answer) for a in answers] == [(matrix_id, "yes")]

        # -- a reminder, once, where Bob last spoke: Matrix -----------------------------------
        clock.advance(timedelta(minutes=1))  # Bob's next word is the latest
        assert "America/Lima" in await both.matrix("!tz")
        text = await both.remind_at("1 day", MEETING_AT - timedelta(days=1))
        assert "10:00" in text  # 15:00 UTC in Lima
        assert await both.reminders_sent() == [("matrix", matrix_id)]

        # -- … or where he chose: he speaks on Discord, reminders still go to Matrix ----------
        clock.advance(timedelta(minutes=1))
        refused = await both.discord("!remind via telegram")
        assert "`!remind via matrix`" in refused, refused
        chose = await both.discord("!remind via matrix")
        assert "your reminders go to your Matrix account" in chose, chose
        mydata = await both.discord("!mydata")
        assert '"reminders_via": "matrix"' in mydata, mydata
        await both.remind_at("1 hour", MEETING_AT - timedelta(hours=1))
        assert [p for p, _t in await both.reminders_sent()] == ["matrix", "matrix"]
        assert not [
            m
            for m in fake.sent
            if m.channel_id == fake.dm_channel(both.bob).id and m.content.startswith("Reminder:")
        ]

        # -- a case study begun on Discord, finished on Matrix --------------------------------
        assert f"1/{len(GOOD)}" in await both.discord("!casestudy submit")
        for number, answer in enumerate(GOOD[:3], start=2):
            assert f"{number}/{len(GOOD)}" in await both.discord(answer)
        # resumed in a room, the draft moves to Bob's Matrix DM
        said = await both.peer.send(both.lobby, "!casestudy resume")
        where = str((await both.peer.reply_to(both.lobby, said)).body)
        assert "Your draft is waiting in our direct messages" in where, where
        await both.peer.wait_for(
            notice_in(both.dm, lambda b: f"4/{len(GOOD)}" in b), "the draft's next question"
        )
        for number, answer in enumerate(GOOD[3:], start=5):
            reply = await both.matrix(answer)
            expected = f"{number}/{len(GOOD)}" if number <= len(GOOD) else "Here is"
            assert expected in reply, (answer, reply)
        assert "Your case study is submitted as #1" in await both.matrix("yes")
        assert "#1" in await both.discord("!casestudy mine")

        # -- !forgetme on Discord forgets both accounts ---------------------------------------
        assert "Done: I've deleted everything" in await both.discord("!forgetme confirm")
        async with both.bot.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(MemberLinkRow)) == 0
            assert await session.scalar(select(func.count()).select_from(RsvpRow)) == 0
            assert await session.scalar(select(func.count()).select_from(ReminderPrefRow)) == 0
            left = (await session.scalars(select(MemberRow.id))).all()
            assert matrix_id not in left and discord_id not in left
            study = await session.get(CaseStudyRow, 1)
            assert study is None  # submitted, not published: deleted with its author
        assert "America/Lima" not in await both.matrix("!tz")
        assert "linked_accounts" not in await both.discord("!mydata")
