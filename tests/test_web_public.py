"""``[web] public_host``: the calendar feed on a listener of its own, for a reverse proxy to
publish, with nothing of the admin side (metrics, readiness) on it."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import aiohttp

from adapters.console import ConsoleAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.runtime.bot import Bot
from chatbot.web.app import WebServer
from commands import basics, meetings, members
from tests.harness import BASE_CONFIG

WEB = '[web]\nenabled = true\nport = 0\npublic_host = "127.0.0.1"\npublic_port = 0\n'


async def status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        return response.status


async def test_the_public_listener_serves_the_feed_and_nothing_else(
    tmp_path: Path, clock: FakeClock
) -> None:
    config = parse_config(BASE_CONFIG.format(url=f"sqlite:///{tmp_path / 'bot.db'}") + WEB)
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    adapter = ConsoleAdapter(config, stdin=stdin, stdout=io.StringIO())
    modules = [basics.module, members.module, meetings.module]
    bot = Bot(config, clock=clock, adapters=[adapter], modules=modules)
    running = asyncio.ensure_future(bot.run())
    try:
        await asyncio.wait_for(bot.ready.wait(), 30)
        server = bot.services["web"]
        assert isinstance(server, WebServer)
        await asyncio.wait_for(server.started.wait(), 30)
        assert server.public_port and server.public_port != server.port
        admin = f"http://127.0.0.1:{server.port}"
        public = f"http://127.0.0.1:{server.public_port}"
        async with aiohttp.ClientSession() as session:
            assert await status(session, f"{public}/meetings.ics") == 200
            assert await status(session, f"{public}/metrics") == 404
            assert await status(session, f"{public}/readyz") == 404
            assert await status(session, f"{admin}/metrics") == 200
            assert await status(session, f"{admin}/readyz") == 200
            assert await status(session, f"{admin}/meetings.ics") == 200
    finally:
        os.close(write_fd)  # end of input: the console ends, and the bot with it
        await asyncio.wait_for(running, 30)
        stdin.close()


def test_without_public_host_there_is_one_listener() -> None:
    config = parse_config("[web]\nenabled = true\n")
    assert config.web.public_host == "" and config.web.public_port == 8081
