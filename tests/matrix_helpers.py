"""Members and a bot on the test Synapse, for the Matrix adapter's tests and benchmark.

A :class:`Peer` is a member's own nio client syncing in the background; it records every
event it sees so a test can wait for "the notice that replies to my command" with a timeout
instead of sleeping.  A :class:`BotAccount` is the bot's Matrix user with its database and
crypto store, which outlive any one run of the bot, so tests can stop and start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageNotice,
    RoomPreset,
    RoomPutStateResponse,
    RoomSendResponse,
    SyncResponse,
)

from adapters.matrix import MatrixAdapter
from chatbot.base.config import Config, parse_config
from chatbot.base.i18n import verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import Mention, Plain, Reply
from chatbot.runtime.bot import Bot
from commands import basics, members
from tests.harness import ready

if TYPE_CHECKING:
    from chatbot.base.clock import Clock
    from tests.peers.synapse import RegisteredUser, SynapseServer

WAIT = 30.0
"""Seconds to wait for anything the homeserver should deliver (generous: CI can be slow)."""

MEGOLM = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}

adapter_test_commands = Module("mxtest", "Commands that exist only in the Matrix adapter's tests.")


@adapter_test_commands.command(help="Say the text back, addressed to the caller.")
async def echo(ctx: Context, text: str = "") -> Reply:
    return Reply.of(
        verbatim("**Echo** for {who}: {text}", who=Mention(ctx.member), text=Plain(text))
    )


@adapter_test_commands.command(help="Who a mention or a name means in this room.")
async def whois(ctx: Context, who: str = "") -> Reply:
    member = await ctx.adapter.resolve_member(ctx.room, who)
    return (
        Reply.of(verbatim("Nobody by that name.")) if member is None else Reply.of(Plain(member.id))
    )


@adapter_test_commands.command(help="Something only organisers may do.", level=Level.ORGANISER)
async def secret(ctx: Context) -> Reply:
    return Reply.of(verbatim("Organiser command accepted."))


Predicate = Callable[[str, Any], bool]


class Peer:
    """A member's nio client: syncing, recording what it sees, able to send."""

    def __init__(
        self, server: SynapseServer, user: RegisteredUser, store: Path | None = None
    ) -> None:
        self.server = server
        self.user = user
        self.user_id = user.user_id
        self.store = store
        self.client = AsyncClient(
            server.base_url,
            user.user_id,
            store_path=str(store) if store is not None else "",
            config=AsyncClientConfig(encryption_enabled=store is not None, store_sync_tokens=False),
        )
        self.seen: list[tuple[str, Any]] = []
        self._waiters: list[tuple[Predicate, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def register(
        cls, server: SynapseServer, prefix: str, store_root: Path | None = None
    ) -> Peer:
        user = await server.register(server.fresh_localpart(prefix))
        store = None
        if store_root is not None:
            store = store_root / user.user_id
            store.mkdir(parents=True)
        peer = cls(server, user, store)
        await peer.start()
        return peer

    async def start(self) -> None:
        client = self.client
        if self.store is not None:
            client.restore_login(self.user.user_id, self.user.device_id, self.user.access_token)
            if client.should_upload_keys:
                await client.keys_upload()
        else:
            client.restore_login(self.user.user_id, self.user.device_id, self.user.access_token)
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def on_sync(_response: SyncResponse) -> None:
            if not first.done():
                first.set_result(None)

        client.add_response_callback(on_sync, SyncResponse)
        client.add_event_callback(self._on_event, (Event, InviteMemberEvent))
        self._task = asyncio.create_task(client.sync_forever(timeout=30_000))
        await self._wait(first, "first sync")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()
        store = getattr(self.client, "store", None)
        if store is not None:
            store.database.close()

    async def _on_event(self, room: MatrixRoom, event: Any) -> None:
        self.seen.append((room.room_id, event))
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(room.room_id, event):
                future.set_result(event)

    async def _wait(self, future: asyncio.Future[Any], what: str, within: float = WAIT) -> Any:
        assert self._task is not None or what == "first sync"
        watch = {future} | ({self._task} if self._task is not None else set())
        done, _ = await asyncio.wait(watch, timeout=within, return_when="FIRST_COMPLETED")
        if future in done:
            return future.result()
        if self._task is not None and self._task in done:
            self._task.result()
            pytest.fail(f"{self.user_id}: sync loop ended while waiting for {what}")
        future.cancel()
        pytest.fail(f"{self.user_id}: no {what} within {within:.0f} s")

    async def wait_for(self, predicate: Predicate, what: str, within: float = WAIT) -> Any:
        """The first event (seen before or arriving later) for which ``predicate`` holds."""
        for room_id, event in self.seen:
            if predicate(room_id, event):
                return event
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await self._wait(future, what, within)
        finally:
            self._waiters.remove(entry)

    async def reply_to(self, room_id: str, event_id: str, within: float = WAIT) -> Any:
        """The bot's notice that replies to ``event_id``."""

        def match(rid: str, event: Any) -> bool:
            return (
                rid == room_id
                and isinstance(event, RoomMessageNotice)
                and replied_event(event) == event_id
            )

        return await self.wait_for(match, f"reply to {event_id}", within)

    def replies_to(self, event_id: str) -> list[Any]:
        return [
            e
            for _, e in self.seen
            if isinstance(e, RoomMessageNotice) and replied_event(e) == event_id
        ]

    async def membership(self, room_id: str, user_id: str, membership: str) -> Any:
        def match(rid: str, event: Any) -> bool:
            return (
                rid == room_id
                and isinstance(event, RoomMemberEvent)
                and event.state_key == user_id
                and event.membership == membership
            )

        return await self.wait_for(match, f"{user_id} {membership} in {room_id}")

    async def invited(self, predicate: Callable[[str, Any], bool] | None = None) -> str:
        """The id of a room this member gets invited to (matching ``predicate``)."""

        def match(rid: str, event: Any) -> bool:
            return (
                isinstance(event, InviteMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "invite"
                and (predicate is None or predicate(rid, event))
            )

        found: list[str] = []

        def capture(rid: str, event: Any) -> bool:
            if match(rid, event):
                found.append(rid)
                return True
            return False

        await self.wait_for(capture, "an invite")
        return found[0]

    async def create_room(
        self,
        invite: list[str],
        *,
        encrypted: bool = False,
        direct: bool = False,
        name: str | None = "test room",
    ) -> str:
        created = await self.client.room_create(
            name=None if direct else name,
            invite=invite,
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            initial_state=[MEGOLM] if encrypted else [],
        )
        assert isinstance(created, RoomCreateResponse), created
        room_id: str = created.room_id
        return room_id

    async def join(self, room_id: str) -> None:
        joined = await self.client.join(room_id)
        assert isinstance(joined, JoinResponse), joined

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        thread: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Send ``m.text`` (encrypted when the room is); return its event id."""
        content: dict[str, Any] = {"msgtype": "m.text", "body": body, **(extra or {})}
        if thread is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread},
            }
        sent = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        event_id: str = sent.event_id
        return event_id

    async def set_power(self, room_id: str, user_id: str, level: int) -> None:
        got = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = dict(got.content)
        content["users"] = {**content.get("users", {}), user_id: level}
        put = await self.client.room_put_state(room_id, "m.room.power_levels", content)
        assert isinstance(put, RoomPutStateResponse), put


def replied_event(event: Any) -> str | None:
    rel = event.source.get("content", {}).get("m.relates_to", {})
    reply = rel.get("m.in_reply_to") if isinstance(rel, dict) else None
    return reply.get("event_id") if isinstance(reply, dict) else None


async def account_data(server: SynapseServer, user: RegisteredUser, kind: str) -> Any:
    """The user's global account data of one type, read with a token of their own."""
    url = f"{server.base_url}/_matrix/client/v3/user/{user.user_id}/account_data/{kind}"
    headers = {"Authorization": f"Bearer {user.access_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return await resp.json() if resp.status == 200 else None


async def devices(server: SynapseServer, user: RegisteredUser) -> list[str]:
    url = f"{server.base_url}/_matrix/client/v3/devices"
    headers = {"Authorization": f"Bearer {user.access_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        body = await resp.json()
    return sorted(d["device_id"] for d in body["devices"])


@dataclass
class Running:
    bot: Bot
    adapter: MatrixAdapter


class BotAccount:
    """The bot's Matrix user, database and crypto store; run it as often as needed."""

    def __init__(
        self,
        server: SynapseServer,
        user: RegisteredUser,
        workdir: Path,
        extra: str = "",
        *,
        token: bool = False,
    ) -> None:
        self.server = server
        self.user = user
        self.user_id = user.user_id
        self.workdir = workdir
        self.extra = extra
        self.secret_env = "WMLIB_TEST_MATRIX_" + user.user_id.split(":")[0][1:].replace("-", "_")
        self.login = (
            f'access_token_env = "{self.secret_env}"'
            if token
            else (f'password_env = "{self.secret_env}"')
        )
        os.environ[self.secret_env] = user.access_token if token else user.password

    def config(self) -> Config:
        text = f"""
[bot]
database = "sqlite:///{self.workdir / "bot.db"}"
adapters = ["matrix"]

[ratelimit]
member_rate = 100.0
member_burst = 10000
room_rate = 100.0
room_burst = 10000

[adapters.matrix]
homeserver = "{self.server.base_url}"
user_id = "{self.user_id}"
{self.login}
store_path = "{self.workdir / "store"}"
{self.extra}
"""
        return parse_config(text)

    @contextlib.asynccontextmanager
    async def running(
        self, modules: list[Module] | None = None, clock: Clock | None = None
    ) -> AsyncIterator[Running]:
        """The bot, ready, with the test commands (or ``modules``) and an optional clock."""
        config = self.config()
        adapter = MatrixAdapter(config)
        bot = Bot(
            config,
            clock=clock,
            adapters=[adapter],
            modules=modules or [basics.module, members.module, adapter_test_commands],
        )
        async with ready(bot, 60):
            yield Running(bot, adapter)

    def database_url(self) -> str:
        return self.config().database_url()

    def forget_env(self) -> None:
        os.environ.pop(self.secret_env, None)
