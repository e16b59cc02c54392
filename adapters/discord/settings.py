"""``[adapters.discord]``: what the Discord adapter can be told, and the checks on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from chatbot.base.config import adapter_settings
from chatbot.base.errors import ConfigError

if TYPE_CHECKING:
    from chatbot.base.config import Config


class DiscordSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[adapters.discord]``."""

    #: environment variable holding the bot token
    token_env: str = "DISCORD_TOKEN"
    #: the group's guilds: their slash commands are synced (``sync_commands = "guild"``) and
    #: roles there make organisers; empty: commands go to every guild joined, and organisers
    #: come from the guilds of the broadcast rooms (roles in any other guild never count)
    guild_ids: list[int] = msgspec.field(default_factory=list)
    #: role names or ids whose members are organisers (besides Manage Events / Administrator),
    #: in the group's guilds only
    organiser_roles: list[str] = msgspec.field(default_factory=list)
    sync_commands: Literal["guild", "global", "off"] = "guild"
    #: Discord-compatible servers (and tests): REST base, e.g. ``https://host/api/v10``
    api_base_url: str | None = None
    #: and the gateway websocket, e.g. ``wss://host/``
    gateway_url: str | None = None
    #: run an auto-sharded client with this many shards
    shards: int | None = None
    #: ask for the privileged message-content intent (needed for prefix commands)
    message_content: bool = True
    #: seconds to wait for the guilds after connecting before the bot counts as ready
    guild_ready_timeout: float = 2.0
    #: seconds an interaction handler may take before the answer is deferred (Discord: 3 s)
    defer_after: float = 2.0
    #: publish meetings as Guild Scheduled Events (needs the Manage Events permission)
    scheduled_events: bool = False


def load_settings(config: Config) -> DiscordSettings:
    settings = adapter_settings(config, "discord", DiscordSettings)
    if settings.shards is not None and settings.shards < 1:
        raise ConfigError("adapters.discord.shards: must be at least 1 (or left out)")
    if settings.guild_ready_timeout < 0:
        raise ConfigError("adapters.discord.guild_ready_timeout: must not be negative")
    if not 0 < settings.defer_after <= 2.5:
        raise ConfigError("adapters.discord.defer_after: must be between 0 and 2.5 seconds")
    return settings
