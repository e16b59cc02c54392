"""The fake Discord's world: snowflakes, users, guilds, roles, channels, members.

Every model renders itself as the JSON payload Discord would send (``payload()``);
the payloads follow the Discord API v10 documentation closely enough that the
unmodified discord.py parsers accept them.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits used by the default world.
ADMINISTRATOR = 1 << 3
MANAGE_EVENTS = 1 << 33
ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE_PERMISSIONS = (
    (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 31)  # use application commands
)


class ChannelType(IntEnum):
    """Discord channel types the fake knows by name (any int is accepted)."""

    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GROUP_DM = 3
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    GUILD_STAGE_VOICE = 13
    GUILD_FORUM = 15


class Intent(IntEnum):
    """Gateway intent bits the fake filters dispatches on."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16


class SnowflakeGenerator:
    """Discord-style snowflakes: milliseconds since 2015 << 22, strictly increasing."""

    def __init__(self, worker: int = 1, process: int = 1) -> None:
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._last_ms = 0
        self._increment = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            now = max(int(time.time() * 1000), self._last_ms)
            if now == self._last_ms:
                self._increment += 1
                if self._increment >= 4096:
                    now += 1
                    self._increment = 0
            else:
                self._increment = 0
            self._last_ms = now
            return (
                ((now - DISCORD_EPOCH_MS) << 22)
                | (self._worker << 17)
                | (self._process << 12)
                | self._increment
            )


def snowflake_time(snowflake: int) -> dt.datetime:
    """The creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with an explicit UTC offset, as Discord writes timestamps."""
    return moment.astimezone(dt.UTC).isoformat()


def now_iso() -> str:
    return iso(dt.datetime.now(tz=dt.UTC))


@dataclass(eq=False)
class User:
    """A Discord user (human or bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    discriminator: str = "0"

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": self.discriminator,
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class Channel:
    """A guild channel, or a DM channel when ``guild_id`` is None."""

    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    recipients: list[User] = field(default_factory=list)
    last_message_id: int | None = None
    #: Discord's permission overwrites (``{"id", "type": 0 role / 1 member, "allow",
    #: "deny"}``), reported to clients as they are; the fake itself does not enforce them
    permission_overwrites: list[JSON] = field(default_factory=list)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "type": int(self.type),
            "flags": 0,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
        }
        if self.guild_id is None:
            data["recipients"] = [user.payload() for user in self.recipients]
            return data
        data.update(
            {
                "guild_id": str(self.guild_id),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": self.permission_overwrites,
                "parent_id": None if self.parent_id is None else str(self.parent_id),
                "nsfw": self.nsfw,
            }
        )
        if self.type in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            data["topic"] = self.topic
            data["rate_limit_per_user"] = 0
        if self.type in (ChannelType.GUILD_VOICE, ChannelType.GUILD_STAGE_VOICE):
            data.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None})
        return data


@dataclass(eq=False)
class Member:
    """A user's membership in a guild."""

    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(tz=dt.UTC))

    def payload(self, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "roles": [str(role_id) for role_id in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(eq=False)
class Guild:
    """A guild with its roles, channels and members."""

    id: int
    name: str
    owner_id: int
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    preferred_locale: str = "en-US"
    #: guild feature flags, e.g. "COMMUNITY" (only Community servers pick their language)
    features: list[str] = field(default_factory=list)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(tz=dt.UTC))

    @property
    def everyone(self) -> Role:
        return self.get_role(self.id)

    def get_role(self, key: int | str) -> Role:
        """A role by id or by name."""
        for role in self.roles:
            if role.id == key or role.name == key:
                return role
        raise KeyError(f"guild {self.name!r} has no role {key!r}")

    def channel(self, key: int | str) -> Channel:
        """A channel by id or by name."""
        for channel in self.channels:
            if channel.id == key or channel.name == key:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel {key!r}")

    def member(self, key: User | int | str) -> Member:
        """A member by user, user id or username."""
        for member in self.members:
            user = member.user
            if user is key or user.id == key or user.username == key:
                return member
        raise KeyError(f"guild {self.name!r} has no member {key!r}")

    def find_member(self, user_id: int) -> Member | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def permissions_of(self, member: Member) -> int:
        """Guild-level permissions: owner and administrators have everything."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        value = self.everyone.permissions
        for role_id in member.roles:
            value |= next((r.permissions for r in self.roles if r.id == role_id), 0)
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in self.roles],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
        }

    def create_payload(self, scheduled_events: list[JSON], members: list[Member]) -> JSON:
        """The GUILD_CREATE dispatch body: the guild plus its state."""
        data = self.payload()
        data.update(
            {
                "joined_at": iso(self.created_at),
                "large": False,
                "unavailable": False,
                "member_count": len(self.members),
                "voice_states": [],
                "members": [member.payload() for member in members],
                "channels": [channel.payload() for channel in self.channels],
                "threads": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": scheduled_events,
                "soundboard_sounds": [],
                "embedded_activities": [],
            }
        )
        return data


USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
CHANNEL_MENTION = re.compile(r"<#(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")
