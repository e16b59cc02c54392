"""``[adapters.matrix]``: what the Matrix adapter can be told, and the checks on it (each
failure names the file and line of the setting)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from chatbot.base.config import adapter_settings, find_line
from chatbot.base.errors import ConfigError

if TYPE_CHECKING:
    from chatbot.base.config import Config

PLATFORM = "matrix"
USER_ID = re.compile(r"^@[^:\s]+:[A-Za-z0-9.\-\[\]:]+$")
"""A full Matrix user id such as ``@ana:example.org``."""


class MatrixSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[adapters.matrix]``."""

    homeserver: str
    user_id: str
    password_env: str = ""
    access_token_env: str = ""
    device_name: str = "WMLib bot"
    store_path: str = "data/matrix-store"
    #: servers whose users may invite the bot into rooms; empty means the bot's own server
    allowed_servers: list[str] = msgspec.field(default_factory=list)
    #: room ids (``!abc:server``) the bot joins whoever invites it
    allowed_rooms: list[str] = msgspec.field(default_factory=list)
    organiser_power_level: int = 50
    #: room ids whose moderators (and creators) are organisers in every room; empty: the
    #: broadcast rooms (power in any other room never counts: anyone can make a room)
    organiser_rooms: list[str] = msgspec.field(default_factory=list)
    #: Matrix ids with organiser powers in every room, e.g. ``"@ana:example.org"``
    organisers: list[str] = msgspec.field(default_factory=list)
    encryption: bool = True
    sync_timeout_ms: int = 30_000


def load_settings(config: Config) -> MatrixSettings:
    settings = adapter_settings(config, PLATFORM, MatrixSettings)
    _check_settings(settings, config)
    return settings


def _check_settings(settings: MatrixSettings, config: Config) -> None:
    def fail(key: str, message: str) -> ConfigError:
        parts = ["adapters", PLATFORM, key]
        line = find_line(config.source_text, parts)
        where = f"{config.source}:{line}" if line else config.source
        return ConfigError(f"{where}: {'.'.join(parts)}: {message}")

    if not settings.homeserver.startswith(("https://", "http://")):
        raise fail("homeserver", "must be a URL such as 'https://matrix.example.org'")
    if not USER_ID.match(settings.user_id):
        raise fail("user_id", "must be a full Matrix id such as '@wmlib-bot:example.org'")
    if not (settings.password_env or settings.access_token_env):
        raise fail("password_env", "set password_env or access_token_env to log in")
    if settings.organiser_power_level < 0:
        raise fail("organiser_power_level", "must be 0 or more")
    if settings.sync_timeout_ms < 1000:
        raise fail("sync_timeout_ms", "must be at least 1000 (one second of long polling)")
    for room_id in settings.allowed_rooms:
        if not room_id.startswith("!"):
            raise fail(
                "allowed_rooms",
                f"'{room_id}' is not a room id: use ids like '!abc:example.org' "
                "(Element: room settings, Advanced)",
            )
    for user_id in settings.organisers:
        if not USER_ID.match(user_id.removeprefix(f"{PLATFORM}:")):
            raise fail("organisers", f"'{user_id}' is not a Matrix id like '@ana:example.org'")
