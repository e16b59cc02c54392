"""Pointing an unmodified discord.py at a ``FakeDiscord`` and running a client against it."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import yarl

from tests.discord_fake.server import FakeDiscord

with warnings.catch_warnings():
    # discord.player imports ``audioop``, deprecated since Python 3.11; the repo runs
    # pytest with ``filterwarnings = error``, so import discord.py once with just that
    # warning silenced (later imports hit the module cache and warn no more).
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    import discord
    import discord.gateway
    import discord.http

__all__ = ["discord", "message_content_intents", "point_discord_at", "running_client"]

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def point_discord_at(fake: FakeDiscord) -> Iterator[None]:
    """Set ``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` to the fake; restore after."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    fake: FakeDiscord,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> AsyncIterator[ClientT]:
    """Log ``client`` in to the fake, connect, wait until ready; close it on exit.

    Pass ``guild_ready_timeout=0.05`` (or similar) to the client: discord.py otherwise
    waits 2 s after the last GUILD_CREATE before it is ready.
    """
    try:
        await client.login(fake.token)
    except BaseException:
        await client.close()
        raise
    connect = asyncio.create_task(client.connect(reconnect=True), name="discord-client-connect")
    ready = asyncio.create_task(client.wait_until_ready(), name="discord-client-ready")
    failure: BaseException | None = None
    try:
        done, _ = await asyncio.wait(
            {connect, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            if connect in done:
                connect.result()  # raises the connection error
            raise TimeoutError(f"discord client not ready after {timeout}s\n{fake.describe()}")
        yield client
    finally:
        ready.cancel()
        await client.close()
        _, pending = await asyncio.wait({connect}, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(connect, ready, return_exceptions=True)
        if not connect.cancelled():
            failure = connect.exception()
    if failure is not None:
        raise failure


def message_content_intents() -> discord.Intents:
    """``Intents.default()`` plus the privileged message-content intent."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents
