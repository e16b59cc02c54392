"""Mentions in what members write, read as the names Discord shows.

Discord sends ``<@123>`` (``<@!123>`` for an old nickname mention), ``<@&456>`` and
``<#789>`` where a member sees @Carol, @Organisers and #general.  The core gets the names,
so a question, an announcement or a meeting title reads the same on every platform and
never shows a raw id (echoed back, an id would be escaped into ``<@​&456>``).  Unknown ones
read as Discord shows them: @unknown-user, @deleted-role, #unknown.

User mentions stay as they are in a command that takes a member (``!greet <@123>``): the
id names the member exactly, where a display name may be shared or hold spaces.
"""

from __future__ import annotations

import re

import discord

from adapters.discord.base import DiscordBase
from chatbot.dispatch.converters import MemberArg
from chatbot.dispatch.registry import Resolved

MENTION = re.compile(r"<(@!?|@&|#)(\d{15,21})>")
#: users looked up over REST for one text at most (the rest read as @unknown-user)
MAX_LOOKUPS = 5


class Mentions(DiscordBase):
    """:meth:`_readable`: a member's text with its mentions as names."""

    async def _readable(
        self,
        text: str,
        guild: discord.Guild | None,
        *,
        known: list[discord.User | discord.Member] | None = None,
        keep_users: bool = False,
    ) -> str:
        """``text`` with ``<@id>``, ``<@&id>`` and ``<#id>`` as @name, @role and #channel;
        ``known`` are the users the message says it mentions (no lookup needed)."""
        found = list(MENTION.finditer(text))
        if not found:
            return text
        users = {u.id: u.display_name for u in known or ()}
        lookups = 0
        names: dict[tuple[str, int], str] = {}
        for match in found:
            kind, ident = match.group(1), int(match.group(2))
            key = (kind.rstrip("!"), ident)
            if key in names or (keep_users and key[0] == "@"):
                continue
            if key[0] == "@":
                if ident not in users and lookups < MAX_LOOKUPS:
                    lookups += 1
                    users[ident] = await self._user_name(guild, ident)
                names[key] = "@" + users.get(ident, "unknown-user")
            elif key[0] == "@&":
                names[key] = "@" + self._role_name(guild, ident)
            else:
                names[key] = "#" + self._channel_name(ident)

        def name(match: re.Match[str]) -> str:
            return names.get((match.group(1).rstrip("!"), int(match.group(2))), match.group(0))

        return MENTION.sub(name, text)

    async def _user_name(self, guild: discord.Guild | None, user_id: int) -> str:
        client = self._require_client()
        cached = (guild.get_member(user_id) if guild is not None else None) or client.get_user(
            user_id
        )
        if cached is not None:
            return cached.display_name
        try:
            if guild is not None:
                return (await guild.fetch_member(user_id)).display_name
            return (await client.fetch_user(user_id)).display_name
        except discord.HTTPException:
            return "unknown-user"

    def _role_name(self, guild: discord.Guild | None, role_id: int) -> str:
        guilds = [guild] if guild is not None else list(self._require_client().guilds)
        for where in guilds:
            role = where.get_role(role_id)
            if role is not None:
                return role.name.lstrip("@")
        return "deleted-role"

    def _channel_name(self, channel_id: int) -> str:
        channel = self._require_client().get_channel(channel_id)
        name = getattr(channel, "name", None)
        return str(name) if name else "unknown"

    def _takes_a_member(self, text: str) -> bool:
        """Whether ``text`` runs a command with a member argument."""
        if not text.startswith(self.prefix):
            return False
        resolved = self._command_of(text)
        return isinstance(resolved, Resolved) and any(
            isinstance(p.converter, MemberArg) for p in resolved.command.params
        )
