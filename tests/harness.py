"""Talking to an in-process bot through the real console adapter.

Tests type lines as members and read back exactly what the console would print.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from adapters.console import ConsoleAdapter
from chatbot.base.config import parse_config
from chatbot.runtime.bot import Bot
from commands import basics, members

if TYPE_CHECKING:
    from chatbot.base.clock import FakeClock
    from chatbot.dispatch.adapter import Sent
    from chatbot.dispatch.registry import Module
    from chatbot.messages.events import Outgoing


@contextlib.asynccontextmanager
async def ready(bot: Bot, seconds: float) -> AsyncIterator[Bot]:
    """Run ``bot`` until it is ready (the test fails if it is not within ``seconds``,
    or re-raises why it stopped); stop it on exit."""
    task = asyncio.create_task(bot.run(), name="bot")
    started = asyncio.create_task(bot.ready.wait(), name="bot-ready")
    done, _ = await asyncio.wait(
        {task, started}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
    )
    if started not in done:
        started.cancel()
        if task in done:
            task.result()
        bot.stop()
        await asyncio.wait_for(task, seconds)
        pytest.fail(f"the bot did not get ready within {seconds:.0f} s")
    try:
        yield bot
    finally:
        bot.stop()
        await asyncio.wait_for(task, seconds)


BASE_CONFIG = """
[bot]
database = "{url}"
adapters = ["console"]
commands = ["basics", "members"]

[permissions]
organisers = ["console:ana"]
admins = ["console:root"]

[ratelimit]
member_rate = 1.0
member_burst = 1000
room_rate = 1.0
room_burst = 1000

[adapters.console]
organisers = ["olga"]
"""


class ConsoleChat:
    """A bot and its console adapter, driven line by line."""

    def __init__(self, bot: Bot, adapter: ConsoleAdapter, out: io.StringIO) -> None:
        self.bot = bot
        self.adapter = adapter
        self.out = out

    async def say(self, line: str, *, as_: str | None = None, room: str | None = None) -> str:
        """Send one line (optionally as another member / in another room); return the output."""
        if as_ is not None:
            await self.adapter.feed(self.bot, f"/as {as_}")
        if room is not None:
            await self.adapter.feed(self.bot, "/dm" if room == "dm" else f"/room {room}")
        self.out.seek(0)
        self.out.truncate()
        await self.adapter.feed(self.bot, line)
        return self.out.getvalue().rstrip("\n")

    def record_sent(self) -> list[Outgoing]:
        """From now on, every message the bot hands the adapter, as handed (not yet in the
        reader's language), appended to the list returned; the console still prints it."""
        sent: list[Outgoing] = []
        send = self.adapter.send

        async def keep(out: Outgoing) -> Sent | None:
            sent.append(out)
            return await send(out)

        self.adapter.send = keep  # type: ignore[method-assign]
        return sent

    async def deliver(self) -> str:
        """Run the outbox sender until nothing is due; what the console printed meanwhile."""
        from chatbot.delivery.outbox import Outbox

        outbox = self.bot.services["outbox"]
        assert isinstance(outbox, Outbox)
        self.out.seek(0)
        self.out.truncate()
        while await outbox.run_once():
            pass
        return self.out.getvalue()


async def open_chat(
    url: str, clock: FakeClock, extra_config: str = "", modules: list[Module] | None = None
) -> ConsoleChat:
    config = parse_config(BASE_CONFIG.format(url=url) + extra_config)
    out = io.StringIO()
    adapter = ConsoleAdapter(config, stdin=io.StringIO(""), stdout=out)
    bot = Bot(
        config,
        clock=clock,
        adapters=[adapter],
        modules=modules if modules is not None else [basics.module, members.module],
    )
    await bot.open()
    return ConsoleChat(bot, adapter, out)


async def start_chatbot(
    config: Path, stderr: Path, cwd: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """The real ``chatbot run -c CONFIG`` process, stdin and stdout piped, its log appended
    to ``stderr``; the environment's database URL is left out so the config's one counts."""
    environ = {k: v for k, v in os.environ.items() if k != "CHATBOT_DATABASE_URL"}
    with stderr.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chatbot",
            "run",
            "-c",
            str(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            cwd=cwd,
            env=environ | (env or {}),
        )
