"""Configuration: a TOML file validated into typed sections.

Unknown keys and wrong types are errors that name the key and, where it can be found, the
line of the file.  Secrets never live in the file: a key such as ``token_env`` names the
environment variable that holds them.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from chatbot.base.errors import ConfigError

SECRET_WORDS = ("password", "token", "secret", "api_key", "apikey")
DATABASE_ENV = "CHATBOT_DATABASE_URL"
#: the command modules enabled when ``[bot] commands`` is not set: all that ship
DEFAULT_COMMANDS = ("basics", "members", "faq", "announce", "meetings", "casestudies")


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BotSection(_Section):
    name: str = "WMLib bot"
    prefix: str = "!"
    #: the language of members who chose none (``!lang``) and whose app says none
    language: str = "en"
    #: a room's own language (room id as in the logs, e.g. ``matrix:!abc:example.org``):
    #: its posts, and the replies to members there who chose none
    room_languages: dict[str, str] = msgspec.field(default_factory=dict)
    database: str = "sqlite:///data/chatbot.db"
    adapters: list[str] = msgspec.field(default_factory=lambda: ["console"])
    #: every module this package ships (config.example.toml shows the same list: a test
    #: keeps the two equal)
    commands: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_COMMANDS))
    about: str = (
        "I'm the community bot of the Wikimedia and Libraries User Group, which connects "
        "librarians and Wikimedians around the world."
    )
    website: str = "https://meta.wikimedia.org/wiki/Wikimedia_and_Libraries_User_Group"


class LoggingSection(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["keyvalue", "json"] = "keyvalue"


class RateLimitSection(_Section):
    member_rate: float = 0.5
    member_burst: int = 8
    room_rate: float = 2.0
    room_burst: int = 30
    exempt_platforms: list[str] = msgspec.field(default_factory=list)


class PermissionsSection(_Section):
    admins: list[str] = msgspec.field(default_factory=list)
    organisers: list[str] = msgspec.field(default_factory=list)


class TimeSection(_Section):
    date_order: Literal["DMY", "MDY", "YMD"] = "DMY"


class OutboxSection(_Section):
    #: rows claimed per round, and how long a claim is held before another instance may retry
    batch: int = 100
    lease_seconds: float = 60.0
    #: at shutdown, seconds to let the sends in flight finish
    shutdown_grace: float = 10.0
    max_attempts: int = 6
    #: per platform: [messages per second, burst]; defaults suit Matrix and Discord
    rates: dict[str, list[float]] = msgspec.field(default_factory=dict)


class DialogsSection(_Section):
    expire_after_days: float = 7.0


class InstancesSection(_Section):
    """Several instances on one PostgreSQL database (ignored on SQLite: one instance)."""

    #: this instance's name in leases and claims; empty: host:pid:random
    name: str = ""
    #: a platform connection whose holder died is taken over after at most this long
    lease_seconds: float = 30.0
    #: how often the holder renews its lease (well under ``lease_seconds``)
    renew_seconds: float = 10.0


class WebSection(_Section):
    """The health and metrics endpoints, the calendar feed and the public pages (needs the
    ``web`` extra)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    #: the address members reach the app at (behind a reverse proxy), used in feed links
    public_url: str = ""
    #: a second listener with the public pages only (the calendar feed), for a reverse
    #: proxy; empty: none (then everything is on host:port)
    public_host: str = ""
    public_port: int = 8081
    #: serve the group's public pages (meetings, published case studies) and the
    #: organisers' review desk; off by default, as the app may be bound to a private network
    public_pages: bool = False


class Config(_Section):
    bot: BotSection = msgspec.field(default_factory=BotSection)
    logging: LoggingSection = msgspec.field(default_factory=LoggingSection)
    ratelimit: RateLimitSection = msgspec.field(default_factory=RateLimitSection)
    permissions: PermissionsSection = msgspec.field(default_factory=PermissionsSection)
    time: TimeSection = msgspec.field(default_factory=TimeSection)
    dialogs: DialogsSection = msgspec.field(default_factory=DialogsSection)
    outbox: OutboxSection = msgspec.field(default_factory=OutboxSection)
    instances: InstancesSection = msgspec.field(default_factory=InstancesSection)
    web: WebSection = msgspec.field(default_factory=WebSection)
    adapters: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    #: each command module's own ``[modules.<name>]`` table, validated by the module
    modules: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    source: str = ""
    source_text: str = ""

    def database_url(self) -> str:
        """The database URL, from the environment when set there (it may hold a password)."""
        return os.environ.get(DATABASE_ENV) or self.bot.database


S = TypeVar("S", bound=msgspec.Struct)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises :class:`ConfigError` naming what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Copy config.example.toml to start.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}).") from None
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<config>") -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    _refuse_secrets(raw, [], text, source)
    raw["source"] = source
    raw["source_text"] = text
    try:
        config = msgspec.convert(raw, Config, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(describe_error(exc, text, source)) from None
    _check_values(config, text, source)
    return config


def adapter_settings(config: Config, platform: str, cls: type[S]) -> S:
    """Validate one adapter's ``[adapters.<platform>]`` table with the adapter's own type."""
    return _settings(config, "adapters", platform, cls)


def module_settings(config: Config, name: str, cls: type[S]) -> S:
    """Validate one command module's ``[modules.<name>]`` table with the module's own type."""
    return _settings(config, "modules", name, cls)


def _settings(config: Config, table: str, name: str, cls: type[S]) -> S:
    raw = getattr(config, table).get(name, {})
    try:
        return msgspec.convert(raw, cls, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(
            describe_error(exc, config.source_text, config.source, prefix=(table, name))
        ) from None


def config_relative(config: Config, path: str) -> Path:
    """A path from the config file, read relative to that file's folder (not the cwd)."""
    found = Path(path).expanduser()
    if found.is_absolute() or not config.source or config.source.startswith("<"):
        return found
    return Path(config.source).parent / found


_PATH = re.compile(r"- at `\$((?:\.[^.`\[]+|\[\d+\])*)`")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")


def describe_error(
    exc: msgspec.ValidationError, text: str, source: str, prefix: tuple[str, ...] = ()
) -> str:
    """Turn msgspec's message into one that names the key and its line."""
    message = str(exc)
    match = _PATH.search(message)
    parts = list(prefix)
    if match:
        parts += [p for p in re.split(r"\.|\[(\d+)\]", match.group(1)) if p]
        message = message[: match.start()].strip()
    unknown = _UNKNOWN.search(message)
    if unknown:
        parts.append(unknown.group(1))
        message = "unknown key (check the spelling; config.example.toml lists every key)"
    parts = [p for p in parts if not p.isdigit()] if parts else parts
    key = ".".join(parts) or "(top level)"
    line = find_line(text, parts)
    where = f"{source}:{line}" if line else source
    return f"{where}: {key}: {message}"


def find_line(text: str, parts: list[str]) -> int | None:
    """The line where a dotted key is set (or its table starts), found by scanning the text."""
    if not parts:
        return None
    table: list[str] = []
    table_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", stripped)
        if header:
            table = [p.strip().strip('"') for p in header.group(1).split(".")]
            if table == parts:
                table_line = number
            continue
        keymatch = re.match(r'^([A-Za-z0-9_."-]+)\s*=', stripped)
        if keymatch:
            key = [p.strip().strip('"') for p in keymatch.group(1).split(".")]
            if table + key == parts:
                return number
    return table_line


def _refuse_secrets(raw: dict[str, Any], path: list[str], text: str, source: str) -> None:
    for key, value in raw.items():
        here = [*path, key]
        lowered = key.casefold()
        if any(w in lowered for w in SECRET_WORDS) and not lowered.endswith("_env"):
            line = find_line(text, here)
            where = f"{source}:{line}" if line else source
            raise ConfigError(
                f"{where}: {'.'.join(here)}: secrets must not be written in the config file. "
                f"Put it in an environment variable and name that variable with "
                f"'{key}_env = \"MY_VARIABLE\"'."
            )
        if isinstance(value, dict):
            _refuse_secrets(value, here, text, source)


def _check_values(config: Config, text: str, source: str) -> None:
    def fail(parts: list[str], message: str) -> ConfigError:
        line = find_line(text, parts)
        return ConfigError(f"{source}:{line or '?'}: {'.'.join(parts)}: {message}")

    if not config.bot.prefix or any(c.isspace() for c in config.bot.prefix):
        raise fail(["bot", "prefix"], "must be non-empty and without spaces, e.g. '!'")
    for key in ("member_rate", "room_rate"):
        if getattr(config.ratelimit, key) <= 0:
            raise fail(["ratelimit", key], "must be greater than 0")
    for key in ("member_burst", "room_burst"):
        if getattr(config.ratelimit, key) < 1:
            raise fail(["ratelimit", key], "must be at least 1")
    box = config.outbox
    if box.batch < 1 or box.lease_seconds <= 0 or box.shutdown_grace < 0 or box.max_attempts < 1:
        raise fail(["outbox"], "batch and max_attempts must be at least 1, lease_seconds > 0")
    for platform, pair in box.rates.items():
        if len(pair) != 2 or pair[0] <= 0 or pair[1] < 1:
            raise fail(["outbox", "rates"], f"{platform}: give [messages per second, burst]")
    if config.dialogs.expire_after_days <= 0:
        raise fail(["dialogs", "expire_after_days"], "must be greater than 0")
    inst = config.instances
    if inst.lease_seconds <= 0:
        raise fail(["instances", "lease_seconds"], "must be greater than 0")
    if not 0 < inst.renew_seconds < inst.lease_seconds:
        raise fail(
            ["instances", "renew_seconds"],
            "must be greater than 0 and less than lease_seconds (a third of it is usual)",
        )
    if len(inst.name) > 64:
        raise fail(["instances", "name"], "must be at most 64 characters")
    for key in ("port", "public_port"):
        if not 0 <= getattr(config.web, key) <= 65535:
            raise fail(["web", key], "must be a port number (0-65535)")
    for name in config.bot.adapters:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise fail(["bot", "adapters"], f"'{name}' is not an adapter name")


def secret_from_env(variable: str, what: str) -> str:
    """Read a secret from the environment, or fail saying which variable to set."""
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(f"{what}: set the environment variable {variable}.")
    return value
