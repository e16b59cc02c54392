"""The Matrix adapter against a real Synapse: real members, a real bot, real sync.

Every test registers fresh users on the session's homeserver and runs a real
:class:`chatbot.runtime.bot.Bot` with the adapter, SQLite in ``tmp_path`` and its own crypto store.
Nothing sleeps: tests wait for the events they expect, with timeouts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nio import InviteMemberEvent, MegolmEvent, RoomMessageNotice
from structlog.testing import capture_logs

from adapters.matrix import MatrixAdapter, MatrixUnavailable, Reaction
from adapters.matrix.ledger import StateKeys
from adapters.matrix.render import _SPARE_KEYS as SPARE_KEYS
from adapters.matrix.render import render_content
from chatbot.base.clock import SystemClock
from chatbot.base.config import parse_config
from chatbot.base.errors import ConfigError
from chatbot.base.i18n import verbatim
from chatbot.messages.events import (
    Bullets,
    Button,
    Code,
    Incoming,
    Member,
    Mention,
    Outgoing,
    Plain,
    Reader,
    Reply,
    Room,
    When,
)
from chatbot.messages.localise import localise
from chatbot.storage import Database
from chatbot.time.format import room_times
from commands import announce, basics, members
from tests.matrix_helpers import (
    WAIT,
    BotAccount,
    Peer,
    account_data,
    adapter_test_commands,
    devices,
)

pytestmark = pytest.mark.synapse

MakeBot = Callable[..., Awaitable[BotAccount]]
MakePeer = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def make_bot(synapse: Any, tmp_path: Path) -> AsyncIterator[MakeBot]:
    accounts: list[BotAccount] = []

    async def make(extra: str = "", *, token: bool = False) -> BotAccount:
        user = await synapse.register(synapse.fresh_localpart("bot"))
        workdir = tmp_path / f"bot{len(accounts)}"
        workdir.mkdir()
        account = BotAccount(synapse, user, workdir, extra, token=token)
        accounts.append(account)
        return account

    yield make
    for account in accounts:
        account.forget_env()


@pytest.fixture
async def make_peer(synapse: Any, tmp_path: Path) -> AsyncIterator[MakePeer]:
    peers: list[Peer] = []

    async def make(prefix: str, *, encrypted: bool = False) -> Peer:
        store_root = tmp_path / "peers" if encrypted else None
        if store_root is not None:
            store_root.mkdir(exist_ok=True)
        peer = await Peer.register(synapse, prefix, store_root)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.close()


async def _shared_room(member: Peer, bot: BotAccount, **options: Any) -> str:
    room_id = await member.create_room([bot.user_id], **options)
    await member.membership(room_id, bot.user_id, "join")
    return room_id


async def test_command_reply_is_escaped_notice(make_bot: MakeBot, make_peer: MakePeer) -> None:
    """A command gets an m.notice in reply: user text escaped, a pill for the caller, no @room."""
    account = await make_bot()
    alice = await make_peer("alice")
    async with account.running():
        room_id = await _shared_room(alice, account)
        command = await alice.send(room_id, "!echo <b>x</b> & @room")
        reply = await alice.reply_to(room_id, command)
    content = reply.source["content"]
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": command}}
    assert content["m.mentions"] == {"user_ids": [alice.user_id]}
    html = content["formatted_body"]
    assert "&lt;b&gt;x&lt;/b&gt; &amp; @\u200droom" in html
    assert "<b>" not in html and "@room" not in html
    assert html.startswith('<strong>Echo</strong> for <a href="https://matrix.to/#/')
    assert f'href="https://matrix.to/#/{alice.user_id}"' in html
    body = content["body"]
    assert body.endswith(": <b>x</b> & @\u200droom")
    assert "@room" not in body


async def test_mention_in_a_room_is_answered(make_bot: MakeBot, make_peer: MakePeer) -> None:
    """Text that mentions the bot (pill, m.mentions) reaches the core as a mention, with the
    pill stripped, so "bot: !ping" is a command."""
    account = await make_bot()
    alice = await make_peer("alice")
    async with account.running():
        room_id = await _shared_room(alice, account)
        pill = f'<a href="https://matrix.to/#/{account.user_id}">bot</a>: hello?'
        asked = await alice.send(
            room_id,
            "bot: hello?",
            extra={
                "format": "org.matrix.custom.html",
                "formatted_body": pill,
                "m.mentions": {"user_ids": [account.user_id]},
            },
        )
        chatter = await alice.send(room_id, "just chatting")
        reply = await alice.reply_to(room_id, asked)
        name = account.user_id.split(":")[0][1:]  # Synapse's default display name
        command = await alice.send(
            room_id,
            f"{name}: !ping",
            extra={
                "format": "org.matrix.custom.html",
                "formatted_body": f'<a href="https://matrix.to/#/{account.user_id}">{name}</a>: '
                "!ping",
                "m.mentions": {"user_ids": [account.user_id]},
            },
        )
        assert "Pong" in (await alice.reply_to(room_id, command)).body
        barrier = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, barrier)
    assert "!help" in reply.body
    assert alice.replies_to(chatter) == []


async def test_command_in_thread_is_answered_in_thread(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """A command posted in a thread gets its reply in the same thread, replying to it."""
    account = await make_bot()
    alice = await make_peer("alice")
    async with account.running():
        room_id = await _shared_room(alice, account)
        root = await alice.send(room_id, "Planning thread")
        command = await alice.send(room_id, "!ping", thread=root)
        reply = await alice.reply_to(room_id, command)
    assert reply.source["content"]["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": command},
    }


async def test_first_start_skips_history_but_accepts_invite(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """On its very first start the bot joins a pending invite and answers none of the history."""
    account = await make_bot()
    alice = await make_peer("alice")
    room_id = await alice.create_room([account.user_id])
    old = await alice.send(room_id, "!echo from before the bot existed")
    async with account.running():
        await alice.membership(room_id, account.user_id, "join")
        new = await alice.send(room_id, "!echo now")
        await alice.reply_to(room_id, new)
    assert alice.replies_to(old) == []


async def test_commands_sent_while_stopped_are_answered_exactly_once(
    synapse: Any, make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """Stop the bot, send two commands, start it: each is answered once, also after a second
    restart, and the bot keeps its one device."""
    account = await make_bot()
    alice = await make_peer("alice")
    async with account.running() as first_run:
        room_id = await _shared_room(alice, account)
        ping = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, ping)
        device = first_run.adapter.client.device_id
    one = await alice.send(room_id, "!echo one")
    two = await alice.send(room_id, "!echo two")
    async with account.running() as second_run:
        assert "one" in (await alice.reply_to(room_id, one)).body
        assert "two" in (await alice.reply_to(room_id, two)).body
        assert second_run.adapter.client.device_id == device
    async with account.running():
        barrier = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, barrier)
    for event_id in (ping, one, two, barrier):
        assert len(alice.replies_to(event_id)) == 1, event_id
    assert await devices(synapse, account.user) == sorted([account.user.device_id, device])


async def test_direct_room_is_created_recorded_and_reused(
    synapse: Any, make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """A direct reply opens a DM (is_direct, recorded in m.direct) that is reused, also after
    a restart; messages there count as direct."""
    account = await make_bot("encryption = false")
    alice = await make_peer("alice")

    def export_in(dm: str) -> Callable[[str, Any], bool]:
        return lambda rid, ev: (
            rid == dm and isinstance(ev, RoomMessageNotice) and "everything I store" in ev.body
        )

    async with account.running():
        room_id = await _shared_room(alice, account)
        first = await alice.send(room_id, "!mydata")
        notice = await alice.reply_to(room_id, first)
        assert "direct message" in notice.body
        dm = await alice.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
        await alice.join(dm)
        await alice.wait_for(export_in(dm), "the export in the DM")
        assert await account_data(synapse, account.user, "m.direct") == {alice.user_id: [dm]}
        hello = await alice.send(dm, "hello")
        assert "!help" in (await alice.reply_to(dm, hello)).body
        second = await alice.send(room_id, "!mydata")
        await alice.reply_to(room_id, second)
    async with account.running():
        third = await alice.send(room_id, "!mydata")
        await alice.reply_to(room_id, third)
        await alice.wait_for(
            lambda rid, ev: (
                export_in(dm)(rid, ev) and sum(export_in(dm)(r, e) for r, e in alice.seen) >= 3
            ),
            "three exports in the same DM",
        )
    invites = {
        rid
        for rid, ev in alice.seen
        if isinstance(ev, InviteMemberEvent) and ev.state_key == alice.user_id
    }
    assert invites == {dm}


async def test_organiser_commands_follow_power_levels(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """In a group room (``organiser_rooms``), power 0 is refused an organiser command;
    power 50 (set by the room creator), the config allow-list and the creator are
    accepted; members resolve by name and link."""
    owner = await make_peer("owner")
    moderator = await make_peer("mod")
    member = await make_peer("member")
    listed = await make_peer("listed")
    others = [moderator, member, listed]
    room_id = await owner.create_room([p.user_id for p in others])
    for peer in others:
        await peer.join(room_id)
    await owner.set_power(room_id, moderator.user_id, 50)
    account = await make_bot(f'organisers = ["{listed.user_id}"]\norganiser_rooms = ["{room_id}"]')
    async with account.running():
        await owner.client.room_invite(room_id, account.user_id)
        await owner.membership(room_id, account.user_id, "join")
        refused = await member.send(room_id, "!secret")
        assert "Only organisers" in (await member.reply_to(room_id, refused)).body
        accepted = await moderator.send(room_id, "!secret")
        assert "accepted" in (await moderator.reply_to(room_id, accepted)).body
        allowed = await listed.send(room_id, "!secret")
        assert "accepted" in (await listed.reply_to(room_id, allowed)).body
        created = await owner.send(room_id, "!secret")  # room version 12: creators outrank all
        assert "accepted" in (await owner.reply_to(room_id, created)).body
        by_name = await member.send(room_id, f"!whois {moderator.user_id.split(':')[0][1:]}")
        assert (await member.reply_to(room_id, by_name)).body == f"matrix:{moderator.user_id}"
        link = f"!whois https://matrix.to/#/{listed.user_id}"
        by_link = await member.send(room_id, link)
        assert (await member.reply_to(room_id, by_link)).body == f"matrix:{listed.user_id}"


WITH_ANNOUNCE = [basics.module, members.module, adapter_test_commands, announce.module]


async def test_organiser_rooms_confine_power_levels(make_bot: MakeBot, make_peer: MakePeer) -> None:
    """With organiser_rooms set, a stranger who creates a room and invites the bot is no
    organiser there (refused `!announce`), while a moderator of the listed room may
    announce, from that room or any other."""
    owner = await make_peer("gowner")
    moderator = await make_peer("gmod")
    stranger = await make_peer("stranger")
    main = await owner.create_room([moderator.user_id])
    await moderator.join(main)
    await owner.set_power(main, moderator.user_id, 50)
    account = await make_bot(f'organiser_rooms = ["{main}"]')
    with capture_logs() as logs:
        async with account.running(WITH_ANNOUNCE):
            await owner.client.room_invite(main, account.user_id)
            await owner.membership(main, account.user_id, "join")
            own = await stranger.create_room([account.user_id, moderator.user_id])
            await moderator.join(own)
            await stranger.membership(own, account.user_id, "join")
            refused = await stranger.send(own, "!announce Free pizza in my room")  # power 100
            assert "Only organisers" in (await stranger.reply_to(own, refused)).body
            added = await moderator.send(main, "!announce rooms add here")
            assert "to the broadcast rooms" in (await moderator.reply_to(main, added)).body
            accepted = await moderator.send(main, "!announce Meetup on Friday")
            assert "Preview of announcement #1" in (await moderator.reply_to(main, accepted)).body
            there = await moderator.send(own, "!secret")
            assert "accepted" in (await moderator.reply_to(own, there)).body
    assert not [e for e in logs if e["event"] == "matrix_organiser_rooms_not_set"]


async def test_without_organiser_rooms_the_broadcast_rooms_are_the_groups(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """Without organiser_rooms the bot warns at start, and power counts only in the
    broadcast rooms: nobody but a listed organiser may act until one is set; then its
    moderators may, while the creator of a room of their own still may not."""
    owner = await make_peer("bowner")
    moderator = await make_peer("bmod")
    stranger = await make_peer("bstranger")
    listed = await make_peer("blisted")
    account = await make_bot(f'organisers = ["{listed.user_id}"]')
    with capture_logs() as logs:
        async with account.running(WITH_ANNOUNCE):
            group = await owner.create_room([account.user_id, moderator.user_id, listed.user_id])
            for peer in (moderator, listed):
                await peer.join(group)
            await owner.membership(group, account.user_id, "join")
            await owner.set_power(group, moderator.user_id, 50)
            own = await stranger.create_room([account.user_id])
            await stranger.membership(own, account.user_id, "join")

            early = await moderator.send(group, "!announce Hello")
            assert "Only organisers" in (await moderator.reply_to(group, early)).body
            added = await listed.send(group, "!announce rooms add here")
            assert "to the broadcast rooms" in (await listed.reply_to(group, added)).body
            allowed = await moderator.send(group, "!announce Meetup on Friday")
            assert "Preview of announcement #1" in (await moderator.reply_to(group, allowed)).body
            for text in ("!announce Free pizza in my room", "!announce rooms add here"):
                refused = await stranger.send(own, text)
                assert "Only organisers" in (await stranger.reply_to(own, refused)).body
    warned = [e for e in logs if e["event"] == "matrix_organiser_rooms_not_set"]
    assert len(warned) == 1 and warned[0]["log_level"] == "warning"


async def test_invites_only_from_allowed_rooms_and_servers(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """With only another server allowed, the bot joins the listed room and declines the rest."""
    alice = await make_peer("alice")
    listed = await alice.create_room([])
    unlisted = await alice.create_room([])
    account = await make_bot(f'allowed_servers = ["example.org"]\nallowed_rooms = ["{listed}"]')
    async with account.running():
        await alice.client.room_invite(unlisted, account.user_id)
        await alice.client.room_invite(listed, account.user_id)
        await alice.membership(listed, account.user_id, "join")
        await alice.membership(unlisted, account.user_id, "leave")


async def test_reactions_reach_the_hook(make_bot: MakeBot, make_peer: MakePeer) -> None:
    """A reaction to the bot's message reaches ``on_reaction`` with the message's event id."""
    account = await make_bot()
    alice = await make_peer("alice")
    async with account.running() as run:
        got: asyncio.Future[Reaction] = asyncio.get_running_loop().create_future()

        async def hook(reaction: Reaction) -> None:
            if not got.done():
                got.set_result(reaction)

        run.adapter.on_reaction = hook
        room_id = await _shared_room(alice, account)
        command = await alice.send(room_id, "!ping")
        reply = await alice.reply_to(room_id, command)
        relates = {"rel_type": "m.annotation", "event_id": reply.event_id, "key": "👍"}
        await alice.client.room_send(room_id, "m.reaction", {"m.relates_to": relates})
        reaction = await asyncio.wait_for(got, WAIT)
    assert reaction.key == "👍"
    assert reaction.message_id == reply.event_id
    assert reaction.member.id == f"matrix:{alice.user_id}"
    assert reaction.room.id == f"matrix:{room_id}"


async def test_bot_carries_on_after_homeserver_restart(
    synapse: Any, make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """Synapse restarts under a running bot: the next command is answered without help."""
    account = await make_bot()
    alice = await make_peer("alice")
    async with account.running() as running:
        room_id = await _shared_room(alice, account)
        before = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, before)
        assert running.adapter.connected  # what /readyz reports
        await asyncio.to_thread(synapse.restart)
        after = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, after, within=90)
        assert running.adapter.connected


async def test_encrypted_room_and_the_dm_the_bot_opens(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """In an encrypted room the reply is encrypted and readable; so is the DM the bot opens."""
    account = await make_bot()
    alice = await make_peer("alice", encrypted=True)
    async with account.running():
        room_id = await _shared_room(alice, account, encrypted=True)
        command = await alice.send(room_id, "!echo <i>secret</i>")
        reply = await alice.reply_to(room_id, command)
        assert reply.decrypted
        assert "&lt;i&gt;secret&lt;/i&gt;" in reply.formatted_body
        export = await alice.send(room_id, "!mydata")
        await alice.reply_to(room_id, export)
        dm = await alice.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
        await alice.join(dm)
        data = await alice.wait_for(
            lambda rid, ev: (
                rid == dm and isinstance(ev, RoomMessageNotice) and "everything I store" in ev.body
            ),
            "the export, decrypted, in the DM",
        )
        assert data.decrypted
    assert not [e for _, e in alice.seen if isinstance(e, MegolmEvent)]


async def test_encrypted_dm_opened_by_a_member(
    synapse: Any, make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """A member's encrypted DM: the bot joins, records it as direct and answers encrypted."""
    account = await make_bot()
    alice = await make_peer("alice", encrypted=True)
    async with account.running():
        dm = await _shared_room(alice, account, encrypted=True, direct=True)
        hello = await alice.send(dm, "hello")
        hint = await alice.reply_to(dm, hello)
        assert hint.decrypted and "!help" in hint.body
        ping = await alice.send(dm, "!ping")
        pong = await alice.reply_to(dm, ping)
        assert pong.decrypted and "Pong" in pong.body
    assert await account_data(synapse, account.user, "m.direct") == {alice.user_id: [dm]}


async def test_replayed_events_are_answered_once(make_bot: MakeBot, make_peer: MakePeer) -> None:
    """A crash before the token was stored replays events: the answered ids stop a second
    reply, and without them the transaction ids make the homeserver drop the duplicate."""
    account = await make_bot()
    alice = await make_peer("alice")
    keys = StateKeys(account.user_id)
    async with account.running():
        room_id = await _shared_room(alice, account)
        joined = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, joined)
    db = Database(account.database_url(), SystemClock())
    try:
        old_token = await db.get_state(keys.sync_token)
        assert old_token
        async with account.running():
            once = await alice.send(room_id, "!echo once")
            await alice.reply_to(room_id, once)
        await db.set_state(keys.sync_token, old_token)  # as if the bot died before storing it
        async with account.running():
            first = await alice.send(room_id, "!ping")
            await alice.reply_to(room_id, first)
        await db.set_state(keys.sync_token, old_token)
        await db.set_state(keys.recent, "[]")  # and forgot what it answered
        async with account.running():
            second = await alice.send(room_id, "!ping")
            await alice.reply_to(room_id, second)
    finally:
        await db.close()
    for event_id in (joined, once, first, second):
        assert len(alice.replies_to(event_id)) == 1, event_id


async def test_gap_longer_than_the_sync_window_is_filled(
    make_bot: MakeBot, make_peer: MakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More commands arrive while the bot is down than one sync returns: all are answered."""
    monkeypatch.setattr(MatrixAdapter, "sync_timeline_limit", 5)
    account = await make_bot("encryption = false")
    alice = await make_peer("alice")
    async with account.running():
        room_id = await _shared_room(alice, account)
    commands = [await alice.send(room_id, f"!echo gap {i}") for i in range(16)]
    async with account.running():
        for event_id in commands:
            await alice.reply_to(room_id, event_id)
        barrier = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, barrier)
    for event_id in commands:
        assert len(alice.replies_to(event_id)) == 1


async def test_undecryptable_message_is_noted_not_fatal(
    make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """A message whose key never reached the bot is set aside (key requested); the bot goes on."""
    account = await make_bot()
    alice = await make_peer("alice", encrypted=True)
    async with account.running() as run:
        room_id = await _shared_room(alice, account, encrypted=True)
        olm = alice.client.olm
        olm.create_outbound_group_session(room_id)
        olm.outbound_group_sessions[room_id].shared = True  # encrypt, but never send the key
        lost = await alice.send(room_id, "!echo you cannot read this")
        alice.client.invalidate_outbound_session(room_id)
        readable = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, readable)
        assert lost in run.adapter.waiting_for_keys
    assert alice.replies_to(lost) == []


async def test_rate_limits_and_server_errors_retry_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M_LIMIT_EXCEEDED waits retry_after_ms and a 502 is retried, with one transaction id; a
    refusal (403) gives None; a server down for good raises for the outbox to retry."""
    monkeypatch.setattr(MatrixAdapter, "delivery_patience_seconds", 1.0)
    loop = asyncio.get_running_loop()
    calls: list[tuple[str, str, float]] = []
    answers = [
        (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 300}),
        (502, {"errcode": "M_UNKNOWN", "error": "bad gateway"}),
        (200, {"event_id": "$sent"}),
        (403, {"errcode": "M_FORBIDDEN", "error": "not in room"}),
        *[(503, {"errcode": "M_UNKNOWN", "error": "down"})] * 10,
    ]

    async def send(request: web.Request) -> web.Response:
        calls.append((request.match_info["room"], request.match_info["txn"], loop.time()))
        status, body = answers[len(calls) - 1]
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_put("/_matrix/client/v3/rooms/{room}/send/{type}/{txn}", send)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    config = parse_config(
        f"""
[bot]
database = "sqlite:///{tmp_path / "bot.db"}"
[adapters.matrix]
homeserver = "http://127.0.0.1:{server.port}"
user_id = "@bot:localhost"
password_env = "UNUSED_IN_THIS_TEST"
encryption = false
"""
    )
    adapter = MatrixAdapter(config)
    adapter.client = adapter.new_client()
    adapter.client.restore_login("@bot:localhost", "DEVICE", "token")
    alice = Member("matrix:@alice:localhost", "matrix", "alice")
    room = Room("matrix:!room:localhost", "matrix", "room")
    command = Incoming("matrix", alice, room, "!ping", event_id="$command")
    try:
        sent = await adapter.send(Outgoing(room, Reply.of(verbatim("Pong")), in_reply_to=command))
        gone = Room("matrix:!gone:localhost", "matrix", "gone")
        refused = await adapter.send(Outgoing(gone, Reply.of("?")))
        with pytest.raises(MatrixUnavailable):
            await adapter.send(
                Outgoing(room, Reply.of(verbatim("Reminder")), delivery_id="outbox-7")
            )
    finally:
        await adapter.client.close()
        await server.close()
    assert sent is not None and sent.message_id == "$sent"
    assert refused is None
    assert len({txn for _room, txn, _at in calls[:3]}) == 1
    assert calls[1][2] - calls[0][2] >= 0.3
    assert calls[3][0] == "!gone:localhost"
    assert len(calls) >= 6  # the delivery was tried several times, always as one transaction
    assert len({txn for _room, txn, _at in calls[4:]}) == 1


def test_config_errors_name_the_key() -> None:
    """Bad settings fail at construction with the key in the message."""
    base = '[adapters.matrix]\nhomeserver = "https://m.example.org"\n'
    cases = {
        'user_id = "bot"\npassword_env = "X"': "adapters.matrix.user_id",
        'user_id = "@bot:example.org"': "adapters.matrix.password_env",
        'user_id = "@b:example.org"\npassword_env = "X"\nallowed_rooms = ["#r:example.org"]': (
            "adapters.matrix.allowed_rooms"
        ),
        'user_id = "@b:example.org"\npassword_env = "X"\nsync_every = 3': "sync_every",
    }
    for settings, key in cases.items():
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            MatrixAdapter(parse_config(base + settings))


async def test_access_token_login_uses_its_device(
    synapse: Any, make_bot: MakeBot, make_peer: MakePeer
) -> None:
    """With ``access_token_env`` the bot runs on that token's device and adds none."""
    account = await make_bot(token=True)
    alice = await make_peer("alice")
    async with account.running() as run:
        assert run.adapter.client.device_id == account.user.device_id
        room_id = await _shared_room(alice, account)
        command = await alice.send(room_id, "!ping")
        await alice.reply_to(room_id, command)
    assert await devices(synapse, account.user) == [account.user.device_id]


def test_render_parts_as_html_and_plain_text() -> None:
    """Bullets, code blocks, times in the reader's zone plus UTC, and buttons as reactions."""
    ana = Member("matrix:@ana:example.org", "matrix", "Ana <Lib>")
    room = Room("matrix:!r:example.org", "matrix", "r")
    at = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    reply = Reply.of(
        "**Next** `!meet`:\n",
        Bullets(((Plain("<script>"), " at ", When(at)),)),
        Code('{"a": "<"}\n', "json"),
        Mention(ana),
        buttons=(Button("Going", "rsvp 3 yes"),),
    )
    out = Outgoing(room, reply, Reader("America/Lima"), sent_at=at)
    content = render_content(out, "!")
    assert content["formatted_body"] == (
        "<strong>Next</strong> <code>!meet</code>:"
        "<ul><li>&lt;script&gt; at Wed 4 Mar, 10:00 (Lima) / 15:00 (UTC)</li></ul>"
        '<pre><code class="language-json">{&quot;a&quot;: &quot;&lt;&quot;}</code></pre>'
        "Ana &lt;Lib&gt;"  # not the member being answered: no pill, no mention
        "<br>React \U0001f914 Going"
    )
    assert content["body"] == (
        "Next `!meet`:\n• <script> at Wed 4 Mar, 10:00 (Lima) / 15:00 (UTC)\n"
        '\n{"a": "<"}\n\nAna <Lib>\nReact \U0001f914 Going'
    )
    assert content["org.wmlib.buttons"] == {"\U0001f914": "rsvp 3 yes"}
    assert content["m.mentions"] == {}
    assert "m.relates_to" not in content
    huge = render_content(Outgoing(room, Reply.of(Plain("x" * 100_000))))
    assert "formatted_body" not in huge
    assert len(json.dumps(huge).encode()) < 65_536


def test_a_room_post_renders_in_the_rooms_language() -> None:
    """A post for a whole room read in French (its ``bot.room_languages``): the grouped
    local times, the UTC date, "more zones", the reaction help and the typed-command hint
    are French; with nobody's zone known, the hint how to set one is Spanish in a Spanish
    room.  No English glue is left."""
    at = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    room = Room("matrix:!r:example.org", "matrix", "r")
    keys = tuple(Button(verbatim(f"B{i}"), f"rsvp 1 b{i}", "success") for i in range(11))
    reply = Reply.of(Plain("Réunion : "), When(at), buttons=keys)
    zones = (("Asia/Manila", 8), ("Asia/Tokyo", 3), ("Europe/Paris", 20), ("UTC", 2))
    french = localise(Outgoing(room, reply, Reader(lang="fr"), sent_at=at))
    content = render_content(french, "!", zones)
    reactions = " · ".join(f"{k} B{i}" for i, k in enumerate(["\u2705", *SPARE_KEYS]))
    assert content["body"] == (
        "Réunion : mar. 10:00 Tokyo · mar. 09:00 Manila · mar. 02:00 Paris · "
        "mar. 1 déc., 01:00 UTC\n"
        f"Réagissez avec {reactions}\n"
        "• B10 : tapez `!rsvp 1 b10`"
    )
    assert content["formatted_body"].endswith(
        f"<br>Réagissez avec {reactions}<ul><li>B10 : tapez <code>!rsvp 1 b10</code></li></ul>"
    )
    assert room_times(at, zones, cap=2, now=at, lang="fr") == (
        "mar. 09:00 Manila · mar. 02:00 Paris · +1 autre fuseau · mar. 1 déc., 01:00 UTC"
    )
    spanish = localise(Outgoing(room, Reply.of(When(at)), Reader(lang="es"), sent_at=at))
    assert render_content(spanish, "!", ())["body"] == (
        "mar, 1 dic, 1:00 UTC (nadie aquí ha configurado su zona horaria: `!tz set <ciudad>`)"
    )
