"""The Discord adapter, end to end: a real Bot and discord.py against the fake Discord."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from adapters.discord.render import render, split_content
from adapters.discord.slash import build_slash, command_text, quote_arg
from chatbot.base.i18n import verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.converters import _QUOTES, split_args
from chatbot.dispatch.registry import Module, Registry
from chatbot.messages.events import Bullets, Code, Outgoing, Plain, Reply, Room, When
from commands import basics, members
from tests.discord_fake import FakeDiscord, RecordedMessage, Role, User
from tests.discord_fake.gateway import GatewayConnection
from tests.discord_fake.harness import discord
from tests.discord_fake.models import JSON, Intent
from tests.discord_helpers import (
    ORGANISER_ROLE,
    Gate,
    RunningBot,
    StartBot,
    main_guild,
    make_test_module,
)

pytest_plugins = ["tests.discord_fixtures"]


# -------------------------------------------------------------------- commands


async def test_prefix_command_is_answered_in_the_channel(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """`!ping` in a channel is answered there, as a reply that pings nobody."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    sent = await fake.send_message(general, bob, "!ping")
    reply = await fake.wait_for_message(channel_id=general.id)
    assert reply.content == "Pong! I'm here."
    assert reply.message_reference is not None
    assert reply.message_reference["message_id"] == int(sent["id"])
    assert reply.allowed_mentions == {"parse": []}
    assert reply.message["mentions"] == []
    assert bot.adapter.connected  # what /readyz reports


async def test_bot_mention_is_stripped_and_bots_are_ignored(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """`@bot !ping` is a command, `@bot hello` a question; other bots are never answered."""
    fake = discord_fake
    guild = main_guild(fake)
    general = guild.channel("general")
    robot = fake.add_user("robot", bot=True)
    fake.add_member(guild, robot)
    await fake.send_message(general, robot, "!ping")
    await fake.send_message(general, bob, f"{fake.bot_user.mention} !ping")
    pong = await fake.wait_for_message(channel_id=general.id)
    await fake.send_message(general, bob, f"{fake.bot_user.mention} hello?")
    hint = await fake.wait_for_message(channel_id=general.id, start=pong.index + 1)
    assert [pong.content, hint.content] == [
        "Pong! I'm here.",
        "Type `!help` to see what I can do.",
    ]
    assert len(fake.sent) == 2


async def test_slash_command_with_options_gets_an_ephemeral_reply(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """`/tz set zone:sao paulo` runs `!tz set "sao paulo"` and answers ephemerally."""
    fake = discord_fake
    guild = main_guild(fake)
    sync = await fake.wait_for_command_sync(guild.id)
    assert {"help", "ping", "tz", "lang", "count", "survey"} <= set(sync.names)
    assert "survey-done" not in sync.names  # hidden
    tz = next(c for c in fake.guild_commands[guild.id] if c["name"] == "tz")
    subs = {o["name"]: o for o in tz["options"]}
    assert set(subs) == {"show", "set", "clear"}
    assert all(o["type"] == 1 for o in subs.values())
    (zone,) = subs["set"]["options"]
    assert (zone["name"], zone["type"], zone["required"], zone["autocomplete"]) == (
        "zone",
        3,
        True,
        True,
    )

    pending = await fake.invoke_command("tz", {"zone": "sao paulo"}, subcommand="set", user=bob)
    response = await pending.wait_for_response()
    assert (response.type, response.ephemeral) == (4, True)
    assert response.content is not None
    assert "America/Sao_Paulo" in response.content
    assert "<t:" in response.content
    assert response.allowed_mentions == {"parse": []}

    shown = await fake.invoke_command("tz", subcommand="show", user=bob)
    answer = await shown.wait_for_response()
    assert answer.content is not None and "America/Sao_Paulo" in answer.content


async def test_integer_and_choice_options(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """Integer options carry min/max, Literal parameters become choices; both reach the handler."""
    fake = discord_fake
    count = next(c for c in fake.guild_commands[main_guild(fake).id] if c["name"] == "count")
    n, colour = count["options"]
    assert (n["type"], n["min_value"], n["max_value"], n["required"]) == (4, 1, 10, True)
    assert colour["type"] == 3 and not colour["required"]
    assert [c["value"] for c in colour["choices"]] == ["red", "green"]
    pending = await fake.invoke_command("count", {"n": 3, "colour": "green"}, user=bob)
    response = await pending.wait_for_response()
    assert (response.content, response.ephemeral) == ("1, 2, 3 (green)", False)


async def test_zone_autocomplete_suggests_iana_names_and_cities(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """Typing in a zone option suggests matching cities and IANA names, values that resolve."""
    from chatbot.time.zones import warm_up

    warm_up()  # on a fresh machine the place index is built (seconds), past Discord's deadline
    fake = discord_fake
    pending = await fake.autocomplete("tz", "zone", {"zone": "lago"}, subcommand="set", user=bob)
    response = await pending.wait_for_response()
    assert response.type == 8
    values = [c["value"] for c in response.choices]
    assert values[0] == "Africa/Lagos"
    assert all(len(c["name"]) <= 100 for c in response.choices)
    iana = await fake.autocomplete("where", "zone", {"zone": "Europe/Par"}, user=bob)
    assert "Europe/Paris" in [c["value"] for c in (await iana.wait_for_response()).choices]

    chosen = await fake.invoke_command("where", {"zone": "Africa/Lagos"}, user=bob)
    assert (await chosen.wait_for_response()).content == "That is Africa/Lagos."


# ----------------------------------------------------------------- forms and buttons


def text_inputs(modal: JSON) -> list[str]:
    """The custom ids of a modal's text inputs, whatever the layout (rows or labels)."""
    found: list[str] = []

    def walk(component: JSON) -> None:
        if component.get("type") == 4:
            found.append(str(component["custom_id"]))
        for child in component.get("components", []):
            walk(child)
        if isinstance(component.get("component"), dict):
            walk(component["component"])

    for component in modal.get("components", []):
        walk(component)
    return found


def custom_ids(message: RecordedMessage) -> list[str]:
    return [str(c["custom_id"]) for row in message.components for c in row["components"]]


async def test_slash_form_opens_a_paged_modal_and_delivers_every_answer(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """`/survey` answers with the modal itself; page 1, "Next page", page 2, then the handler."""
    fake = discord_fake
    opened = await fake.invoke_command("survey", user=bob)
    first = await opened.wait_for_response()
    assert first.modal is not None
    assert first.modal["title"] == "Community survey (1/2)"
    assert text_inputs(first.modal) == ["q1", "q2", "q3", "q4", "q5"]

    page1 = {f"q{i}": f"answer {i}" for i in range(1, 6)}
    submitted = await fake.submit_modal(first, page1, user=bob)
    saved = await submitted.wait_for_response()
    assert saved.ephemeral and saved.message is not None
    assert custom_ids(saved.message) == ["wmlib:page:1:survey"]

    clicked = await fake.click_button(saved.message, "wmlib:page:1:survey", user=bob)
    second = await clicked.wait_for_response()
    assert second.modal is not None
    assert text_inputs(second.modal) == ["q6", "q7"]
    done = await fake.submit_modal(second, {"q6": "six", "q7": "@everyone"}, user=bob)
    answer = await done.wait_for_response()
    assert answer.content == (
        "Thanks! q1=answer 1, q2=answer 2, q3=answer 3, q4=answer 4, q5=answer 5, "
        "q6=six, q7=@\u200beveryone"
    )


async def test_prefix_form_offers_an_open_form_button(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """`!survey` posts the text with an "Open form" button; clicking it opens the modal."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    await fake.send_message(general, bob, "!survey")
    posted = await fake.wait_for_message(channel_id=general.id)
    assert posted.content == "Please fill in the survey."
    assert custom_ids(posted) == ["wmlib:form:survey"]
    clicked = await fake.click_button(posted, "wmlib:form:survey", user=bob)
    modal = await clicked.wait_for_response()
    assert modal.type == 9


async def test_a_half_filled_form_survives_restarts(
    discord_fake: FakeDiscord, start_bot: StartBot, bob: User
) -> None:
    """The bot restarts while bob fills in page 1, and again before page 2: the form, the
    first page's answers and the last page all still arrive at the handler."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    async with start_bot():
        await fake.send_message(general, bob, "!survey")
        posted = await fake.wait_for_message(channel_id=general.id)
        clicked = await fake.click_button(posted, "wmlib:form:survey", user=bob)
        first = await clicked.wait_for_response()
        assert first.modal is not None
    page1 = {f"q{i}": f"answer {i}" for i in range(1, 6)}
    async with start_bot():
        submitted = await fake.submit_modal(first, page1, user=bob)
        saved = await submitted.wait_for_response()
        assert saved.message is not None
        assert custom_ids(saved.message) == ["wmlib:page:1:survey"]
    async with start_bot():
        clicked = await fake.click_button(saved.message, "wmlib:page:1:survey", user=bob)
        second = await clicked.wait_for_response()
        assert second.modal is not None and text_inputs(second.modal) == ["q6", "q7"]
        assert fake.gateway.identify_count == 3
    async with start_bot():
        done = await fake.submit_modal(second, {"q6": "six", "q7": "seven"}, user=bob)
        answer = await done.wait_for_response()
        assert answer.content == (
            "Thanks! q1=answer 1, q2=answer 2, q3=answer 3, q4=answer 4, q5=answer 5, "
            "q6=six, q7=seven"
        )


async def test_button_click_works_after_a_restart(
    discord_fake: FakeDiscord, start_bot: StartBot, bob: User, carol: User
) -> None:
    """A button posted before a restart still runs its command, as the member who clicks."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    async with start_bot():
        await fake.send_message(general, bob, "!menu")
        menu = await fake.wait_for_message(channel_id=general.id)
    assert custom_ids(menu) == ["wmlib:cmd:ping", "wmlib:cmd:echo hello there"]
    async with start_bot():
        assert fake.gateway.identify_count == 2
        pending = await fake.click_button(menu, "wmlib:cmd:echo hello there", user=carol)
        response = await pending.wait_for_response()
        assert (response.type, response.content) == (4, "You said: hello there")


# ------------------------------------------------------------- people and places


async def test_direct_messages_both_ways(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """DMs arrive as direct rooms; `!mydata` in a channel answers by DM and says so."""
    fake = discord_fake
    dm = fake.dm_channel(bob)
    await fake.send_message(dm, bob, "hello there")
    hint = await fake.wait_for_message(channel_id=dm.id)
    assert hint.content == "Type `!help` to see what I can do."  # only said in direct rooms

    general = main_guild(fake).channel("general")
    await fake.send_message(general, bob, "!mydata")
    data = await fake.wait_for_message(channel_id=dm.id, start=hint.index + 1)
    assert data.content.startswith("Here is everything I store about you:\n```json\n{")
    assert data.allowed_mentions == {"parse": []}
    notice = await fake.wait_for_message(channel_id=general.id)
    assert notice.content == "I've sent you a direct message."


async def test_organiser_command_refused_then_accepted_by_role(
    discord_fake: FakeDiscord, bot: RunningBot, carol: User, organisers: Role
) -> None:
    """A member without the organiser role is refused; once given the role, accepted."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    await fake.send_message(general, carol, "!organise")
    refused = await fake.wait_for_message(channel_id=general.id)
    assert refused.content == "Only organisers can use `!organise`."
    fake.add_member(main_guild(fake), carol, roles=[organisers])
    await fake.send_message(general, carol, "!organise")
    accepted = await fake.wait_for_message(channel_id=general.id, start=refused.index + 1)
    assert accepted.content == "Organiser tools unlocked."


async def test_administrators_are_organisers_in_slash_commands(
    discord_fake: FakeDiscord, bot: RunningBot
) -> None:
    """The guild's Administrator role is enough, also through a slash command."""
    pending = await discord_fake.invoke_command("organise", user="alice")
    assert (await pending.wait_for_response()).content == "Organiser tools unlocked."


async def test_user_text_never_pings(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User, organisers: Role
) -> None:
    """@everyone and @here in user text are shown escaped, role and user mentions as the
    names they show, markdown literally; nobody is pinged."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    text = f"@everyone @here <@&{organisers.id}> <@{bob.id}> **loud**"
    await fake.send_message(general, bob, f"!echo {text}")
    reply = await fake.wait_for_message(channel_id=general.id)
    assert reply.content == (
        f"You said: @\u200beveryone @\u200bhere @{ORGANISER_ROLE} @Bob \\*\\*loud\\*\\*"
    )
    assert reply.allowed_mentions == {"parse": []}
    assert reply.message["mention_everyone"] is False
    assert reply.message["mention_roles"] == []
    assert reply.message["mentions"] == []


async def test_mention_pings_only_the_member_answered(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User, carol: User
) -> None:
    """A reply mentioning the caller may ping the caller; mentioning someone else pings nobody."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    await fake.send_message(general, bob, f"!greet <@{bob.id}>")
    own = await fake.wait_for_message(channel_id=general.id)
    assert own.content == f"Hello <@{bob.id}>!"
    assert own.allowed_mentions == {"parse": [], "users": [bob.id]}
    assert [m["id"] for m in own.message["mentions"]] == [str(bob.id)]

    pending = await fake.invoke_command("greet", {"who": carol}, user=bob)
    other = await pending.wait_for_response()
    assert other.content == f"Hello <@{carol.id}>!"
    assert other.allowed_mentions == {"parse": []}


# ----------------------------------------------------------------- resilience


async def test_gateway_drop_is_resumed_and_commands_still_answered(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """After the gateway drops, the bot resumes; a command sent meanwhile is answered."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    await fake.drop_gateway(4000)
    await fake.send_message(general, bob, "!ping")
    await fake.wait_for_resume()
    reply = await fake.wait_for_message(channel_id=general.id)
    assert reply.content == "Pong! I'm here."
    assert fake.gateway.identify_count == 1


async def test_rate_limited_reply_is_retried_and_sent_once(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """A 429 with retry_after on the reply is waited out; exactly one reply lands."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    fake.rate_limit_next("POST", "/channels/{channel_id}/messages", retry_after=0.05)
    await fake.send_message(general, bob, "!ping")
    reply = await fake.wait_for_message(channel_id=general.id)
    assert reply.content == "Pong! I'm here."
    posts = [r for r in fake.requests if r.route == "/channels/{channel_id}/messages"]
    assert [r.status for r in posts if r.method == "POST"] == [429, 200]
    assert [m.content for m in fake.sent] == ["Pong! I'm here."]


async def test_slow_slash_command_is_deferred_then_followed_up(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate, bob: User
) -> None:
    """A handler slower than defer_after gets an ephemeral deferral, then its follow-up."""
    fake = discord_fake
    async with start_bot(defer_after=0.2):
        pending = await fake.invoke_command("slow", user=bob)
        await gate.entered.wait()
        deferred = await pending.wait_for_response()
        assert (deferred.type, deferred.ephemeral) == (5, True)
        gate.opened.set()
        followup = await pending.wait_for_followup(0)
        assert followup.content == "Finally done."
        assert followup.replaced_original and followup.ephemeral


async def test_private_answer_to_a_publicly_deferred_command_stays_private(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate, bob: User
) -> None:
    """A public command deferred in public whose answer is private: the public "thinking"
    message goes away and the answer is an ephemeral follow-up, not an edit of it."""
    fake = discord_fake
    async with start_bot(defer_after=0.2):
        pending = await fake.invoke_command("slowsecret", user=bob)
        await gate.entered.wait()
        deferred = await pending.wait_for_response()
        assert (deferred.type, deferred.ephemeral) == (5, False)
        gate.opened.set()
        followup = await pending.wait_for_followup(0)
        assert followup.content == "Only for you."
        assert followup.ephemeral and not followup.replaced_original
        assert pending.original_message_id is not None
        assert pending.original_message_id not in fake.messages


async def test_sharded_client_when_shards_are_configured(
    discord_fake: FakeDiscord, start_bot: StartBot, bob: User
) -> None:
    """`shards = 1` runs an auto-sharded client that identifies as shard 0 of 1."""
    fake = discord_fake
    async with start_bot(shards=1) as running:
        assert isinstance(running.adapter.client, discord.AutoShardedClient)
        assert fake.gateway.identify_payloads[0]["shard"] == [0, 1]
        pending = await fake.invoke_command("ping", user=bob)
        assert (await pending.wait_for_response()).content == "Pong! I'm here."


async def test_delivery_id_makes_sends_idempotent(
    discord_fake: FakeDiscord, bot: RunningBot
) -> None:
    """Two sends with one delivery_id carry the same nonce (enforced): one message."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    room = Room(f"discord:{general.id}", "discord", "#general")
    out = Outgoing(room, Reply.of(verbatim("Reminder: meetup at 18:00")), delivery_id="reminder-42")
    first = await bot.adapter.send(out)
    second = await bot.adapter.send(out)
    assert first == second is not None
    assert len(fake.sent) == 1 and len(fake.nonce_hits) == 1
    sent = fake.sent[0]
    assert sent.enforce_nonce and isinstance(sent.nonce, str) and len(sent.nonce) <= 25


async def test_without_message_content_intent_slash_commands_still_work(
    discord_fake: FakeDiscord,
    start_bot: StartBot,
    bob: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When Discord refuses message content (close 4014) the bot reconnects without it."""
    fake = discord_fake
    identify = fake.gateway._identify

    async def refuse_message_content(connection: GatewayConnection, data: Any) -> bool:
        if int(data.get("intents", 0)) & Intent.MESSAGE_CONTENT:
            await connection.ws.close(code=4014, message=b"Disallowed intent(s).")
            return False
        return await identify(connection, data)

    monkeypatch.setattr(fake.gateway, "_identify", refuse_message_content)
    async with start_bot() as running:
        assert running.adapter.message_content is False
        assert [p["intents"] & Intent.MESSAGE_CONTENT for p in fake.gateway.identify_payloads] == [
            0
        ]
        pending = await fake.invoke_command("ping", user=bob)
        assert (await pending.wait_for_response()).content == "Pong! I'm here."


# ------------------------------------------------------- rendering and slash mapping


def test_render_uses_native_timestamps_lists_and_escapes() -> None:
    """When → <t:…>, Bullets → "- " lines (a blank line ends the list), user text escaped,
    code blocks on their own lines."""
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    unix = int(at.timestamp())
    reply = Reply.of(
        "**Next**: ",
        When(at),
        " or ",
        When(at, "date", relative=True),
        "\n",
        Bullets(((Plain("*a*"),), (Code("x`y"),))),
        Code("line1\n```\nline2", "json"),
        "after",
    )
    assert render(reply) == (
        f"**Next**: <t:{unix}:F> or <t:{unix}:D> (<t:{unix}:R>)\n"
        "- \\*a\\*\n- `` x`y ``\n\n"
        "```json\nline1\n`\u200b``\nline2\n```\n"
        "after"
    )


def test_long_content_is_split_at_lines_without_breaking_code_blocks() -> None:
    """Over 2000 characters, pieces end at lines; a code block cut in two is closed and reopened."""
    lines = [f"line {i:04d} " + "x" * 40 for i in range(60)]
    text = "Intro\n```json\n" + "\n".join(lines) + "\n```\nOutro"
    chunks = split_content(text)
    assert len(chunks) == 2
    assert all(len(chunk) <= 2000 and chunk.count("```") % 2 == 0 for chunk in chunks)
    assert chunks[0].startswith("Intro\n```json\n") and chunks[0].endswith("\n```")
    assert chunks[1].startswith("```json\n") and chunks[1].endswith("```\nOutro")
    assert all(sum(line in chunk for chunk in chunks) == 1 for line in lines)
    pieces = split_content("y" * 4500)
    assert len(pieces) == 3 and "".join(pieces) == "y" * 4500
    assert all(len(piece) <= 2000 for piece in pieces)


@given(st.text(max_size=40))
def test_slash_values_read_back_exactly(value: str) -> None:
    """Whatever text a slash option holds, the command line gives the handler that text."""
    assume(any(close not in value for close in _QUOTES.values()))
    assert [t.text for t in split_args(quote_arg(value))] == [value]


def test_slash_commands_are_valid_for_the_whole_registry() -> None:
    """Names are valid lower case, descriptions 1-100 characters, required options first."""
    registry = Registry()
    for module in (basics.module, members.module, make_test_module(Gate())):
        registry.add_module(module)
    slash = build_slash(registry)

    def check(options: list[dict[str, Any]]) -> None:
        required = [o.get("required", False) for o in options if o["type"] not in (1, 2)]
        assert required == sorted(required, reverse=True)
        for option in options:
            assert re.fullmatch(r"[-_a-z0-9]{1,32}", option["name"])
            assert 1 <= len(option["description"]) <= 100
            check(option.get("options", []))

    check(slash.payloads)
    assert not slash.skipped
    assert {p["name"] for p in slash.payloads} >= {"tz", "echo", "survey", "help"}
    assert "timezone" not in {p["name"] for p in slash.payloads}  # aliases stay prefix-only
    help_target = slash.target("help", None)
    assert help_target is not None
    assert command_text(help_target, {"topic": "tz set"}) == 'help "tz set"'
    setup = slash.target("tz", "set")
    assert setup is not None and setup.words == "tz set"
    assert command_text(setup, {"zone": 'the "old" town'}) == "tz set 'the \"old\" town'"


def test_group_with_only_a_default_is_a_plain_slash_command() -> None:
    """A group whose only command is its default becomes that top-level command itself."""
    module = Module("agenda", "The agenda.")
    agenda = module.group("agenda", "What's next.")

    @agenda.command(default=True, help="Show what's next, for a number of days.")
    async def show(ctx: Context, days: int = 7) -> str:
        return f"{days} days"

    registry = Registry()
    registry.add_module(module)
    slash = build_slash(registry)
    (payload,) = slash.payloads
    assert payload["name"] == "agenda"
    assert [(o["name"], o["type"]) for o in payload["options"]] == [("days", 4)]
    target = slash.target("agenda", None)
    assert target is not None
    assert command_text(target, {"days": 3}) == "agenda 3"
