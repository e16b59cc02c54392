"""``!ping`` round trips through a real Synapse: the bot next to two bare nio clients.

A member sends ``!ping`` and waits for the bot's reply; in another room of the same server a
bare nio client answers ``ping N`` with ``pong N`` the moment its sync delivers it.  Pings
alternate between the two, so whatever the server or the machine does meanwhile hits both
alike.  The bare echo is the floor: two syncs and two sends through Synapse.  The bot adds its
routing, rendering, its database and the bookkeeping that makes sync exactly-once.

    python -m benchmarks.matrix_roundtrip [--pings 200] [--warmup 20]

Starts its own throw-away Synapse (the test harness's, installed on first use).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    MatrixRoom,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

from chatbot.base.logs import configure
from tests.matrix_helpers import BotAccount, Peer
from tests.peers.synapse import SYNAPSE_VERSION, RegisteredUser, SynapseServer

TARGET_RATIO = 1.2


class Pinger:
    """A client that sends one message at a time and times the notice replying to it."""

    def __init__(self, client: AsyncClient, room_id: str) -> None:
        self.client = client
        self.room_id = room_id
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.early: dict[str, float] = {}
        client.add_event_callback(self._on_notice, RoomMessageNotice)

    async def _on_notice(self, room: MatrixRoom, event: RoomMessageNotice) -> None:
        arrived = time.perf_counter()
        relates = event.source.get("content", {}).get("m.relates_to", {})
        replied = relates.get("m.in_reply_to", {}).get("event_id")
        if not isinstance(replied, str):
            return
        future = self.waiting.pop(replied, None)
        if future is None:
            self.early[replied] = arrived  # the reply beat room_send's own response
        elif not future.done():
            future.set_result(arrived)

    async def ping(self, body: str) -> float:
        """Milliseconds from sending ``body`` to seeing the reply."""
        started = time.perf_counter()
        sent = await self.client.room_send(
            self.room_id, "m.room.message", {"msgtype": "m.text", "body": body}
        )
        assert isinstance(sent, RoomSendResponse), sent
        arrived = self.early.pop(sent.event_id, None)
        if arrived is None:
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self.waiting[sent.event_id] = future
            arrived = await asyncio.wait_for(future, 30)
        return (arrived - started) * 1000


def _config() -> AsyncClientConfig:
    return AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)


@contextlib.asynccontextmanager
async def _syncing(user: RegisteredUser, server: SynapseServer) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(server.base_url, user.user_id, config=_config())
    client.restore_login(user.user_id, user.device_id, user.access_token)
    first: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def on_sync(_response: SyncResponse) -> None:
        if not first.done():
            first.set_result(None)

    client.add_response_callback(on_sync, SyncResponse)
    task = asyncio.create_task(client.sync_forever(timeout=30_000))
    try:
        await asyncio.wait_for(first, 30)
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


async def _join(client: AsyncClient, room_id: str) -> None:
    joined = await client.join(room_id)
    assert isinstance(joined, JoinResponse), joined


@contextlib.asynccontextmanager
async def bare_echo(server: SynapseServer) -> AsyncIterator[Pinger]:
    """Two bare clients: one pings, the other answers each ``ping N`` with a reply notice."""
    pinger_user = await server.register(server.fresh_localpart("pinger"))
    echo_user = await server.register(server.fresh_localpart("echo"))
    async with _syncing(pinger_user, server) as pinger, _syncing(echo_user, server) as echo:

        async def answer(room: MatrixRoom, event: RoomMessageText) -> None:
            if event.sender == echo.user_id or not event.body.startswith("ping"):
                return
            await echo.room_send(
                room.room_id,
                "m.room.message",
                {
                    "msgtype": "m.notice",
                    "body": "pong" + event.body[4:],
                    "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
                },
            )

        echo.add_event_callback(answer, RoomMessageText)
        created = await pinger.room_create(name="bare echo", invite=[echo.user_id])
        room_id: str = created.room_id
        await _join(echo, room_id)
        yield Pinger(pinger, room_id)


@contextlib.asynccontextmanager
async def bot_echo(server: SynapseServer, workdir: Path) -> AsyncIterator[Pinger]:
    """The bot with its Matrix adapter, and a member who types ``!ping``."""
    bot_user = await server.register(server.fresh_localpart("bot"))
    account = BotAccount(server, bot_user, workdir)
    member = await Peer.register(server, "member")
    try:
        async with account.running():
            room_id = await member.create_room([account.user_id])
            await member.membership(room_id, account.user_id, "join")
            yield Pinger(member.client, room_id)
    finally:
        await member.close()
        account.forget_env()


def _summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98]
    return statistics.median(ordered), p99


async def run(pings: int, warmup: int, workdir: Path) -> int:
    configure(level="warning")
    server = SynapseServer(workdir / "synapse")
    await asyncio.to_thread(server.start)
    try:
        async with bare_echo(server) as bare, bot_echo(server, workdir / "bot") as bot:
            for i in range(warmup):
                await bare.ping(f"ping w{i}")
                await bot.ping("!ping")
            bare_ms: list[float] = []
            bot_ms: list[float] = []
            for i in range(pings):
                bare_ms.append(await bare.ping(f"ping {i}"))
                bot_ms.append(await bot.ping("!ping"))
    finally:
        await asyncio.to_thread(server.stop)
    bare_median, bare_p99 = _summary(bare_ms)
    bot_median, bot_p99 = _summary(bot_ms)
    ratio = bot_median / bare_median
    print(f"Synapse {SYNAPSE_VERSION} on loopback, SQLite; {pings} pings each, alternating")
    print(f"  bare nio echo : median {bare_median:6.1f} ms   p99 {bare_p99:6.1f} ms")
    print(f"  bot !ping     : median {bot_median:6.1f} ms   p99 {bot_p99:6.1f} ms")
    print(f"  ratio (bot / bare): median {ratio:.2f}x   p99 {bot_p99 / bare_p99:.2f}x")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"  target: median within {TARGET_RATIO}x of the bare echo: {verdict}")
    return 0 if ratio <= TARGET_RATIO else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pings", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wmlib-matrix-bench-") as tmp:
        return asyncio.run(run(args.pings, args.warmup, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
