"""Pytest fixtures for the Discord adapter's tests: members of the fake's guild and a bot
to start on it.  Load with ``pytest_plugins = ["tests.discord_fixtures"]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from chatbot.base.clock import FakeClock
from chatbot.dispatch.registry import Module
from tests.discord_fake import FakeDiscord, Role, User
from tests.discord_helpers import (
    ORGANISER_ROLE,
    TOKEN_ENV,
    Gate,
    RunningBot,
    StartBot,
    discord_config,
    main_guild,
    running_bot,
)


@pytest.fixture
def bob(discord_fake: FakeDiscord) -> User:
    return discord_fake.user("bob")


@pytest.fixture
def organisers(discord_fake: FakeDiscord) -> Role:
    """A role without permissions, named in ``organiser_roles`` (created before connecting)."""
    return discord_fake.add_role(main_guild(discord_fake), ORGANISER_ROLE)


@pytest.fixture
def carol(discord_fake: FakeDiscord) -> User:
    """A plain member."""
    guild = main_guild(discord_fake)
    user = discord_fake.add_user("carol", global_name="Carol")
    discord_fake.add_member(guild, user, roles=[guild.get_role("Member")])
    return user


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def start_bot(
    discord_fake: FakeDiscord,
    sqlite_url: str,
    clock: FakeClock,
    gate: Gate,
    organisers: Role,
    carol: User,
    monkeypatch: pytest.MonkeyPatch,
) -> StartBot:
    """Start a bot (as a context manager) on the fake; keyword arguments tune the config
    (see :func:`discord_config`), ``modules`` replaces the command modules and ``url`` the
    database."""
    monkeypatch.setenv(TOKEN_ENV, discord_fake.token)

    def start(
        *, modules: list[Module] | None = None, url: str = sqlite_url, **options: Any
    ) -> AbstractAsyncContextManager[RunningBot]:
        config = discord_config(url, discord_fake, **options)
        return running_bot(config, clock, gate, modules=modules)

    return start


@pytest.fixture
async def bot(start_bot: StartBot) -> AsyncIterator[RunningBot]:
    async with start_bot() as running:
        yield running
