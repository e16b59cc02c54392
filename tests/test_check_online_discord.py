"""``chatbot check-config --online`` on Discord, against the protocol-level fake: per
channel, the permissions the bot lacks; on the server, Manage Events for meetings."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter
from chatbot.runtime.checks import online_findings
from tests.discord_fake import FakeDiscord
from tests.discord_fake.models import DEFAULT_EVERYONE_PERMISSIONS
from tests.discord_helpers import TOKEN_ENV, discord_config

SEND_MESSAGES = 1 << 11
THREADS = (1 << 35) | (1 << 38)  # create public threads, send messages in threads


async def test_online_check_names_channels_and_missing_permissions(
    discord_fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, discord_fake.token)
    guild = discord_fake.guild
    assert guild is not None
    bot_role = guild.get_role(discord_fake.bot_user.username)
    bot_role.permissions = DEFAULT_EVERYONE_PERMISSIONS | THREADS  # no Administrator any more
    announcements = discord_fake.add_channel(guild, "announcements")
    announcements.permission_overwrites.append(
        {"id": str(bot_role.id), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}
    )
    config = discord_config(f"sqlite:///{tmp_path / 'bot.db'}", discord_fake, scheduled_events=True)
    lines = await online_findings(config, [DiscordAdapter(config)])
    text = "\n".join(lines)
    general = guild.channel("general")
    assert f"ok: discord #general ({general.id})" in lines, text
    # without Send Messages, Discord also withholds Embed Links (discord.py says so too)
    assert (
        f"error: discord #announcements ({announcements.id}): the bot cannot "
        "send messages (Send Messages), show embeds (Embed Links)\n" in text
    ), text
    assert "allow Send Messages" in text
    assert (
        f"error: discord Test Guild (guild {guild.id}): the bot cannot publish meetings as "
        "events (Manage Events)" in text
    )
    assert "(or set scheduled_events = false)" in text
    assert "Voice" not in text  # voice channels are not where the bot talks

    bot_role.permissions |= 1 << 33  # Manage Events
    announcements.permission_overwrites.clear()
    again = await online_findings(config, [DiscordAdapter(config)])
    assert not [line for line in again if line.startswith("error")], again


async def test_online_check_with_a_wrong_token(
    discord_fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    config = discord_config(f"sqlite:///{tmp_path / 'bot.db'}", discord_fake)
    lines = await online_findings(config, [DiscordAdapter(config)])
    assert lines[1].startswith("error: discord: cannot log in or list rooms:"), lines
