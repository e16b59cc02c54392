"""Members on Discord, through the real bot and discord.py against the fake: questions by
DM, mentions in what members write, who is an organiser of the group, and direct messages
that fail."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from chatbot.base.i18n import verbatim
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Member, Outgoing, Reply, Room
from chatbot.storage.delivery import BroadcastRoomRow
from commands import basics, faq, members
from tests.discord_fake import FakeDiscord, Role, User
from tests.discord_fake.harness import discord
from tests.discord_helpers import (
    ORGANISER_ROLE,
    Gate,
    RunningBot,
    StartBot,
    main_guild,
    make_test_module,
)

pytest_plugins = ["tests.discord_fixtures"]

#: an id nobody has: a user, a role and a channel that don't exist
NOBODY = 123456789012345678
CLOSED_DMS = {"message": "Cannot send messages to this user", "code": 50007}


def with_faq(gate: Gate) -> list[Module]:
    return [basics.module, members.module, faq.module, make_test_module(gate)]


# ------------------------------------------------------------------- questions


async def test_a_member_asks_by_dm_and_is_answered_there(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate, carol: User
) -> None:
    """Carol writes a question to the bot in a DM (no prefix): the answer comes in the DM."""
    fake = discord_fake
    async with start_bot(modules=with_faq(gate)):
        await fake.send_dm(carol, "How do I join the user group?")
        answer = await fake.wait_for_message(channel_id=fake.dm_channel(carol).id)
    assert answer.content.startswith("**Q:** How do I join the user group?\n")
    assert answer.allowed_mentions == {"parse": []}
    assert not [m for m in fake.sent if m.channel_id != fake.dm_channel(carol).id]


async def test_an_unanswered_question_lists_the_nearest_topics_on_their_own_lines(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate, carol: User, organisers: Role
) -> None:
    """`!ask` without an answer: the nearest topics as a list, then a blank line and the
    hint on a line of its own; a role mentioned in the question is read as its name."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    async with start_bot(modules=with_faq(gate)):
        question = "how do I join the library committee board elections?"
        await fake.send_message(general, carol, f"!ask {question}")
        reply = await fake.wait_for_message(channel_id=general.id)
        await fake.send_message(general, carol, f"!ask what do <@&{organisers.id}> do?")
        role = await fake.wait_for_message(channel_id=general.id, start=reply.index + 1)
    lines = reply.content.split("\n")
    assert lines[1] == "The nearest topics I know:"
    assert lines[2].startswith("- How do I join the user group? (`!faq show ")
    assert lines[-2:] == ["", "You can also ask in the room, or browse with `!faq list`."]
    assert "<@" not in role.content and "&" not in role.content


# --------------------------------------------------------------------- mentions


async def test_mentions_in_member_text_reach_the_core_as_names(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User, carol: User, organisers: Role
) -> None:
    """User, nickname, role and channel mentions are read as @name, @role and #channel,
    typed or in a slash command's text; unknown ones as Discord shows them."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    text = (
        f"hi <@{carol.id}> <@!{carol.id}> <@&{organisers.id}> in <#{general.id}>, "
        f"not <@{NOBODY}> <@&{NOBODY}> <#{NOBODY}>"
    )
    await fake.send_message(general, bob, f"!echo {text}")
    reply = await fake.wait_for_message(channel_id=general.id)
    assert reply.content == (
        "You said: hi @Carol @Carol @Organisers in #general, "
        "not @unknown-user @deleted-role #unknown"
    )
    pending = await fake.invoke_command(
        "echo", {"text": f"ask <@{carol.id}> in <#{general.id}>"}, user=bob
    )
    assert (await pending.wait_for_response()).content == "You said: ask @Carol in #general"
    # a member argument still finds the member mentioned (test_mention_pings_only_…)
    start = len(fake.sent)
    await fake.send_message(general, bob, f"!greet <@{carol.id}>")
    greeted = await fake.wait_for_message(channel_id=general.id, start=start)
    assert greeted.content == f"Hello <@{carol.id}>!"


async def test_the_bots_own_role_counts_as_mentioning_the_bot(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """Picking the bot's role in the @ menu is the same as mentioning the bot."""
    fake = discord_fake
    guild = main_guild(fake)
    general = guild.channel("general")
    role = next(r for r in guild.roles if r.managed and r.bot_id == fake.bot_user.id)
    await fake.send_message(general, bob, f"<@&{role.id}> !ping")
    reply = await fake.wait_for_message(channel_id=general.id)
    assert reply.content == "Pong! I'm here."


# -------------------------------------------------------------------- organisers


async def test_organiser_powers_come_only_from_the_groups_guilds(
    discord_fake: FakeDiscord, start_bot: StartBot, bob: User
) -> None:
    """Bob owns another server the bot is in, with a role named like the organisers':
    he is no organiser there.  Alice, an administrator of the group's server, is one in
    her DMs too."""
    fake = discord_fake
    own = fake.add_guild("Bob's place", owner=bob)
    fake.add_member(own, bob, roles=[fake.add_role(own, ORGANISER_ROLE)])
    lobby = fake.add_channel(own, "lobby")
    async with start_bot():
        await fake.send_message(lobby, bob, "!organise")
        refused = await fake.wait_for_message(channel_id=lobby.id)
        await fake.send_dm("alice", "!organise")
        accepted = await fake.wait_for_message(channel_id=fake.dm_channel("alice").id)
    assert refused.content == "Only organisers can use `!organise`."
    assert accepted.content == "Organiser tools unlocked."


async def test_without_guild_ids_the_broadcast_rooms_say_which_guilds_count(
    discord_fake: FakeDiscord, start_bot: StartBot, bob: User
) -> None:
    """Without `guild_ids` the bot warns at start and nobody is an organiser on Discord
    until a broadcast room is set; then the powers in that room's server count."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    own = fake.add_guild("Bob's place", owner=bob)
    lobby = fake.add_channel(own, "lobby")
    with capture_logs() as logs:
        async with start_bot(guild_ids=[]) as running:
            await fake.send_message(general, "alice", "!organise")
            before = await fake.wait_for_message(channel_id=general.id)
            async with running.bot.db.session() as session:
                session.add(
                    BroadcastRoomRow(
                        room_id=f"discord:{general.id}",
                        platform="discord",
                        name="#general",
                        added_by="console:ana",
                        added_at=running.bot.clock.now(),
                    )
                )
            await fake.send_message(general, "alice", "!organise")
            after = await fake.wait_for_message(channel_id=general.id, start=before.index + 1)
            await fake.send_message(lobby, bob, "!organise")
            elsewhere = await fake.wait_for_message(channel_id=lobby.id)
    assert before.content == "Only organisers can use `!organise`."
    assert after.content == "Organiser tools unlocked."
    assert elsewhere.content == "Only organisers can use `!organise`."
    warnings = [e for e in logs if e["event"] == "discord_organiser_guilds_not_set"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"


# ------------------------------------------------------------ direct messages


async def test_only_closed_dms_are_reported_as_closed(
    discord_fake: FakeDiscord, bot: RunningBot, carol: User
) -> None:
    """A 403 on the DM is what "do you accept messages?" means; a server error, opening
    the DM or sending in it, is raised (the outbox tries again) and never reported as
    closed DMs."""
    fake = discord_fake
    adapter = bot.adapter
    member = Member(f"discord:{carol.id}", "discord", "Carol")
    out = Outgoing(
        Room(member.id, "discord", "DM Carol", is_direct=True),
        Reply.of(verbatim("Reminder: meetup at 18:00")),
        delivery_id="outbox-7",
    )
    fake.fail_next("POST", "/users/@me/channels", status=503)
    with pytest.raises(discord.DiscordServerError):
        await adapter.send_direct(member, out)
    fake.fail_next("POST", "/channels/{channel_id}/messages", status=503)
    with pytest.raises(discord.DiscordServerError):
        await adapter.send_direct(member, out)
    assert await adapter.send_direct(member, out) is not None  # the outbox's next attempt
    assert [m.content for m in fake.sent] == ["Reminder: meetup at 18:00"]
    fake.fail_next("POST", "/channels/{channel_id}/messages", status=403, body=CLOSED_DMS)
    assert await adapter.send_direct(member, out) is None

    general = main_guild(fake).channel("general")
    fake.fail_next("POST", "/channels/{channel_id}/messages", status=403, body=CLOSED_DMS)
    await fake.send_message(general, carol, "!mydata")
    note = await fake.wait_for_message(channel_id=general.id)
    assert "I couldn't send you a direct message, so I won't show it here." in note.content
    assert "choose Privacy Settings and turn on Direct Messages" in note.content

    start, first = len(fake.sent), len(fake.requests)
    fake.fail_next("POST", "/channels/{channel_id}/messages", status=503)
    await fake.send_message(general, carol, "!mydata")
    await fake.wait_for_request(
        "POST", "/channels/{channel_id}/messages", lambda r: r.index >= first
    )
    await asyncio.gather(*adapter._inflight)  # the command has been handled
    assert not [m for m in fake.sent[start:] if "do you accept messages" in m.content]
