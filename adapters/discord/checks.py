"""``chatbot check-config --online`` on Discord: log in over REST only (no gateway session,
so a running bot is not disturbed) and say, per text channel of the configured servers,
which permissions the bot lacks, and on the server whether it may manage events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from adapters.discord.base import DiscordBase
from chatbot.base.config import secret_from_env
from chatbot.dispatch.adapter import RoomCheck

if TYPE_CHECKING:
    from chatbot.storage import Database

#: what the bot does in a channel, and the permission it needs (Discord's own names)
NEEDS = (
    ("see the channel (View Channel)", "view_channel"),
    ("send messages (Send Messages)", "send_messages"),
    ("show embeds (Embed Links)", "embed_links"),
    ("react (Add Reactions)", "add_reactions"),
    ("read replies (Read Message History)", "read_message_history"),
    ("create threads (Create Public Threads)", "create_public_threads"),
    ("answer in threads (Send Messages in Threads)", "send_messages_in_threads"),
)
CHANNEL_FIX = (
    "Server Settings > Roles > the bot's role, or the channel's Edit Channel > Permissions: "
    "allow {what}"
)


class ChannelChecks(DiscordBase):
    """The check part of the adapter (see :class:`~chatbot.dispatch.adapter.RoomChecker`)."""

    async def check_rooms(self, db: Database) -> list[RoomCheck]:
        token = secret_from_env(self.settings.token_env, "adapters.discord")
        client = discord.Client(intents=discord.Intents.none())
        old_base = discord.http.Route.BASE
        if self.settings.api_base_url:
            discord.http.Route.BASE = self.settings.api_base_url.rstrip("/")
        try:
            await client.login(token)
            assert client.user is not None
            guild_ids = self.settings.guild_ids or [g.id async for g in client.fetch_guilds()]
            checks: list[RoomCheck] = []
            for guild_id in guild_ids:
                checks += await self._check_guild(client, guild_id, client.user.id)
            return checks
        finally:
            discord.http.Route.BASE = old_base
            await client.close()

    async def _check_guild(
        self, client: discord.Client, guild_id: int, bot_id: int
    ) -> list[RoomCheck]:
        try:
            guild = await client.fetch_guild(guild_id)
            me = await guild.fetch_member(bot_id)
        except (discord.NotFound, discord.Forbidden):
            return [
                RoomCheck(
                    f"guild {guild_id}",
                    missing=("reach this server: it is not a member",),
                    fix="invite the bot with the link `chatbot init` prints (README: Discord)",
                )
            ]
        checks: list[RoomCheck] = []
        if self.settings.scheduled_events and not me.guild_permissions.manage_events:
            checks.append(
                RoomCheck(
                    f"guild {guild_id}",
                    guild.name,
                    ("publish meetings as events (Manage Events)",),
                    "Server Settings > Roles > the bot's role: allow Manage Events "
                    "(or set scheduled_events = false)",
                )
            )
        channels = await guild.fetch_channels()
        texts = [c for c in channels if isinstance(c, discord.TextChannel)]
        for channel in sorted(texts, key=lambda c: c.position):
            allowed = channel.permissions_for(me)
            missing = tuple(what for what, flag in NEEDS if not getattr(allowed, flag))
            fix = CHANNEL_FIX.format(what=", ".join(m.split("(")[1].rstrip(")") for m in missing))
            checks.append(
                RoomCheck(str(channel.id), f"#{channel.name}", missing, fix if missing else "")
            )
        return checks
