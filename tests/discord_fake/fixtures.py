"""Pytest plugin: a started ``FakeDiscord`` and a discord.py client logged in to it.

Load with ``pytest_plugins = ["tests.discord_fake.fixtures"]``
or ``-p tests.discord_fake.fixtures``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.discord_fake.harness import (
    discord,
    message_content_intents,
    point_discord_at,
    running_client,
)
from tests.discord_fake.server import FakeDiscord

#: Short enough that tests see the heartbeat loop work, long enough not to spin.
TEST_HEARTBEAT_MS = 1_000
#: discord.py waits this long after the last GUILD_CREATE before dispatching READY.
TEST_GUILD_READY_TIMEOUT = 0.05


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord (default world) with discord.py pointed at it."""
    async with FakeDiscord(heartbeat_interval_ms=TEST_HEARTBEAT_MS) as fake:
        with point_discord_at(fake):
            yield fake
    if fake.rest.errors:
        pytest.fail("the fake Discord crashed:\n" + "\n".join(fake.rest.errors))


@pytest.fixture
def discord_intents() -> discord.Intents:
    """Default intents plus message content; override the fixture to change them."""
    return message_content_intents()


@pytest.fixture
async def discord_client(
    discord_fake: FakeDiscord, discord_intents: discord.Intents
) -> AsyncIterator[discord.Client]:
    """A bare ``discord.Client`` logged in to ``discord_fake`` and ready (guilds cached)."""
    client = discord.Client(intents=discord_intents, guild_ready_timeout=TEST_GUILD_READY_TIMEOUT)
    async with running_client(client, discord_fake) as ready:
        yield ready
