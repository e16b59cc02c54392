"""A link code is only ever seen by the member it was made for.

Whoever reads a code can type it first and join their own account to the member's (and then
read the member's data), so ``!link`` sends the code by direct message (or as an ephemeral
answer to the slash command) with a short "sent you a direct message" in the room; when the
DM fails, the room hears how to let the bot write, never the code.  A code typed back where
others read it is cancelled, linking nothing.  On Matrix, a direct room that someone else
joined is a group room: the code goes to a new direct room.  Checked with the unmodified
discord.py client on the protocol fake and on the test Synapse; nothing sleeps.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice

from adapters.discord import DiscordAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import Config
from chatbot.base.i18n import plain_english
from chatbot.dispatch.registry import Module
from chatbot.runtime.bot import Bot
from chatbot.runtime.replies import COULD_NOT_DM_PRIVATE, SENT_DIRECT
from commands import basics, members
from tests.discord_fake import FakeDiscord, RecordedMessage
from tests.discord_helpers import TOKEN_ENV, discord_config
from tests.harness import ready
from tests.matrix_helpers import BotAccount, Peer

MODULES: list[Module] = [basics.module, members.module]
CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")
WAIT = 10.0
CANCELLED = "Link codes only work in a direct message to me"
REFUSED = "That code doesn't work"
DISCORD_HOW = "choose Privacy Settings and turn on Direct Messages"


@contextlib.asynccontextmanager
async def running(config: Config, clock: FakeClock) -> AsyncIterator[Bot]:
    bot = Bot(config, clock=clock, adapters=[DiscordAdapter(config)], modules=MODULES)
    async with ready(bot, 60):
        yield bot


def shown_to_others(fake: FakeDiscord) -> list[str]:
    """What the bot posted where more than one person reads (not a DM, not ephemeral)."""
    dms = {channel.id for channel in fake.dm_channels.values()}
    return [m.content for m in fake.sent if m.channel_id not in dms and not m.ephemeral]


async def said_in(fake: FakeDiscord, channel: Any, who: Any, text: str) -> RecordedMessage:
    start = len(fake.sent)
    await fake.send_message(channel, who, text)
    return await fake.wait_for_message(channel_id=channel.id, start=start, timeout=WAIT)


async def slash_link(fake: FakeDiscord, who: Any, channel: Any, code: str = "") -> str:
    """``/link`` (with ``code`` when given) in ``channel``; the bot's answer, which must be
    ephemeral."""
    pending = await fake.invoke_command(
        "link", {"code": code} if code else {}, user=who, channel=channel
    )
    response = await pending.wait_for_response(timeout=WAIT)
    if response.type == 5:  # deferred: the answer is a follow-up
        followup = await pending.wait_for_followup(timeout=WAIT)
        assert followup.ephemeral, followup.content
        return followup.content
    assert response.ephemeral, response.content
    return response.content or ""


async def test_discord_link_code_goes_by_dm_only(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``!link`` and ``/link`` in #general: the code arrives in Bob's DM, and #general (or
    the ephemeral answer) only hears that a direct message was sent."""
    fake = discord_fake
    assert fake.guild is not None
    bob, general = fake.user("bob"), fake.guild.channel("general")
    bob_dm = fake.dm_channel(bob)
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    async with running(discord_config(sqlite_url, fake), clock):
        start = len(fake.sent)
        note = await said_in(fake, general, bob, "!link")
        assert note.content == plain_english(SENT_DIRECT)
        dm = await fake.wait_for_message(channel_id=bob_dm.id, start=start, timeout=WAIT)
        assert CODE.search(dm.content) and "Your link code is" in dm.content

        start = len(fake.sent)
        assert await slash_link(fake, bob, general) == plain_english(SENT_DIRECT)
        dm = await fake.wait_for_message(channel_id=bob_dm.id, start=start, timeout=WAIT)
        assert CODE.search(dm.content)
    assert not [text for text in shown_to_others(fake) if CODE.search(text)]
    assert not [m.content for m in fake.sent if m.ephemeral and CODE.search(m.content)]


async def test_discord_closed_dms_get_how_to_open_them_never_the_code(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob accepts no DMs from the server: ``!link`` and ``/link`` say the answer is withheld
    and how to turn DMs on; the code is posted nowhere."""
    fake = discord_fake
    assert fake.guild is not None
    bob, general = fake.user("bob"), fake.guild.channel("general")
    fake.close_dms(bob)
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    async with running(discord_config(sqlite_url, fake), clock):
        note = await said_in(fake, general, bob, "!link")
        assert note.content.startswith(plain_english(COULD_NOT_DM_PRIVATE))
        assert DISCORD_HOW in note.content
        answer = await slash_link(fake, bob, general)
        assert answer.startswith(plain_english(COULD_NOT_DM_PRIVATE)) and DISCORD_HOW in answer

        fake.close_dms(bob, closed=False)  # he follows the advice
        start = len(fake.sent)
        assert (await said_in(fake, general, bob, "!link")).content == plain_english(SENT_DIRECT)
        dm = await fake.wait_for_message(
            channel_id=fake.dm_channel(bob).id, start=start, timeout=WAIT
        )
        assert CODE.search(dm.content)
    assert [m for m in fake.sent if CODE.search(m.content)] == [dm]


async def test_discord_code_typed_in_a_channel_is_cancelled(
    discord_fake: FakeDiscord, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob's code typed in #general links nothing and is spent: Carol, who read it there,
    cannot use it in her DM; a code typed in a DM or to ``/link`` is read as usual."""
    fake = discord_fake
    assert fake.guild is not None
    bob, general = fake.user("bob"), fake.guild.channel("general")
    carol = fake.add_user("carol")
    fake.add_member(fake.guild, carol)
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    async with running(discord_config(sqlite_url, fake), clock):
        start = len(fake.sent)
        await said_in(fake, general, bob, "!link")
        dm = await fake.wait_for_message(
            channel_id=fake.dm_channel(bob).id, start=start, timeout=WAIT
        )
        found = CODE.search(dm.content)
        assert found is not None
        code = found.group(1)

        answer = await said_in(fake, general, bob, f"!link {code}")
        assert answer.content.startswith(CANCELLED)
        carol_dm = fake.dm_channel(carol)
        assert REFUSED in (await said_in(fake, carol_dm, carol, f"!link {code}")).content
        # the slash command's option is seen by nobody else: read as a code
        assert REFUSED in await slash_link(fake, carol, general, "ABCD-EFGH")


@pytest.mark.synapse
async def test_matrix_code_never_goes_to_a_direct_room_that_became_a_group(
    synapse: Any, tmp_path: Path
) -> None:
    """Bob's direct room with the bot gains Carol: his next code goes to a new direct room,
    never to the one Carol reads; a code he types in the shared room is cancelled."""
    bob = await Peer.register(synapse, "bob")
    carol = await Peer.register(synapse, "carol")
    account = BotAccount(
        synapse,
        await synapse.register(synapse.fresh_localpart("lnk")),
        tmp_path,
        "encryption = false",  # the peers read plain rooms
    )
    try:
        async with account.running(MODULES):
            lobby = await bob.create_room([account.user_id], name="lobby")
            await bob.membership(lobby, account.user_id, "join")
            said = await bob.send(lobby, "!link")
            assert not CODE.search(str((await bob.reply_to(lobby, said)).body))
            first_dm = await bob.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
            await bob.join(first_dm)
            await bob.wait_for(
                lambda rid, ev: (
                    rid == first_dm
                    and isinstance(ev, RoomMessageNotice)
                    and bool(CODE.search(ev.body))
                ),
                "the first code",
            )

            invited = await bob.client.room_invite(first_dm, carol.user_id)
            assert not hasattr(invited, "status_code"), invited
            await carol.join(first_dm)
            await bob.membership(first_dm, carol.user_id, "join")
            said = await bob.send(lobby, "!link")  # the bot has seen Carol join by now
            await bob.reply_to(lobby, said)
            second_dm = await bob.invited(
                lambda rid, ev: rid != first_dm and ev.content.get("is_direct") is True
            )
            await bob.join(second_dm)
            code = await bob.wait_for(
                lambda rid, ev: (
                    rid == second_dm
                    and isinstance(ev, RoomMessageNotice)
                    and bool(CODE.search(ev.body))
                ),
                "the second code, in a new direct room",
            )
            found = CODE.search(code.body)
            assert found is not None
            said = await bob.send(lobby, f"!link {found.group(1)}")
            assert str((await bob.reply_to(lobby, said)).body).startswith(CANCELLED)
            # once Carol sees this, she has seen all she will of the room before it
            await bob.send(first_dm, "thanks")
            await carol.wait_for(
                lambda rid, ev: rid == first_dm and getattr(ev, "body", "") == "thanks",
                "Bob's last message",
            )
        shown = [
            ev.body
            for rid, ev in carol.seen
            if rid == first_dm and isinstance(ev, RoomMessageNotice) and CODE.search(ev.body)
        ]
        # neither the code sent before she came (the bot's direct rooms show each member only
        # what came after their invite) nor the next one
        assert not shown, shown
    finally:
        await bob.close()
        await carol.close()
        account.forget_env()
