"""The health and metrics app on a real bot with the console adapter."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.console import ConsoleAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.delivery.outbox import Outbox, outbox_of
from chatbot.delivery.outbox_rows import Delivery
from chatbot.delivery.scheduler import scheduler_of
from chatbot.messages.events import Plain, Reply
from chatbot.runtime.bot import Bot
from chatbot.web.app import WebServer, create_app
from commands import basics, members
from tests.harness import BASE_CONFIG, ConsoleChat, open_chat

Client = TestClient[Any, Any]
MakeClient = Callable[[Any], Awaitable[Client]]


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(db_url, clock, extra_config="[web]\nenabled = true\nport = 0\n")
    try:
        yield chat
    finally:
        await chat.bot.close()


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in Prometheus text."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        key, _, value = line.rpartition(" ")
        if key == wanted:
            return float(value)
    raise AssertionError(f"{wanted} not in the metrics")


async def test_healthz_and_readyz_before_the_adapters_run(
    chat: ConsoleChat, aiohttp_client: MakeClient
) -> None:
    """/healthz answers while the process runs; /readyz is 503 naming the console until it
    is connected, then 200."""
    client = await aiohttp_client(create_app(chat.bot))
    health = await client.get("/healthz")
    assert health.status == 200 and await health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert await ready.json() == {
        "status": "not ready",
        "problems": {"adapter:console": "not connected"},
    }
    chat.adapter.connected = True
    ready = await client.get("/readyz")
    assert ready.status == 200 and await ready.json() == {"status": "ready"}


async def test_readyz_names_a_database_that_does_not_answer(
    chat: ConsoleChat, aiohttp_client: MakeClient, tmp_path: Any
) -> None:
    """A database that cannot be reached makes /readyz 503 with ``database`` named."""
    client = await aiohttp_client(create_app(chat.bot))
    chat.adapter.connected = True
    real = chat.bot.db.engine
    broken = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    chat.bot.db.engine = broken
    try:
        ready = await client.get("/readyz")
    finally:
        chat.bot.db.engine = real
        await broken.dispose()
    assert ready.status == 503
    body = await ready.json()
    assert list(body["problems"]) == ["database"]
    assert body["problems"]["database"].startswith("not answering")


async def test_metrics_count_messages_commands_errors_and_the_outbox(
    chat: ConsoleChat, aiohttp_client: MakeClient, clock: FakeClock
) -> None:
    """Counters move with the chat; outbox depth, latency and scheduler lag are reported."""
    outbox = outbox_of(chat.bot)
    scheduler = scheduler_of(chat.bot)
    client = await aiohttp_client(create_app(chat.bot))
    assert "Pong" in await chat.say("!ping")
    await chat.say("!ping")
    await chat.say("!tz set")  # a usage error: the zone is missing
    await chat.say("hello everyone")  # not for the bot, but handled
    async with chat.bot.db.session() as session:
        await outbox.enqueue(
            session,
            [
                Delivery("console", Reply.of(Plain(f"n{i}")), room=chat.adapter.room)
                for i in range(3)
            ],
        )
        await scheduler.schedule(session, "nothing", clock.now() - timedelta(seconds=90))
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert sample(text, "chatbot_messages_handled_total") == 4
    assert sample(text, "chatbot_commands_total", 'command="ping"') == 2
    assert sample(text, "chatbot_commands_total", 'command="tz set"') == 1
    assert sample(text, "chatbot_errors_total", 'kind="user"') == 1
    assert sample(text, "chatbot_errors_total", 'kind="internal"') == 0
    assert sample(text, "chatbot_outbox_pending") == 3
    assert sample(text, "chatbot_scheduler_lag_seconds") == 90
    clock.advance(timedelta(seconds=2))
    assert isinstance(outbox, Outbox)
    assert await outbox.run_once() == 1  # the console sends one row at a time
    text = await (await client.get("/metrics")).text()
    assert sample(text, "chatbot_outbox_pending") == 2
    assert sample(text, "chatbot_delivery_latency_seconds_count") == 1
    assert sample(text, "chatbot_delivery_latency_seconds_bucket", 'le="2.5"') == 1
    assert sample(text, "chatbot_delivery_latency_seconds_bucket", 'le="1.0"') == 0


async def test_the_bot_serves_the_app_when_enabled(tmp_path: Any, clock: FakeClock) -> None:
    """With [web] enabled the running bot serves the endpoints; /readyz is 200 once the
    console is connected, and the server stops with the bot."""
    config = parse_config(
        BASE_CONFIG.format(url=f"sqlite:///{tmp_path / 'bot.db'}")
        + "[web]\nenabled = true\nport = 0\n"
    )
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    adapter = ConsoleAdapter(config, stdin=stdin, stdout=io.StringIO())
    bot = Bot(config, clock=clock, adapters=[adapter], modules=[basics.module, members.module])
    running = asyncio.ensure_future(bot.run())
    try:
        await asyncio.wait_for(bot.ready.wait(), 30)
        server = bot.services["web"]
        assert isinstance(server, WebServer)
        await asyncio.wait_for(server.started.wait(), 30)
        base = f"http://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/readyz") as ready:
                assert ready.status == 200 and await ready.json() == {"status": "ready"}
            async with session.get(f"{base}/healthz") as health:
                assert health.status == 200
    finally:
        os.close(write_fd)  # end of input: the console ends, and the bot with it
        await asyncio.wait_for(running, 30)
        stdin.close()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{base}/healthz")


@pytest.mark.postgres
async def test_a_standby_instance_is_ready(postgres_url: str, aiohttp_client: MakeClient) -> None:
    """On PostgreSQL an instance waiting for another's connection reports ready, standby."""
    config = parse_config(BASE_CONFIG.format(url=postgres_url))
    bot = Bot(config, adapters=[ConsoleAdapter(config, stdin=io.StringIO(""))])
    await bot.open()
    try:
        bot.leased.add("console")  # as _serve_leased does while another instance holds it
        client = await aiohttp_client(create_app(bot))
        ready = await client.get("/readyz")
        assert ready.status == 200
        assert await ready.json() == {"status": "ready", "standby": ["console"]}
    finally:
        await bot.close()


def test_metrics_are_not_created_unless_enabled(tmp_path: Any) -> None:
    """Without [web], the bot counts nothing (the dispatch path only checks for None)."""
    config = parse_config(BASE_CONFIG.format(url=f"sqlite:///{tmp_path / 'bot.db'}"))
    assert Bot(config).metrics is None
    assert config.web.enabled is False and (config.web.host, config.web.port) == (
        "127.0.0.1",
        8080,
    )
