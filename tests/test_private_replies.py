"""Private replies never land where others read them (issue: privacy and powers).

A reply marked private (a case study's contact and rejection reason, `mine`, the review
queue, `mydata`) is ephemeral where the message allows it (a Discord interaction) and goes
by direct message everywhere else, with a short notice in the room; replies that only
concern the caller but hold nothing secret (help, settings, errors) stay in the room.
Checked on the real Synapse, on the fake Discord, and with a platform without DMs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice

from adapters.discord import DiscordAdapter
from adapters.matrix import MatrixAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import Config, parse_config
from chatbot.base.i18n import plain_english
from chatbot.dispatch.adapter import Capabilities, Sent
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Incoming, Member, Outgoing, Room
from chatbot.messages.render import render_plain
from chatbot.runtime.bot import Bot
from chatbot.runtime.replies import NO_DMS_HERE, SENT_PRIVATE
from commands import basics, members
from commands import casestudies as cs
from commands.casestudies import fields
from tests.discord_fake import FakeDiscord, RecordedMessage
from tests.discord_helpers import ORGANISER_ROLE, TOKEN_ENV, discord_config
from tests.harness import ready
from tests.matrix_helpers import BotAccount, Peer
from tests.test_casestudy_exports import FIXTURES

MODULES: list[Module] = [basics.module, members.module, cs.module]
CONTACT = "kept-private-contact@lakeside.example"
REASON = "please add the numbers of participants"
WAIT = 10.0


async def seed_study(bot: Bot, member: Member) -> None:
    """Case study #1, submitted by ``member``, with a contact only they and organisers see."""
    record = fields.validate_record({**FIXTURES[0], "contact": CONTACT})
    async with bot.db.session() as session:
        await cs.store_of(bot).submit(
            session, member.id, member.display_name, record, bot.clock.now()
        )


@contextlib.asynccontextmanager
async def running(
    config: Config, adapter: Any, clock: FakeClock | None = None
) -> AsyncIterator[Bot]:
    bot = Bot(config, clock=clock, adapters=[adapter], modules=MODULES)
    async with ready(bot, 60):
        yield bot


# -- Discord ----------------------------------------------------------------------------------


async def test_discord_private_replies_go_by_dm_or_ephemeral(
    discord_fake: FakeDiscord,
    sqlite_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prefix commands in a channel: `view`, `mine`, `pending`, `mydata` and the rejection
    reason reach the caller's DM with a notice in the channel; a slash command gets them
    ephemerally; help, settings and errors stay in the channel."""
    fake = discord_fake
    guild = fake.guild
    assert guild is not None
    organisers = fake.add_role(guild, ORGANISER_ROLE)
    carol = fake.add_user("carol", global_name="Carol")
    fake.add_member(guild, carol, roles=[organisers])
    bob = fake.user("bob")
    general, events = guild.channel("general"), guild.channel("events")
    bob_dm, carol_dm = fake.dm_channel(bob), fake.dm_channel(carol)
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = discord_config(sqlite_url, fake)

    async def said(channel: Any, who: Any, text: str, dm: Any) -> tuple[str, str]:
        """What the bot answered in the channel and in the DM to ``text``."""
        start = len(fake.sent)
        await fake.send_message(channel, who, text)
        notice = await fake.wait_for_message(channel_id=channel.id, start=start, timeout=WAIT)
        answer = await fake.wait_for_message(channel_id=dm.id, start=start, timeout=WAIT)
        return notice.content, answer.content

    async with running(config, DiscordAdapter(config), clock) as bot:
        await seed_study(bot, Member(f"discord:{bob.id}", "discord", "bob"))
        notice, answer = await said(general, bob, "!casestudy view 1", bob_dm)
        assert notice == plain_english(SENT_PRIVATE) and CONTACT in answer
        notice, answer = await said(general, bob, "!casestudy mine", bob_dm)
        assert notice == plain_english(SENT_PRIVATE) and "#1 [submitted]" in answer
        notice, answer = await said(events, carol, "!casestudy pending", carol_dm)
        assert notice == plain_english(SENT_PRIVATE) and "#1 [submitted]" in answer
        notice, answer = await said(events, carol, "!casestudy view 1", carol_dm)
        assert notice == plain_english(SENT_PRIVATE) and CONTACT in answer
        await fake.send_message(events, carol, "!casestudy claim 1")
        await fake.wait_for_message(channel_id=events.id, content="You're reviewing case study #1.")
        await fake.send_message(events, carol, f"!casestudy reject 1 {REASON}")
        await fake.wait_for_message(lambda m: REASON in m.content, channel_id=bob_dm.id)
        notice, answer = await said(general, bob, "!casestudy view 1", bob_dm)
        assert notice == plain_english(SENT_PRIVATE) and REASON in answer

        pending = await fake.invoke_command(
            "casestudy", {"number": 1}, subcommand="view", user=bob, channel=general
        )
        response = await pending.wait_for_response(timeout=WAIT)
        if response.type == 5:  # deferred: the answer is a follow-up
            followup = await pending.wait_for_followup(timeout=WAIT)
            assert followup.ephemeral and CONTACT in followup.content
        else:
            assert response.ephemeral and CONTACT in (response.content or "")

        start = len(fake.sent)
        await fake.send_message(general, bob, "!tz set Lagos")
        await fake.wait_for_message(
            lambda m: "Africa/Lagos" in m.content, channel_id=general.id, start=start
        )
        await fake.send_message(general, bob, "!casestudy view abc")
        await fake.wait_for_message(
            lambda m: "Usage" in m.content, channel_id=general.id, start=start
        )
    shared: list[RecordedMessage] = [
        m for m in fake.sent if m.channel_id not in (bob_dm.id, carol_dm.id) and not m.ephemeral
    ]
    assert shared and not [m.content for m in shared if CONTACT in m.content or REASON in m.content]


# -- a platform without direct messages -------------------------------------------------------


class NoDirectMessages:
    """A shared-room platform with neither ephemeral answers nor direct messages."""

    platform = "nodm"
    capabilities = Capabilities(direct_messages=False)

    def __init__(self) -> None:
        self.posted: list[str] = []

    async def run(self, core: Any, started: Any) -> None:
        started()

    async def stop(self) -> None:
        pass

    async def send(self, out: Outgoing) -> Sent | None:
        self.posted.append(render_plain(out.reply))
        return Sent(out.room.id, str(len(self.posted)))

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        raise AssertionError("this platform has no direct messages")

    async def is_organiser(self, member: Member, room: Room) -> bool:
        return False

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        return None


async def test_private_reply_is_withheld_where_there_are_no_direct_messages(
    sqlite_url: str, clock: FakeClock
) -> None:
    """With nowhere private to send it, a private reply is not posted: the member is told
    why; a reply that merely concerns them (help) is posted as usual."""
    config = parse_config(f'[bot]\ndatabase = "{sqlite_url}"\nadapters = []\n')
    adapter = NoDirectMessages()
    bot = Bot(config, clock=clock, adapters=[adapter], modules=MODULES)
    await bot.open()
    try:
        member = Member("nodm:bob", "nodm", "bob")
        room = Room("nodm:#general", "nodm", "#general")
        await seed_study(bot, member)
        await bot.handle(Incoming("nodm", member, room, "!casestudy view 1", event_id="1"))
        await bot.handle(Incoming("nodm", member, room, "!help tz", event_id="2"))
    finally:
        await bot.close()
    assert adapter.posted[0] == plain_english(NO_DMS_HERE)
    assert adapter.posted[1].startswith("!tz: Your time zone")
    assert not [text for text in adapter.posted if CONTACT in text]


# -- Matrix -----------------------------------------------------------------------------------


def notice_in(room_id: str, text: str) -> Any:
    return lambda rid, event: (
        rid == room_id and isinstance(event, RoomMessageNotice) and text in event.body
    )


@pytest.mark.synapse
async def test_matrix_private_replies_go_by_dm(synapse: Any, tmp_path: Path) -> None:
    """In a group room on Synapse, the contributor's and an organiser's `view`, `mine`,
    `pending` and the rejection reason reach their DMs; the room gets a notice, and another
    member reading the room's history never sees the contact or the reason."""
    bot_user = await synapse.register(synapse.fresh_localpart("privbot"))
    owner = await Peer.register(synapse, "owner")
    # the organiser is one by the config: power in a room that is not the group's own
    # (no organiser_rooms, no broadcast room yet) grants nothing
    account = BotAccount(
        synapse, bot_user, tmp_path, f'encryption = false\norganisers = ["{owner.user_id}"]'
    )
    contributor = await Peer.register(synapse, "contrib")
    onlooker = await Peer.register(synapse, "onlooker")
    try:
        config = account.config()
        async with running(config, MatrixAdapter(config)) as bot:
            room = await owner.create_room(
                [account.user_id, contributor.user_id, onlooker.user_id], name="group"
            )
            for peer in (contributor, onlooker):
                await peer.join(room)
            await owner.membership(room, account.user_id, "join")
            who = contributor.user_id
            await seed_study(bot, Member(f"matrix:{who}", "matrix", who))

            async def private(peer: Peer, text: str, dm: str | None) -> tuple[str, str]:
                """The notice in the room, and the DM room, for ``text`` sent there."""
                sent = await peer.send(room, text)
                notice = await peer.reply_to(room, sent)
                assert notice.body == plain_english(SENT_PRIVATE), notice.body
                if dm is None:
                    dm = await peer.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
                    await peer.join(dm)
                return notice.source["content"]["msgtype"], dm

            msgtype, contrib_dm = await private(contributor, "!casestudy view 1", None)
            assert msgtype == "m.notice"
            await contributor.wait_for(notice_in(contrib_dm, CONTACT), "the study in the DM")
            await private(contributor, "!casestudy mine", contrib_dm)
            await contributor.wait_for(notice_in(contrib_dm, "Your case studies"), "mine")
            _, owner_dm = await private(owner, "!casestudy pending", None)
            await owner.wait_for(notice_in(owner_dm, "Waiting:"), "the review queue")
            await private(owner, "!casestudy view 1", owner_dm)
            await owner.wait_for(notice_in(owner_dm, CONTACT), "the contact for the organiser")
            claim = await owner.send(room, "!casestudy claim 1")
            await owner.reply_to(room, claim)
            reject = await owner.send(room, f"!casestudy reject 1 {REASON}")
            await owner.reply_to(room, reject)
            await contributor.wait_for(notice_in(contrib_dm, "The reviewer says"), "rejection")
            before = len([e for _r, e in contributor.seen if REASON in getattr(e, "body", "")])
            await private(contributor, "!casestudy view 1", contrib_dm)
            await contributor.wait_for(
                lambda rid, ev: (
                    rid == contrib_dm
                    and len([e for _r, e in contributor.seen if REASON in getattr(e, "body", "")])
                    > before
                ),
                "the reason in the DM",
            )
            aside = await contributor.send(room, "!tz set Lagos")
            assert "Africa/Lagos" in (await contributor.reply_to(room, aside)).body
            barrier = await onlooker.send(room, "!ping")
            await onlooker.reply_to(room, barrier)
        in_room = [
            e
            for rid, e in onlooker.seen
            if rid == room and hasattr(e, "body") and e.sender == account.user_id
        ]
        assert len(in_room) == 9  # five notices, claim, reject, tz and ping
        assert not [e.body for e in in_room if CONTACT in e.body or REASON in e.body]
    finally:
        for peer in (owner, contributor, onlooker):
            await peer.close()
        account.forget_env()
