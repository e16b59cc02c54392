"""The fake Discord, proven with bare, unmodified discord.py clients."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import zlib

import aiohttp
import pytest

from tests.discord_fake import FakeDiscord, Guild, User
from tests.discord_fake.fixtures import TEST_GUILD_READY_TIMEOUT
from tests.discord_fake.harness import (
    discord,
    message_content_intents,
    point_discord_at,
    running_client,
)

app_commands = discord.app_commands


def main_guild(fake: FakeDiscord) -> Guild:
    assert fake.guild is not None
    return fake.guild


def text_channel(client: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


@pytest.fixture
def alice(discord_fake: FakeDiscord) -> User:
    """The default guild's owner (Admin role)."""
    return discord_fake.user("alice")


@pytest.fixture
def bob(discord_fake: FakeDiscord) -> User:
    """A plain member of the default guild."""
    return discord_fake.user("bob")


@pytest.fixture
async def tree(discord_client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    """A command tree on the ready client."""
    return app_commands.CommandTree(discord_client)


# --------------------------------------------------------------------- login


async def test_login_ready_and_guild_create(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """Login, READY and GUILD_CREATE give the client its user, guild, channels and roles."""
    fake = discord_fake
    guild = main_guild(fake)
    assert discord_client.user is not None
    assert discord_client.user.id == fake.bot_user.id
    assert discord_client.application_id == fake.application_id
    cached = discord_client.get_guild(guild.id)
    assert cached is not None
    assert cached.name == "Test Guild"
    assert cached.owner_id == fake.user("alice").id
    assert {c.name for c in cached.text_channels} == {"general", "events"}
    assert [c.name for c in cached.voice_channels] == ["Voice"]
    assert cached.me is not None
    assert [r.name for r in cached.me.roles] == ["@everyone", "chatbot"]
    assert fake.gateway.identify_count == 1
    assert fake.gateway.resume_count == 0
    identify = fake.gateway.identify_payloads[0]
    assert identify["intents"] == message_content_intents().value
    assert fake.gateway.connections[0].compress == "zlib-stream"
    assert fake.gateway.heartbeat_count >= 1
    assert discord_client.latency < 5
    assert not fake.unknown_requests


async def test_members_intent_chunks_the_guild(discord_fake: FakeDiscord) -> None:
    """With the members intent discord.py requests member chunks (op 8) and caches everyone."""
    fake = discord_fake
    guild = main_guild(fake)
    intents = message_content_intents()
    intents.members = True
    client = discord.Client(intents=intents, guild_ready_timeout=TEST_GUILD_READY_TIMEOUT)
    async with running_client(client, fake):
        cached = client.get_guild(guild.id)
        assert cached is not None
        assert cached.chunked
        alice = cached.get_member(fake.user("alice").id)
        assert alice is not None
        assert [r.name for r in alice.roles] == ["@everyone", "Admin"]
        assert cached.owner == alice
    assert [r["guild_id"] for r in fake.gateway.member_requests] == [guild.id]


async def test_autosharded_client_connects_through_gateway_bot(discord_fake: FakeDiscord) -> None:
    """AutoShardedClient asks GET /gateway/bot for the URL and identifies with a shard."""
    fake = discord_fake
    client = discord.AutoShardedClient(
        intents=message_content_intents(), guild_ready_timeout=TEST_GUILD_READY_TIMEOUT
    )
    async with running_client(client, fake):
        assert client.get_guild(main_guild(fake).id) is not None
        assert client.shard_count == 1
    await fake.wait_for_request("GET", "/gateway/bot")
    assert fake.gateway.identify_payloads[0]["shard"] == [0, 1]


async def test_raw_gateway_protocol(discord_fake: FakeDiscord) -> None:
    """zlib-stream frames; RESUME of an unknown session gets op 9; a bad token closes 4004."""
    fake = discord_fake
    url = f"{fake.gateway_url}?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            inflate = zlib.decompressobj()
            frame = await ws.receive_bytes()
            assert frame.endswith(b"\x00\x00\xff\xff")
            hello = json.loads(inflate.decompress(frame))
            assert hello["op"] == 10
            assert hello["d"]["heartbeat_interval"] == fake.gateway.heartbeat_interval_ms
            await ws.send_json({"op": 1, "d": None})
            assert json.loads(inflate.decompress(await ws.receive_bytes()))["op"] == 11
            resume = {"token": fake.token, "session_id": "nope", "seq": 3}
            await ws.send_json({"op": 6, "d": resume})
            invalid = json.loads(inflate.decompress(await ws.receive_bytes()))
            assert (invalid["op"], invalid["d"]) == (9, False)
        async with session.ws_connect(f"{fake.gateway_url}?v=10&encoding=json") as ws:
            assert json.loads(await ws.receive_str())["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0}})
            closing = await ws.receive()
            assert closing.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4004
    assert fake.gateway.failed_resume_count == 1
    assert fake.gateway.identify_count == 0


async def test_rest_answers_exact_json_content_type(discord_fake: FakeDiscord) -> None:
    """REST answers carry Content-Type application/json exactly; unknown routes are recorded."""
    fake = discord_fake
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base}/users/@me", headers=headers) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["id"] == str(fake.bot_user.id)
        async with session.get(f"{fake.api_base}/users/@me") as response:
            assert response.status == 401
        async with session.get(f"{fake.api_base}/stickers/1", headers=headers) as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
            body = await response.json()
            assert "no fake route for GET" in body["fake_discord"]
        async with session.get(f"{fake.api_base}/gateway/bot", headers=headers) as response:
            assert (await response.json())["url"] == fake.gateway_url
    assert [r.path for r in fake.unknown_requests] == ["/stickers/1"]


async def test_pointing_discord_py_is_undone() -> None:
    """point_discord_at sets Route.BASE and DEFAULT_GATEWAY to the fake and restores both."""
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    async with FakeDiscord(default_world=False) as fake:
        with point_discord_at(fake):
            assert fake.api_base == discord.http.Route.BASE
            assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


async def test_bad_token_is_a_login_failure(discord_fake: FakeDiscord) -> None:
    """A wrong token gets 401 and discord.py raises LoginFailure."""
    client = discord.Client(intents=message_content_intents())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()


async def test_heartbeats_are_acknowledged() -> None:
    """With a short heartbeat interval the client keeps beating and every beat is ACKed."""
    async with FakeDiscord(heartbeat_interval_ms=30) as fake:
        with point_discord_at(fake):
            client = discord.Client(
                intents=message_content_intents(), guild_ready_timeout=TEST_GUILD_READY_TIMEOUT
            )
            async with running_client(client, fake):
                await fake.wait_for_heartbeats(4)
                assert client.latency < 1


# ------------------------------------------------------------------ messages


async def test_message_reaches_on_message_and_reply_is_recorded(
    discord_fake: FakeDiscord, discord_client: discord.Client, bob: User
) -> None:
    """A MESSAGE_CREATE reaches on_message; the reply is recorded with its allowed_mentions."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    seen: list[discord.Message] = []

    async def on_message(message: discord.Message) -> None:
        if message.author == discord_client.user:
            return
        seen.append(message)
        await message.reply(
            f"hello {message.author.mention}",
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=[message.author], replied_user=False
            ),
        )

    discord_client.event(on_message)
    sent = await fake.send_message(general, bob, "hi bot")
    reply = await fake.wait_for_message(channel_id=general.id)

    assert len(seen) == 1
    incoming = seen[0]
    assert incoming.content == "hi bot"
    assert incoming.id == int(sent["id"])
    assert isinstance(incoming.author, discord.Member)
    assert [r.name for r in incoming.author.roles] == ["@everyone", "Member"]
    assert reply.content == f"hello <@{bob.id}>"
    assert reply.allowed_mentions == {"parse": [], "users": [bob.id]}
    assert reply.message_reference is not None
    assert reply.message_reference["message_id"] == int(sent["id"])
    assert reply.message["type"] == 19
    assert reply.enforce_nonce
    assert reply.nonce is not None
    assert [m["id"] for m in reply.message["mentions"]] == [str(bob.id)]


async def test_message_content_intent_is_enforced(discord_fake: FakeDiscord, bob: User) -> None:
    """Without the message-content intent, guild messages arrive blank unless they ping the bot."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    client = discord.Client(
        intents=discord.Intents.default(), guild_ready_timeout=TEST_GUILD_READY_TIMEOUT
    )
    async with running_client(client, fake):
        plain = asyncio.ensure_future(client.wait_for("message", timeout=5))
        await fake.send_message(general, bob, "secret")
        assert (await plain).content == ""
        mention = asyncio.ensure_future(client.wait_for("message", timeout=5))
        await fake.send_message(general, bob, f"{fake.bot_user.mention} visible")
        assert (await mention).content == f"<@{fake.bot_user.id}> visible"


async def test_message_create_429_is_retried_once(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """A 429 on message create makes discord.py wait retry_after and retry; one message lands."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    fake.rate_limit_next("POST", "/channels/{channel_id}/messages", retry_after=0.05)
    message = await text_channel(discord_client, general.id).send("after the limit")

    posts = [r for r in fake.requests if r.route == "/channels/{channel_id}/messages"]
    assert [r.status for r in posts] == [429, 200]
    assert [m.content for m in fake.sent] == ["after the limit"]
    assert message.id == fake.sent[0].message_id


async def test_repeated_nonce_returns_the_first_message(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """With enforce_nonce, posting the same nonce twice yields one message (Discord dedupes)."""
    fake = discord_fake
    channel = text_channel(discord_client, main_guild(fake).channel("events").id)
    first = await channel.send("only once", nonce=4242)
    second = await channel.send("only once", nonce=4242)
    other = await channel.send("only once", nonce=4343)
    assert first.id == second.id != other.id
    assert len(fake.sent) == 2
    assert len(fake.nonce_hits) == 1


async def test_long_message_is_rejected_like_discord(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """Content over 2000 characters gets 400 Invalid Form Body (50035)."""
    channel = text_channel(discord_client, main_guild(discord_fake).channel("general").id)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001)
    assert caught.value.status == 400
    assert caught.value.code == 50035


async def test_file_upload_edit_delete_reaction_and_typing(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """Multipart uploads, edits, deletes, reactions and typing are recorded in order."""
    fake = discord_fake
    channel = text_channel(discord_client, main_guild(fake).channel("general").id)
    async with channel.typing():
        message = await channel.send("report", file=discord.File(io.BytesIO(b"a,b\n"), "r.csv"))
    assert await message.attachments[0].read() == b"a,b\n"
    await message.add_reaction("👍")
    await message.edit(content="report v2")
    await message.delete()

    assert fake.typing == [channel.id]
    assert [(m.action, m.content) for m in fake.sent] == [
        ("create", "report"),
        ("edit", "report v2"),
        ("delete", "report v2"),
    ]
    assert fake.sent[0].files[0].filename == "r.csv"
    assert fake.sent[0].files[0].data == b"a,b\n"
    reaction = await fake.wait_for_reaction("👍")
    assert reaction.message_id == message.id


async def test_direct_messages_both_ways(
    discord_fake: FakeDiscord, discord_client: discord.Client, bob: User
) -> None:
    """A user's DM reaches on_message; the bot opens a DM with POST /users/@me/channels."""
    fake = discord_fake
    incoming = asyncio.ensure_future(
        discord_client.wait_for("message", check=lambda m: m.guild is None, timeout=5)
    )
    await fake.send_message(fake.dm_channel(bob), bob, "psst")
    message = await incoming
    assert isinstance(message.channel, discord.DMChannel)
    assert message.content == "psst"
    assert message.author.id == bob.id

    user = await discord_client.fetch_user(bob.id)
    await user.send("hello in private")
    sent = await fake.wait_for_message(content="hello in private")
    assert sent.channel_id == fake.dm_channel(bob).id
    await fake.wait_for_request("POST", "/users/@me/channels")


async def test_a_member_writes_to_the_bot_by_dm(
    discord_fake: FakeDiscord, discord_client: discord.Client, bob: User
) -> None:
    """``send_dm`` injects what Discord sends for a DM: MESSAGE_CREATE without guild_id in
    the member's DM channel; discord.py opens the same channel again with an integer
    ``recipient_id`` and gets a DM channel (type 1) whose ``recipients`` is the member."""
    fake = discord_fake
    incoming = asyncio.ensure_future(
        discord_client.wait_for("message", check=lambda m: m.guild is None, timeout=5)
    )
    raw = await fake.send_dm(bob, "are you there?")
    assert "guild_id" not in raw and "member" not in raw
    assert int(raw["channel_id"]) == fake.dm_channel(bob).id
    message = await incoming
    assert isinstance(message.channel, discord.DMChannel)
    assert (message.content, message.author.id) == ("are you there?", bob.id)

    channel = await message.author.create_dm()
    opened = await fake.wait_for_request("POST", "/users/@me/channels")
    assert opened.json == {"recipient_id": bob.id}  # an integer, as discord.py sends it
    assert opened.response["type"] == 1 and "guild_id" not in opened.response
    assert [u["id"] for u in opened.response["recipients"]] == [str(bob.id)]
    assert channel.id == fake.dm_channel(bob).id and channel.recipient is not None
    assert channel.recipient.id == bob.id
    await channel.send("yes")
    reply = await fake.wait_for_message(channel_id=channel.id)
    assert reply.content == "yes"


async def test_component_and_modal_interactions_carry_their_message(
    discord_fake: FakeDiscord, discord_client: discord.Client, bob: User
) -> None:
    """A button click carries the message the button is on (``message.id``) and
    ``data.custom_id``/``component_type``; a modal opened from that button carries the
    same message when submitted, as Discord does."""
    fake = discord_fake
    seen: list[discord.Interaction] = []

    class Survey(discord.ui.Modal, title="Survey"):
        answer: discord.ui.TextInput[Survey] = discord.ui.TextInput(
            label="Answer", custom_id="answer"
        )

        async def on_submit(self, interaction: discord.Interaction) -> None:
            seen.append(interaction)
            await interaction.response.send_message("thanks", ephemeral=True)

    class Open(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="Open", custom_id="survey:open")
        async def open(
            self, interaction: discord.Interaction, button: discord.ui.Button[Open]
        ) -> None:
            seen.append(interaction)
            await interaction.response.send_modal(Survey(custom_id="survey-modal"))

    channel = text_channel(discord_client, main_guild(fake).channel("general").id)
    posted = await channel.send("Tell us", view=Open())
    clicked = await fake.click_button(posted.id, "survey:open", user=bob)
    assert clicked.payload["data"] == {"custom_id": "survey:open", "component_type": 2}
    assert clicked.payload["message"]["id"] == str(posted.id)
    modal = await clicked.wait_for_response()
    submitted = await fake.submit_modal(modal, {"answer": "42"}, user=bob)
    assert submitted.payload["message"]["id"] == str(posted.id)
    await submitted.wait_for_response()
    click, submit = seen
    assert click.message is not None and click.message.id == posted.id
    assert submit.message is not None and submit.message.id == posted.id


# -------------------------------------------------------------- the gateway


@pytest.mark.parametrize("how", ["close-4000", "close-1001", "abort", "op7-reconnect"])
async def test_dropped_gateway_is_resumed_without_losing_events(
    discord_fake: FakeDiscord, discord_client: discord.Client, bob: User, how: str
) -> None:
    """After the gateway drops, the client RESUMEs (no new IDENTIFY) and gets missed events."""
    fake = discord_fake
    general = main_guild(fake).channel("general")
    received: asyncio.Queue[str] = asyncio.Queue()

    async def on_message(message: discord.Message) -> None:
        await received.put(message.content)

    discord_client.event(on_message)
    resumed = asyncio.ensure_future(discord_client.wait_for("resumed", timeout=5))
    if how == "op7-reconnect":
        await fake.request_reconnect()
    else:
        code = 1001 if how == "close-1001" else 4000
        await fake.drop_gateway(code, abort=how == "abort")
    await fake.send_message(general, bob, "while you were away")
    await fake.wait_for_resume()
    await resumed
    await fake.send_message(general, bob, "welcome back")

    assert await asyncio.wait_for(received.get(), 5) == "while you were away"
    assert await asyncio.wait_for(received.get(), 5) == "welcome back"
    assert fake.gateway.identify_count == 1
    assert fake.gateway.resume_count == 1
    assert fake.gateway.resume_payloads[0]["session_id"] == fake.gateway.sessions[0].id
    assert fake.gateway.connections[-1].path == "/ws/resume"


async def test_resumable_invalid_session_is_resumed(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """A resumable INVALID_SESSION (d=true) makes the client reconnect and RESUME."""
    fake = discord_fake
    await fake.invalidate_session(resumable=True)
    await fake.wait_for_resume()
    assert fake.gateway.identify_count == 1


class QuickReidentifyClient(discord.Client):
    """discord.py sleeps 5 s before a non-initial IDENTIFY; this documented hook skips it."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_non_resumable_invalid_session_leads_to_a_new_identify(
    discord_fake: FakeDiscord,
) -> None:
    """A non-resumable INVALID_SESSION makes the client IDENTIFY again and get a new READY."""
    fake = discord_fake
    client = QuickReidentifyClient(
        intents=message_content_intents(), guild_ready_timeout=TEST_GUILD_READY_TIMEOUT
    )
    async with running_client(client, fake):
        ready_again = asyncio.ensure_future(client.wait_for("ready", timeout=5))
        await fake.invalidate_session(resumable=False)
        await fake.wait_for_identify(2)
        await ready_again
        assert client.get_guild(main_guild(fake).id) is not None
    assert fake.gateway.resume_count == 0
    assert len(fake.gateway.sessions) == 2
    assert fake.gateway.sessions[0].ended


# ------------------------------------------------------------- interactions


async def test_slash_command_sync_and_ephemeral_response(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
    bob: User,
) -> None:
    """A tree command is synced (bulk overwrite recorded), invoked, and answers ephemerally."""
    fake = discord_fake
    guild = main_guild(fake)

    @tree.command(name="greet", description="Greet someone", guild=discord.Object(guild.id))
    @app_commands.describe(who="Who to greet", times="How often")
    async def greet(interaction: discord.Interaction, who: discord.Member, times: int = 1) -> None:
        await interaction.response.send_message(
            " ".join([f"hi {who.display_name}"] * times), ephemeral=True
        )

    await tree.sync(guild=discord.Object(guild.id))
    sync = await fake.wait_for_command_sync(guild.id)
    assert sync.names == ["greet"]
    options = fake.guild_commands[guild.id][0]["options"]
    assert [(o["name"], o["type"], o.get("required")) for o in options] == [
        ("who", 6, True),
        ("times", 4, False),
    ]

    pending = await fake.invoke_command("greet", {"who": bob, "times": 2}, user=alice)
    response = await pending.wait_for_response()
    assert response.type == 4
    assert response.ephemeral
    assert response.content == "hi Bob hi Bob"
    assert response.message is not None
    assert response.message.ephemeral


async def test_choices_keep_their_name_localizations(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """A choice's ``name_localizations`` are stored and given back only when asked
    ``with_localizations``, as Discord does; a key that is no Discord locale is refused."""
    fake = discord_fake
    guild = main_guild(fake)
    http = discord_client.http
    app_id = fake.application_id
    choice = {"name": "yes", "value": "yes", "name_localizations": {"pt-BR": "sim", "de": "ja"}}
    command = {
        "name": "rsvp",
        "description": "Answer",
        "options": [{"name": "answer", "description": "a", "type": 3, "choices": [choice]}],
    }
    await http.bulk_upsert_guild_commands(app_id, guild.id, [command])
    route = discord.http.Route(
        "GET", "/applications/{app_id}/guilds/{guild_id}/commands", app_id=app_id, guild_id=guild.id
    )
    plain = await http.request(route)
    assert plain[0]["options"][0]["choices"] == [{"name": "yes", "value": "yes"}]
    full = await http.request(route, params={"with_localizations": "true"})
    assert full[0]["options"][0]["choices"] == [choice]

    choice["name_localizations"] = {"pt_BR": "sim"}
    with pytest.raises(discord.HTTPException) as refused:
        await http.bulk_upsert_guild_commands(app_id, guild.id, [command])
    assert refused.value.code == 50035
    assert "choices.0.name_localizations.pt_BR: Value must be one of" in refused.value.text
    choice["name_localizations"] = {"fr": "o" * 101}
    with pytest.raises(discord.HTTPException):
        await http.bulk_upsert_guild_commands(app_id, guild.id, [command])


async def test_subcommand_groups_arrive_as_discord_nests_them(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
) -> None:
    """Options of /event rsvp yes are nested as group > subcommand > options, roles resolved."""
    fake = discord_fake
    guild = main_guild(fake)
    event = app_commands.Group(name="event", description="Events")
    rsvp = app_commands.Group(name="rsvp", description="Answer", parent=event)

    @rsvp.command(name="yes", description="Say yes")
    async def yes(interaction: discord.Interaction, title: str, role: discord.Role) -> None:
        await interaction.response.send_message(f"{interaction.user.name}: {title} as {role.name}")

    tree.add_command(event, guild=discord.Object(guild.id))
    await tree.sync(guild=discord.Object(guild.id))

    pending = await fake.invoke_command(
        "event",
        {"title": "Edit-a-thon", "role": guild.get_role("Member")},
        group="rsvp",
        subcommand="yes",
        user=alice,
    )
    response = await pending.wait_for_response()
    assert response.content == "alice: Edit-a-thon as Member"
    assert not response.ephemeral
    (group_option,) = pending.data["options"]
    assert (group_option["type"], group_option["name"]) == (2, "rsvp")
    assert group_option["options"][0]["options"][0] == {
        "name": "title",
        "type": 3,
        "value": "Edit-a-thon",
    }


async def test_modal_round_trip(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
) -> None:
    """send_modal is recorded as type 9; the modal submit reaches on_submit with the values."""
    fake = discord_fake

    class Feedback(discord.ui.Modal, title="Feedback"):
        text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(
            label="Your feedback", custom_id="feedback-text"
        )

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)

    @tree.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback(custom_id="feedback-modal"))

    await tree.sync()
    opened = await fake.invoke_command("feedback", user=alice)
    modal = await opened.wait_for_response()
    assert modal.type == 9
    assert modal.modal is not None
    assert modal.modal["custom_id"] == "feedback-modal"
    assert modal.modal["title"] == "Feedback"

    submitted = await fake.submit_modal(modal, {"feedback-text": "great bot"}, user=alice)
    answer = await submitted.wait_for_response()
    assert (answer.type, answer.content, answer.ephemeral) == (4, "thanks: great bot", True)


async def test_persistent_button_click_updates_the_message(
    discord_fake: FakeDiscord, discord_client: discord.Client, bob: User
) -> None:
    """A persistent view's button click is dispatched to its callback; UPDATE_MESSAGE edits."""
    fake = discord_fake
    clicks: list[int] = []

    class Rsvp(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="Going", custom_id="rsvp:yes", style=discord.ButtonStyle.green)
        async def going(
            self, interaction: discord.Interaction, button: discord.ui.Button[Rsvp]
        ) -> None:
            clicks.append(interaction.user.id)
            await interaction.response.edit_message(content=f"{len(clicks)} going")

        @discord.ui.button(label="Not going", custom_id="rsvp:no")
        async def not_going(
            self, interaction: discord.Interaction, button: discord.ui.Button[Rsvp]
        ) -> None:
            await interaction.response.defer()  # type 6 for components
            await interaction.edit_original_response(content=f"{len(clicks)} going, 1 not")

    discord_client.add_view(Rsvp())
    channel = text_channel(discord_client, main_guild(fake).channel("events").id)
    posted = await channel.send("Meetup on Friday", view=Rsvp())

    pending = await fake.click_button(posted.id, "rsvp:yes", user=bob)
    response = await pending.wait_for_response()
    assert response.type == 7
    assert clicks == [bob.id]
    edit = await fake.wait_for_message(action="edit")
    assert (edit.message_id, edit.content) == (posted.id, "1 going")
    assert edit.components[0]["components"][0]["custom_id"] == "rsvp:yes"

    declined = await fake.click_button(posted.id, "rsvp:no", user=bob)
    assert (await declined.wait_for_response()).type == 6
    later = await declined.wait_for_edit()
    assert (later.message_id, later.content) == (posted.id, "1 going, 1 not")


async def test_autocomplete_choices_are_recorded(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
) -> None:
    """An autocomplete interaction gets a type 8 response with the bot's choices."""
    fake = discord_fake
    cities = ["Paris", "Parma", "Prague"]

    async def complete_city(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=c, value=c) for c in cities if c.startswith(current)]

    @tree.command(name="weather", description="Weather for a city")
    @app_commands.autocomplete(city=complete_city)
    async def weather(interaction: discord.Interaction, city: str) -> None:
        await interaction.response.send_message(city)

    await tree.sync()
    pending = await fake.autocomplete("weather", "city", {"city": "Par"}, user=alice)
    response = await pending.wait_for_response()
    assert response.type == 8
    assert response.choices == [
        {"name": "Paris", "value": "Paris"},
        {"name": "Parma", "value": "Parma"},
    ]


async def test_deferred_interaction_then_followups(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
) -> None:
    """defer(thinking) then followups: the first replaces the loading message, then edits work."""
    fake = discord_fake

    @tree.command(name="slow", description="Takes a while")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("step 1 done")
        await interaction.followup.send("step 2 done", ephemeral=True)
        await interaction.edit_original_response(content="all done")

    await tree.sync()
    pending = await fake.invoke_command("slow", user=alice)
    deferred = await pending.wait_for_response()
    assert (deferred.type, deferred.ephemeral) == (5, True)
    first = await pending.wait_for_followup(0)
    second = await pending.wait_for_followup(1)
    edit = await pending.wait_for_edit(0)
    assert first.replaced_original
    assert first.ephemeral  # inherited from the deferral
    assert first.message_id == pending.original_message_id
    assert (second.content, second.replaced_original) == ("step 2 done", False)
    assert (edit.message_id, edit.content) == (first.message_id, "all done")


async def test_slash_command_in_a_dm(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    bob: User,
) -> None:
    """A slash command used in the bot's DM carries a user (no member) and a DM channel."""
    fake = discord_fake

    @tree.command(name="whoami", description="Who am I")
    async def whoami(interaction: discord.Interaction) -> None:
        where = "dm" if interaction.guild is None else "guild"
        await interaction.response.send_message(f"{interaction.user.name} in {where}")

    await tree.sync()
    pending = await fake.invoke_command("whoami", user=bob, channel=fake.dm_channel(bob))
    response = await pending.wait_for_response()
    assert response.content == "bob in dm"
    assert response.message is not None
    assert response.message.channel_id == fake.dm_channel(bob).id


async def test_late_interaction_response_is_unknown(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
) -> None:
    """A callback after the acknowledgement deadline gets 10062 Unknown interaction."""
    fake = discord_fake
    fake.interaction_deadline = 0.0
    outcome: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @tree.command(name="late", description="Too slow")
    async def late(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message("finally")
        except discord.NotFound as exc:
            outcome.set_result(exc.code)

    await tree.sync()
    await fake.invoke_command("late", user=alice)
    assert await asyncio.wait_for(outcome, 5) == 10062
    assert not fake.interaction_responses


async def test_second_interaction_response_is_rejected(
    discord_fake: FakeDiscord,
    discord_client: discord.Client,
    tree: app_commands.CommandTree[discord.Client],
    alice: User,
) -> None:
    """A second callback for one interaction gets Discord's 40060 'already acknowledged'."""
    fake = discord_fake

    @tree.command(name="once", description="Responds once")
    async def once(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")

    await tree.sync()
    pending = await fake.invoke_command("once", user=alice)
    assert (await pending.wait_for_response()).content == "one"
    url = f"{fake.api_base}/interactions/{pending.id}/{pending.token}/callback"
    body = {"type": 4, "data": {"content": "two"}}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 40060
    assert len(fake.interaction_responses) == 1


# ---------------------------------------------------------- scheduled events


async def test_scheduled_events_round_trip(
    discord_fake: FakeDiscord, discord_client: discord.Client
) -> None:
    """Scheduled events are created, edited and deleted via REST and echoed on the gateway."""
    fake = discord_fake
    guild = discord_client.get_guild(main_guild(fake).id)
    assert guild is not None
    start = dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=3)
    created = asyncio.ensure_future(discord_client.wait_for("scheduled_event_create", timeout=5))
    event = await guild.create_scheduled_event(
        name="Edit-a-thon",
        start_time=start,
        end_time=start + dt.timedelta(hours=2),
        entity_type=discord.EntityType.external,
        privacy_level=discord.PrivacyLevel.guild_only,
        location="Library",
        description="Bring a laptop",
    )
    assert (await created).id == event.id
    assert event.location == "Library"
    edited = await event.edit(name="Edit-a-thon 2")
    assert edited.name == "Edit-a-thon 2"
    await edited.delete()
    assert [action for action, _ in fake.scheduled_event_log] == ["create", "update", "delete"]
    assert not fake.scheduled_events

    with pytest.raises(discord.HTTPException) as caught:
        await guild.create_scheduled_event(
            name="Too late",
            start_time=dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=1),
            end_time=dt.datetime.now(tz=dt.UTC),
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            location="Library",
        )
    assert caught.value.code == 50035
