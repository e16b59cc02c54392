"""The Discord adapter itself: the discord.py client, connecting to the gateway (and falling
back when the message-content intent is refused), syncing slash commands once ready,
stopping cleanly, and routing each gateway event to the part that handles it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import discord
import discord.gateway
import discord.http
import yarl

from adapters.discord.base import Interaction, digest
from adapters.discord.checks import ChannelChecks
from adapters.discord.forms import FormButton, PageButton
from adapters.discord.interactions import CommandButton
from adapters.discord.members import ORGANISER_GUILDS_HINT, Members
from adapters.discord.scheduled_events import INTEREST_MARK, ScheduledEvents
from adapters.discord.sending import Sending
from adapters.discord.slash import build_slash, held_matches
from chatbot.base.config import secret_from_env
from chatbot.base.logs import get_logger, register_secret
from chatbot.dispatch.adapter import Capabilities
from chatbot.messages.events import Incoming

if TYPE_CHECKING:
    from chatbot.dispatch.adapter import Core

log = get_logger("adapters.discord")

#: ``state`` key: the digest of the commands last synced, per application and scope
COMMANDS_STATE = "discord:commands:"

MESSAGE_CONTENT_HINT = (
    "Discord refused the privileged message-content intent, so prefix commands (like !help) "
    "can't be read; slash commands still work. To enable prefix commands, open the Discord "
    "developer portal, select the application, go to Bot > Privileged Gateway Intents, turn on "
    "MESSAGE CONTENT INTENT and restart the bot."
)


class _Events:
    """Event handlers shared by the plain and the auto-sharded client."""

    adapter: DiscordAdapter

    async def on_ready(self) -> None:
        await self.adapter._on_ready()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter._on_message(message)

    async def on_interaction(self, interaction: Interaction) -> None:
        await self.adapter._on_interaction(interaction)

    async def on_socket_raw_receive(self, msg: str) -> None:
        # only dispatched with ``enable_debug_events`` (set when scheduled events are on):
        # discord.py drops GUILD_SCHEDULED_EVENT_USER_ADD/REMOVE for users it has not cached
        if INTEREST_MARK in msg:
            await self.adapter._on_raw_interest(msg)


class _Client(_Events, discord.Client):
    pass


class _ShardedClient(_Events, discord.AutoShardedClient):
    pass


class DiscordAdapter(Sending, ScheduledEvents, Members, ChannelChecks):
    """One Discord bot account serving every guild it is in, and its direct messages."""

    capabilities = Capabilities(
        rich_text=True,
        native_timestamps=True,
        forms=True,
        threads=False,
        direct_messages=True,
        reactions=False,
        buttons=True,
    )

    @property
    def connected(self) -> bool:
        """The gateway session is up (for ``/readyz``)."""
        client = self.client
        return client is not None and client.is_ready() and not client.is_closed()

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, core: Core, started: Callable[[], None]) -> None:
        self.core = core
        self._started = started
        self.slash = build_slash(core.registry)
        if self.slash.skipped:
            log.warning("discord_slash_skipped", commands=self.slash.skipped)
        token = secret_from_env(self.settings.token_env, "adapters.discord")
        register_secret(token)
        message_content = self.settings.message_content
        with self._endpoints():
            while not self._stopping:
                client = self._new_client(message_content)
                self.client = client
                self.message_content = message_content
                try:
                    await client.login(token)
                    await client.connect(reconnect=True)
                    return
                except discord.PrivilegedIntentsRequired:
                    if not message_content:
                        raise
                    log.warning("discord_message_content_refused", hint=MESSAGE_CONTENT_HINT)
                    message_content = False
                finally:
                    if not client.is_closed():
                        await client.close()

    async def stop(self) -> None:
        self._stopping = True
        busy = {f for f in self._inflight if not f.done()}
        if busy:
            await asyncio.wait(busy, timeout=5.0)
        if self.client is not None and not self.client.is_closed():
            await self.client.close()

    @contextlib.contextmanager
    def _endpoints(self) -> Iterator[None]:
        """Point discord.py at a Discord-compatible server when configured (process-wide)."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        if self.settings.api_base_url:
            discord.http.Route.BASE = self.settings.api_base_url.rstrip("/")
        if self.settings.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    def _new_client(self, message_content: bool) -> discord.Client:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = message_content
        events = self.settings.scheduled_events
        intents.guild_scheduled_events = events
        client: discord.Client
        if self.settings.shards is not None:
            client = _ShardedClient(
                intents=intents,
                shard_count=self.settings.shards,
                guild_ready_timeout=self.settings.guild_ready_timeout,
                allowed_mentions=discord.AllowedMentions.none(),
                chunk_guilds_at_startup=False,
                enable_debug_events=events,
            )
        else:
            client = _Client(
                intents=intents,
                guild_ready_timeout=self.settings.guild_ready_timeout,
                allowed_mentions=discord.AllowedMentions.none(),
                chunk_guilds_at_startup=False,
                enable_debug_events=events,
            )
        assert isinstance(client, _Events)
        client.adapter = self
        client.add_dynamic_items(CommandButton, FormButton, PageButton)
        return client

    async def _on_ready(self) -> None:
        if self._ready:
            return
        self._ready = True
        client = self._require_client()
        await self._sync_commands(client)
        if not self.settings.guild_ids:
            guilds = await self._group_guilds()
            log.warning(
                "discord_organiser_guilds_not_set", guilds=guilds, hint=ORGANISER_GUILDS_HINT
            )
        log.info(
            "discord_ready",
            user=str(client.user),
            guilds=len(client.guilds),
            message_content=self.message_content,
        )
        if self._started is not None:
            self._started()

    async def _sync_commands(self, client: discord.Client) -> None:
        """Per configured guild (or globally): overwrite the slash commands only when
        they are not what Discord holds already (a bulk overwrite is a 15 kB request
        Discord rate-limits, and every start used to send it)."""
        mode = self.settings.sync_commands
        app_id = client.application_id
        if mode == "off" or app_id is None:
            return
        scopes: list[int | None] = (
            [None]
            if mode == "global"
            else list(self.settings.guild_ids or [g.id for g in client.guilds])
        )
        for scope in scopes:
            try:
                await self._sync_scope(client, app_id, scope)
            except discord.HTTPException as exc:
                log.warning(
                    "discord_sync_failed",
                    scope=scope or "global",
                    status=exc.status,
                    error=exc.text[:200],
                )

    async def _sync_scope(self, client: discord.Client, app_id: int, scope: int | None) -> None:
        payload = self.slash.payloads
        wanted = digest(json.dumps(payload, sort_keys=True, ensure_ascii=False))
        key = f"{COMMANDS_STATE}{app_id}:{scope or 'global'}"
        http = client.http
        # with their localisations (Discord leaves them out otherwise), to compare them too
        route = (
            discord.http.Route("GET", "/applications/{app_id}/commands", app_id=app_id)
            if scope is None
            else discord.http.Route(
                "GET",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                app_id=app_id,
                guild_id=scope,
            )
        )
        held = cast(
            list[dict[str, Any]],
            await http.request(route, params={"with_localizations": "true"}),
        )
        names = sorted(str(c.get("name")) for c in held)
        if held_matches(payload, held) or (
            await self._load_state(key) == wanted and names == sorted(p["name"] for p in payload)
        ):
            log.info("discord_commands_unchanged", scope=scope or "global", count=len(payload))
        elif scope is None:
            await http.bulk_upsert_global_commands(app_id, cast(Any, payload))
            log.info("discord_commands_synced", scope="global", count=len(payload))
        else:
            await http.bulk_upsert_guild_commands(app_id, scope, cast(Any, payload))
            log.info("discord_commands_synced", scope=scope, count=len(payload))
        await self._save_state(key, wanted)

    # -- what arrives ----------------------------------------------------------------------

    async def _on_message(self, message: discord.Message) -> None:
        client = self.client
        core = self.core
        if core is None or client is None or client.user is None:
            return
        if message.author.bot or message.author.id == client.user.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        # the bot's own role, picked in the @ menu, mentions the bot too
        own_role = message.guild.self_role if message.guild is not None else None
        mention = re.compile(
            rf"<@!?{client.user.id}>" + (rf"|<@&{own_role.id}>" if own_role is not None else "")
        )
        mentions_bot = bool(mention.search(message.content))
        text = mention.sub("", message.content).strip() if mentions_bot else message.content
        if not text and not mentions_bot:
            return  # an attachment, or content hidden without the message-content intent
        text = await self._readable(
            text,
            message.guild,
            known=list(message.mentions),
            keep_users=self._takes_a_member(text),
        )
        incoming = Incoming(
            platform=self.platform,
            member=self._member(message.author),
            room=self._message_room(message),
            text=text,
            event_id=str(message.id),
            mentions_bot=mentions_bot,
            handle=message,
        )
        await self._spawn(core.handle(incoming))

    async def _on_interaction(self, interaction: Interaction) -> None:
        if interaction.type is discord.InteractionType.application_command:
            await self._on_slash(interaction)
        elif interaction.type is discord.InteractionType.autocomplete:
            await self._on_autocomplete(interaction)
        elif interaction.type is discord.InteractionType.modal_submit:
            await self._on_orphan_modal(interaction)
        # buttons and live modals are dispatched by discord.py to the dynamic items and modals
