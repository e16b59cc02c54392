"""The bot's lifecycle when a platform is down: retries, readiness, and a prompt stop.

In-process with adapters that fail or hang on purpose, and once with the real `chatbot run`
process pointed at a closed Matrix port and a refused Discord port, stopped by SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.dispatch.adapter import Capabilities, Sent
from chatbot.messages.events import Member, Outgoing, Room
from chatbot.runtime.bot import Bot
from chatbot.web.app import create_app
from tests.harness import start_chatbot

Client = TestClient[Any, Any]
MakeClient = Callable[[Any], Awaitable[Client]]
ROOT = Path(__file__).resolve().parent.parent
WAIT = 10.0


class FakePlatform:
    """An adapter whose first ``failures`` connection attempts raise, or (``hang``) that
    never connects and ignores :meth:`stop`, like a client stuck retrying a dead server."""

    capabilities = Capabilities()

    def __init__(self, platform: str, *, failures: int = 0, hang: bool = False) -> None:
        self.platform = platform
        self.failures = failures
        self.hang = hang
        self.attempts = 0
        self.connected = False
        self.up = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self, core: Any, started: Callable[[], None]) -> None:
        self.attempts += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.attempts <= self.failures:
            raise OSError(f"Cannot connect to host {self.platform}.example:443 [refused]")
        self.connected = True
        started()
        self.up.set()
        try:
            await self._stopping.wait()
        finally:
            self.connected = False

    async def stop(self) -> None:
        if not self.hang:
            self._stopping.set()

    async def send(self, out: Outgoing) -> Sent | None:
        return None

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        return None

    async def is_organiser(self, member: Member, room: Room) -> bool:
        return False

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        return None


def make_bot(sqlite_url: str, clock: FakeClock, *adapters: FakePlatform, grace: float = 2) -> Bot:
    config = parse_config(
        f'[bot]\ndatabase = "{sqlite_url}"\nadapters = []\n[outbox]\nshutdown_grace = {grace}\n'
    )
    bot = Bot(config, clock=clock, adapters=list(adapters), modules=[])
    bot.retry_first, bot.retry_cap = 0.01, 0.04
    return bot


async def test_a_failing_platform_retries_while_the_others_serve(
    sqlite_url: str, clock: FakeClock, aiohttp_client: MakeClient
) -> None:
    """A platform whose connection fails does not take the bot down: the bot gets ready
    with the other one, /readyz names the failing one (with a log reference), and it is
    retried with backoff until it connects."""
    steady = FakePlatform("steady")
    flaky = FakePlatform("flaky", failures=3)
    bot = make_bot(sqlite_url, clock, steady, flaky)
    flaky.failures = 10**9  # fails until the test has looked at /readyz
    task = asyncio.create_task(bot.run())
    try:
        await asyncio.wait_for(bot.ready.wait(), WAIT)
        assert steady.connected and not flaky.connected
        client = await aiohttp_client(create_app(bot))
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 503 and list(body["problems"]) == ["adapter:flaky"]
        assert body["problems"]["adapter:flaky"].startswith("not connected: failed (OSError, ref ")
        assert bot.owns_connection("steady") and not bot.owns_connection("flaky")
        flaky.failures = flaky.attempts + 2
        await asyncio.wait_for(flaky.up.wait(), WAIT)
        assert (await client.get("/readyz")).status == 200
        assert bot.owns_connection("flaky")
    finally:
        bot.stop()
        await asyncio.wait_for(task, WAIT)
    assert not task.exception()


async def test_stop_is_heard_while_a_platform_is_still_connecting(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Before the bot is ready (a platform hangs while connecting and ignores stop), a stop
    ends the bot within the shutdown grace."""
    bot = make_bot(sqlite_url, clock, FakePlatform("stuck", hang=True), grace=0.5)
    task = asyncio.create_task(bot.run())
    await asyncio.sleep(0)  # let it start connecting
    began = time.monotonic()
    bot.stop()
    await asyncio.wait_for(task, WAIT)
    assert time.monotonic() - began < 0.5 + 1.0
    assert not bot.ready.is_set()


async def test_one_stuck_platform_does_not_hold_up_readiness(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A platform that never connects delays readiness by ``ready_patience`` at most; the
    bot is then ready and stops within its grace."""
    steady = FakePlatform("steady")
    bot = make_bot(sqlite_url, clock, steady, FakePlatform("stuck", hang=True), grace=0.5)
    bot.ready_patience = 0.2
    task = asyncio.create_task(bot.run())
    try:
        await asyncio.wait_for(bot.ready.wait(), WAIT)
        assert steady.connected and bot.unavailable == {"stuck": "connecting"}
    finally:
        bot.stop()
        await asyncio.wait_for(task, WAIT)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_sigterm_stops_the_bot_while_matrix_and_discord_are_unreachable(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """The real process, Matrix at a closed port and Discord refused: it keeps serving the
    console, and a signal ends it with exit code 0 within shutdown_grace + 5 s."""
    grace = 3
    matrix, discord = closed_port(), closed_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[bot]
database = "sqlite:///{tmp_path / "bot.db"}"
adapters = ["console", "matrix", "discord"]
commands = ["basics"]

[logging]
level = "info"

[outbox]
shutdown_grace = {grace}

[adapters.matrix]
homeserver = "http://127.0.0.1:{matrix}"
user_id = "@bot:localhost"
password_env = "WMLIB_TEST_SIGNAL_MATRIX"
encryption = false

[adapters.discord]
token_env = "WMLIB_TEST_SIGNAL_DISCORD"
api_base_url = "http://127.0.0.1:{discord}/api/v10"
gateway_url = "ws://127.0.0.1:{discord}/"
sync_commands = "off"
"""
    )
    secrets = {"WMLIB_TEST_SIGNAL_MATRIX": "password1", "WMLIB_TEST_SIGNAL_DISCORD": "x.y.z"}
    stderr = tmp_path / "stderr.log"
    proc = await start_chatbot(config, stderr, tmp_path, secrets)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"!ping\n")
        await proc.stdin.drain()
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert b"Pong" in line, stderr.read_text()[-3000:]
        began = time.monotonic()
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), grace + 5)
        took = time.monotonic() - began
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = stderr.read_text()
    assert code == 0, log[-3000:]
    assert took < grace + 5
    assert "adapter_failed" in log and "platform='discord'" in log
    assert "Traceback" not in log.split("event='stopped'")[-1]
