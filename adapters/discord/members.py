"""Who is who on Discord: whether a member is an organiser (roles and permissions in the
room's guild), and which member a mention, an id or a name typed in a room means."""

from __future__ import annotations

import asyncio
import re

import discord

from adapters.discord.base import DiscordBase, find_user
from chatbot.messages.events import Member, Room


class Members(DiscordBase):
    """``is_organiser`` and ``resolve_member`` of the adapter protocol."""

    async def is_organiser(self, member: Member, room: Room) -> bool:
        """Configured organiser roles, or Manage Events / Administrator in the room's guild.

        The member is fetched on every call, so role changes count at once."""
        channel = self._guild_channel(room)
        if channel is None or member.platform != self.platform or not member.native_id.isdigit():
            return False
        try:
            found = await channel.guild.fetch_member(int(member.native_id))
        except discord.NotFound:
            return False
        permissions = found.guild_permissions
        if permissions.administrator or permissions.manage_events:
            return True
        wanted = {name.casefold() for name in self.settings.organiser_roles}
        return any(str(role.id) in wanted or role.name.casefold() in wanted for role in found.roles)

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        """A ``<@id>`` mention, a bare id, or a (display) name of someone in the room's guild."""
        client = self._require_client()
        cleaned = text.strip()
        channel = self._guild_channel(room)
        guild = channel.guild if channel is not None else None
        match = re.fullmatch(r"<@!?(\d{15,21})>|(\d{15,21})", cleaned)
        if match:
            user_id = int(match.group(1) or match.group(2))
            try:
                return self._member(await find_user(client, guild, user_id))
            except discord.NotFound:
                return None
        name = cleaned.removeprefix("@")
        if guild is None or not name:
            return None
        found = guild.get_member_named(name)
        if found is None:
            try:
                async with asyncio.timeout(5):
                    candidates = await guild.query_members(query=name, limit=5)
            except (TimeoutError, discord.ClientException, discord.HTTPException):
                candidates = []
            folded = name.casefold()
            exact = [
                m for m in candidates if folded in (m.name.casefold(), m.display_name.casefold())
            ]
            found = exact[0] if exact else (candidates[0] if len(candidates) == 1 else None)
        return self._member(found) if found is not None else None
