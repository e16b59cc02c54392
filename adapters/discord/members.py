"""Who is who on Discord: whether a member is an organiser of the group (roles and
permissions in the group's own servers), and which member a mention, an id or a name typed
in a room means."""

from __future__ import annotations

import asyncio
import re

import discord

from adapters.discord.base import DiscordBase, find_user
from chatbot.messages.events import Member, Room

ORGANISER_GUILDS_HINT = (
    "adapters.discord.guild_ids is not set, so organiser powers (Manage Events, "
    "Administrator, organiser_roles) count only in the servers of the broadcast rooms "
    "(`!announce rooms add here`; until there is one, only [permissions] organisers can "
    "act). Set guild_ids to your server(s): roles in any other server the bot is in never "
    "count, whoever owns it."
)


class Members(DiscordBase):
    """``is_organiser`` and ``resolve_member`` of the adapter protocol."""

    async def is_organiser(self, member: Member, room: Room) -> bool:
        """Manage Events, Administrator or one of ``organiser_roles`` in one of the group's
        servers (:meth:`_group_guilds`), wherever the command is given, DMs included.

        Roles are per server: the owner of another server the bot is in has every power
        there and none here.  The member is fetched on every call, so role changes count
        at once."""
        if member.platform != self.platform or not member.native_id.isdigit():
            return False
        client = self._require_client()
        channel = self._guild_channel(room)
        here = channel.guild.id if channel is not None else None
        for guild_id in sorted(await self._group_guilds(), key=lambda g: g != here):
            guild = client.get_guild(guild_id)
            if guild is None:
                continue
            try:
                found = await guild.fetch_member(int(member.native_id))
            except discord.NotFound:
                continue
            if self._has_powers(found):
                return True
        return False

    def _has_powers(self, found: discord.Member) -> bool:
        permissions = found.guild_permissions
        if permissions.administrator or permissions.manage_events:
            return True
        wanted = {name.casefold() for name in self.settings.organiser_roles}
        return any(str(role.id) in wanted or role.name.casefold() in wanted for role in found.roles)

    async def _group_guilds(self) -> list[int]:
        """The group's servers: ``guild_ids``, else those of the broadcast rooms."""
        if self.settings.guild_ids:
            return list(self.settings.guild_ids)
        client = self._require_client()
        found: list[int] = []
        for room_id in await self._broadcast_rooms():
            channel = client.get_channel(int(room_id)) if room_id.isdigit() else None
            guild = getattr(channel, "guild", None)
            if isinstance(guild, discord.Guild) and guild.id not in found:
                found.append(guild.id)
        return found

    async def _broadcast_rooms(self) -> list[str]:
        """Channel ids of the Discord rooms announcements go to (stored by the core)."""
        from sqlalchemy import select

        from chatbot.storage.delivery import BroadcastRoomRow

        core = self.core
        if core is None:
            return []
        prefix = f"{self.platform}:"
        query = select(BroadcastRoomRow.room_id).where(BroadcastRoomRow.platform == self.platform)
        async with core.db.sessions() as session:
            return [r.removeprefix(prefix) for r in (await session.scalars(query)).all()]

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
