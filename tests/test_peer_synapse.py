"""The Synapse test peer itself: real nio clients talking through a real homeserver.

If these fail, every Matrix integration test would fail for reasons that have nothing to do
with the bot, so they check the harness first.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinResponse,
    LoginResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendResponse,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.peers.synapse import RegisteredUser, SynapseServer

pytestmark = pytest.mark.synapse

_WAIT = 15.0


def _config() -> AsyncClientConfig:
    """Plain-text clients with no on-disk store: encryption is not what is tested here."""
    return AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)


@contextlib.asynccontextmanager
async def _client(server: SynapseServer, user: RegisteredUser) -> AsyncIterator[AsyncClient]:
    """A client already logged in with the user's registration token, always closed after."""
    client = AsyncClient(server.base_url, user.user_id, config=_config())
    client.restore_login(user.user_id, user.device_id, user.access_token)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def _syncing(client: AsyncClient) -> AsyncIterator[asyncio.Task[None]]:
    """Run the client's sync loop in the background for the duration of the block."""
    task: asyncio.Task[None] = asyncio.create_task(client.sync_forever(timeout=30_000))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _wait(future: asyncio.Future[Any], sync_task: asyncio.Task[None], what: str) -> Any:
    """Wait for ``future``, but report a crashed sync loop instead of a bare timeout."""
    done, _ = await asyncio.wait({future, sync_task}, timeout=_WAIT, return_when="FIRST_COMPLETED")
    if future in done:
        return future.result()
    if sync_task in done:
        sync_task.result()  # raises what killed the sync loop
        pytest.fail(f"sync loop ended while waiting for {what}")
    pytest.fail(f"no {what} within {_WAIT:.0f} s")


def _on_text(client: AsyncClient, room_id: str, body: str) -> asyncio.Future[RoomMessageText]:
    """A future resolved when ``client`` syncs a text message ``body`` in ``room_id``."""
    future: asyncio.Future[RoomMessageText] = asyncio.get_running_loop().create_future()

    async def callback(room: MatrixRoom, event: RoomMessageText) -> None:
        if room.room_id == room_id and event.body == body and not future.done():
            future.set_result(event)

    client.add_event_callback(callback, RoomMessageText)
    return future


async def _shared_room(alice: AsyncClient, bob: AsyncClient, bob_sync: asyncio.Task[None]) -> str:
    """Alice makes a room and invites Bob; Bob sees the invite through sync and joins."""
    invited: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == bob.user_id and event.membership == "invite" and not invited.done():
            invited.set_result(room.room_id)

    bob.add_event_callback(on_invite, InviteMemberEvent)
    created = await alice.room_create(name="harness", invite=[bob.user_id])
    assert isinstance(created, RoomCreateResponse), created
    room_id: str = await _wait(invited, bob_sync, "invite for Bob")
    assert room_id == created.room_id
    joined = await bob.join(room_id)
    assert isinstance(joined, JoinResponse), joined
    return room_id


async def _send(client: AsyncClient, room_id: str, body: str) -> None:
    """Send a plain text message and insist the server accepted it."""
    sent = await client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
    assert isinstance(sent, RoomSendResponse), sent


async def test_message_between_two_users(synapse: SynapseServer) -> None:
    """A message Alice sends in a room she invited Bob to shows up on Bob's side."""
    alice_user = await synapse.register(synapse.fresh_localpart("alice"))
    bob_user = await synapse.register(synapse.fresh_localpart("bob"))
    bob = AsyncClient(synapse.base_url, bob_user.user_id, config=_config())
    try:
        login = await bob.login(bob_user.password, device_name="harness")
        assert isinstance(login, LoginResponse), login
        async with _client(synapse, alice_user) as alice, _syncing(bob) as bob_sync:
            room_id = await _shared_room(alice, bob, bob_sync)
            received = _on_text(bob, room_id, "hello from alice")
            await _send(alice, room_id, "hello from alice")
            event = await _wait(received, bob_sync, "message from Alice")
            assert event.sender == alice_user.user_id
    finally:
        await bob.close()


async def test_client_resyncs_after_restart(synapse: SynapseServer) -> None:
    """After the homeserver restarts, a syncing client gets new messages without logging in."""
    alice_user = await synapse.register(synapse.fresh_localpart("alice"))
    bob_user = await synapse.register(synapse.fresh_localpart("bob"))
    async with (
        _client(synapse, alice_user) as alice,
        _client(synapse, bob_user) as bob,
        _syncing(bob) as bob_sync,
    ):
        room_id = await _shared_room(alice, bob, bob_sync)
        before = _on_text(bob, room_id, "before restart")
        await _send(alice, room_id, "before restart")
        await _wait(before, bob_sync, "message before the restart")

        # In a thread, so Bob's sync loop keeps running and sees the server go away.
        port = synapse.port
        await asyncio.to_thread(synapse.restart)
        assert synapse.port == port

        after = _on_text(bob, room_id, "after restart")
        await _send(alice, room_id, "after restart")
        event = await _wait(after, bob_sync, "message after the restart")
        assert event.sender == alice_user.user_id


async def test_register_admin(synapse: SynapseServer) -> None:
    """A user registered with ``admin=True`` can use the server-admin API; others cannot."""
    admin = await synapse.register(synapse.fresh_localpart("admin"), admin=True)
    plain = await synapse.register(synapse.fresh_localpart("plain"))
    url = f"{synapse.base_url}/_synapse/admin/v2/users/{plain.user_id}"
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {admin.access_token}"}
        async with session.get(url, headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["admin"] is False
        headers = {"Authorization": f"Bearer {plain.access_token}"}
        async with session.get(url, headers=headers) as response:
            assert response.status == 403
