"""Discord, through an unmodified discord.py.

Every registry command works two ways: typed with the prefix in a message (``!tz set lagos``)
and as a slash command generated from the same declaration (``/tz set zone:lagos``, see
:mod:`adapters.discord_slash`).  Slash commands, button clicks and form submits are
interactions: the handler runs at once and, if it hasn't answered within ``defer_after``
seconds, the interaction is deferred (ephemeral for private commands) and answered by a
follow-up, so Discord's 3-second limit is always met.

Buttons carry their command in the custom id (``wmlib:cmd:rsvp 12 yes``) and are handled by
discord.py dynamic items, so clicks keep working after a restart.  Forms open as modals, five
fields per page; answers of earlier pages wait in memory until the last page is submitted.

Nothing is ever pinged by accident: every send has ``AllowedMentions.none()``, except that a
reply mentioning the member it answers may ping that one member.

This module is imported only when the Discord adapter is enabled; the core never imports
discord.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

import discord
import discord.gateway
import discord.http
import msgspec
import yarl

from adapters.discord_render import mentioned_ids, render, split_content
from adapters.discord_slash import (
    SlashCommands,
    build_slash,
    choice_suggestions,
    command_text,
    read_options,
    zone_suggestions,
)
from chatbot.base.config import adapter_settings, secret_from_env
from chatbot.base.errors import ConfigError, UserError
from chatbot.base.logs import get_logger, register_secret
from chatbot.dispatch.adapter import (
    Capabilities,
    EventInterest,
    EventInterestHook,
    EventRecurrence,
    EventRef,
    EventSpec,
    Sent,
)
from chatbot.dispatch.converters import Choice
from chatbot.dispatch.registry import Resolved
from chatbot.messages.events import Form, Incoming, Member, Outgoing, Reply, Room

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Core

log = get_logger("adapters.discord")

Interaction = discord.Interaction[discord.Client]
ButtonItem = discord.ui.Button[discord.ui.View]

MESSAGE_CONTENT_HINT = (
    "Discord refused the privileged message-content intent, so prefix commands (like !help) "
    "can't be read; slash commands still work. To enable prefix commands, open the Discord "
    "developer portal, select the application, go to Bot > Privileged Gateway Intents, turn on "
    "MESSAGE CONTENT INTENT and restart the bot."
)
FORM_EXPIRED = (
    "This form has expired (I may have restarted). Run the command again to get a fresh one."
)
UNKNOWN_SLASH = "I don't know this command any more. Discord may still be updating its list."
FIELDS_PER_PAGE = 5
MODAL_TIMEOUT = 30 * 60.0
MAX_REMEMBERED = 1000
MAX_CUSTOM_ID = 100
MAX_BUTTONS = 25
_FORM_KEY = re.compile(r"[\w.\-]{1,60}")
_MODAL_ID = re.compile(r"wmlib:modal:(?P<page>\d{1,3}):(?P<user>\d{1,20}):(?P<key>[\w.\-]+)")
#: ``state`` keys: a form by its key, and a member's answers to its first pages
FORM_STATE = "discord:form:"
ANSWERS_STATE = "discord:answers:"
#: how long a member's half-filled form is kept
ANSWERS_KEPT = timedelta(days=7)
_INTEREST_MARK = '"GUILD_SCHEDULED_EVENT_USER_'
#: Discord's recurrence frequencies (YEARLY = 0 is not produced by meetings)
_FREQUENCIES = {"monthly": 1, "weekly": 2, "daily": 3}
_EXTERNAL = 3
_GUILD_ONLY = 2
_BUTTON_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class DiscordSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[adapters.discord]``."""

    #: environment variable holding the bot token
    token_env: str = "DISCORD_TOKEN"
    #: guilds whose slash commands are synced (``sync_commands = "guild"``); empty: all joined
    guild_ids: list[int] = msgspec.field(default_factory=list)
    #: role names or ids whose members are organisers (besides Manage Events / Administrator)
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


# -- discord.py clients and UI items ----------------------------------------------------------


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
        if _INTEREST_MARK in msg:
            await self.adapter._on_raw_interest(msg)


class _Client(_Events, discord.Client):
    pass


class _ShardedClient(_Events, discord.AutoShardedClient):
    pass


def _adapter_of(interaction: Interaction) -> DiscordAdapter:
    client = interaction.client
    if not isinstance(client, _Events):
        raise RuntimeError("interaction from a client the Discord adapter did not create")
    return client.adapter


class CommandButton(
    discord.ui.DynamicItem[ButtonItem],
    template=re.compile(r"wmlib:(?P<kind>cmd|ref):(?P<value>.+)", re.DOTALL),
):
    """A button that runs a command as the member who clicks it (survives restarts)."""

    def __init__(self, custom_id: str, label: str = "Run", style: str = "secondary") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80] or "Run",
                style=_BUTTON_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=custom_id,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CommandButton:
        return cls(match.group(0))

    async def callback(self, interaction: Interaction) -> None:
        await _adapter_of(interaction)._on_command_button(interaction, self.custom_id)


class FormButton(
    discord.ui.DynamicItem[ButtonItem], template=re.compile(r"wmlib:form:(?P<key>[\w.\-]+)")
):
    """The "Open form" button under a reply that carries a :class:`Form`."""

    def __init__(self, key: str, label: str = "Open form") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"wmlib:form:{key}"
            )
        )
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FormButton:
        return cls(match["key"])

    async def callback(self, interaction: Interaction) -> None:
        await _adapter_of(interaction)._open_form(interaction, self.key, 0)


class PageButton(
    discord.ui.DynamicItem[ButtonItem],
    template=re.compile(r"wmlib:page:(?P<page>\d{1,3}):(?P<key>[\w.\-]+)"),
):
    """The "Next page" button after a page of a long form was submitted."""

    def __init__(self, key: str, page: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Next page",
                style=discord.ButtonStyle.primary,
                custom_id=f"wmlib:page:{page}:{key}",
            )
        )
        self.key = key
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(match["key"], int(match["page"]))

    async def callback(self, interaction: Interaction) -> None:
        await _adapter_of(interaction)._open_form(interaction, self.key, self.page)


def page_count(form: Form) -> int:
    return max(1, -(-len(form.fields) // FIELDS_PER_PAGE))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FormModal(discord.ui.Modal):
    """One page (up to five fields) of a :class:`Form`."""

    def __init__(
        self,
        adapter: DiscordAdapter,
        form: Form,
        key: str,
        page: int,
        user_id: int,
        answers: Mapping[str, str],
    ) -> None:
        pages = page_count(form)
        title = form.title if pages == 1 else f"{form.title} ({page + 1}/{pages})"
        super().__init__(
            title=_clip(title or "Form", 45),
            timeout=MODAL_TIMEOUT,
            custom_id=f"wmlib:modal:{page}:{user_id}:{key}"[:MAX_CUSTOM_ID],
        )
        self.adapter = adapter
        self.form = form
        self.key = key
        self.page = page
        adapter._live_modals[self.custom_id] = None
        _trim(adapter._live_modals)
        start = page * FIELDS_PER_PAGE
        for spec in form.fields[start : start + FIELDS_PER_PAGE]:
            default = answers.get(spec.key) or spec.default
            self.add_item(
                discord.ui.TextInput(
                    label=_clip(spec.label or spec.key, 45),
                    style=discord.TextStyle.paragraph if spec.long else discord.TextStyle.short,
                    custom_id=spec.key[:MAX_CUSTOM_ID],
                    placeholder=_clip(spec.placeholder, 100) or None,
                    default=default[:4000] or None,
                    required=spec.required,
                    max_length=max(1, min(spec.max_length, 4000)),
                )
            )

    async def on_submit(self, interaction: Interaction, /) -> None:
        answers = {
            item.custom_id: item.value
            for item in self.children
            if isinstance(item, discord.ui.TextInput)
        }
        await self.adapter._form_page_submitted(
            interaction, self.form, self.key, self.page, answers
        )

    async def on_timeout(self) -> None:
        # a submit after this reaches the adapter's own handler (see _on_orphan_modal)
        self.adapter._live_modals.pop(self.custom_id, None)


@dataclasses.dataclass(eq=False)
class _Pending:
    """An interaction being answered: one lock orders the deferral and the replies."""

    private: bool
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    answered: bool = False


# -- the adapter ------------------------------------------------------------------------------


class DiscordAdapter:
    platform = "discord"
    capabilities = Capabilities(
        rich_text=True,
        native_timestamps=True,
        forms=True,
        threads=False,
        direct_messages=True,
        reactions=False,
        buttons=True,
    )

    def __init__(self, config: Config) -> None:
        self.settings = load_settings(config)
        self.prefix = config.bot.prefix
        self.client: discord.Client | None = None
        self.core: Core | None = None
        self.slash = SlashCommands()
        #: whether the connected session has the message-content intent
        self.message_content = self.settings.message_content
        self._started: Callable[[], None] | None = None
        self._ready = False
        self._stopping = False
        self._pending: dict[int, _Pending] = {}
        self._forms: dict[str, Form] = {}
        self._answers: dict[tuple[int, str], dict[str, str]] = {}
        #: custom ids of the modals this process opened (discord.py dispatches their submits)
        self._live_modals: dict[str, None] = {}
        self._long_commands: dict[str, str] = {}
        self._inflight: set[asyncio.Future[None]] = set()
        #: set by a feature module: a member marked or unmarked one of our scheduled events
        self.on_event_interest: EventInterestHook | None = None

    @property
    def publishes_events(self) -> bool:
        return self.settings.scheduled_events

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

    def _require_client(self) -> discord.Client:
        if self.client is None:
            raise RuntimeError("the Discord adapter is not running")
        return self.client

    async def _on_ready(self) -> None:
        if self._ready:
            return
        self._ready = True
        client = self._require_client()
        try:
            await self._sync_commands(client)
        except discord.HTTPException as exc:
            log.warning("discord_sync_failed", status=exc.status, error=exc.text)
        log.info(
            "discord_ready",
            user=str(client.user),
            guilds=len(client.guilds),
            message_content=self.message_content,
        )
        if self._started is not None:
            self._started()

    async def _sync_commands(self, client: discord.Client) -> None:
        """Bulk-overwrite the slash commands per configured guild, or globally."""
        mode = self.settings.sync_commands
        app_id = client.application_id
        if mode == "off" or app_id is None:
            return
        payload = cast(Any, self.slash.payloads)
        if mode == "global":
            await client.http.bulk_upsert_global_commands(app_id, payload)
            log.info("discord_commands_synced", scope="global", count=len(payload))
            return
        for guild_id in self.settings.guild_ids or [g.id for g in client.guilds]:
            await client.http.bulk_upsert_guild_commands(app_id, guild_id, payload)
            log.info("discord_commands_synced", scope=guild_id, count=len(payload))

    # -- identities ------------------------------------------------------------------------

    def _member(self, user: discord.User | discord.Member) -> Member:
        return Member(f"discord:{user.id}", self.platform, user.display_name)

    def _room(self, channel: object, channel_id: int, is_direct: bool) -> Room:
        if is_direct:
            recipient = getattr(channel, "recipient", None)
            name = f"DM {recipient.name}" if recipient is not None else f"DM {channel_id}"
        else:
            name = f"#{getattr(channel, 'name', None) or channel_id}"
        return Room(f"discord:{channel_id}", self.platform, name, is_direct=is_direct)

    def _message_room(self, message: discord.Message) -> Room:
        channel = message.channel
        return self._room(channel, channel.id, isinstance(channel, discord.DMChannel))

    def _interaction_incoming(
        self, interaction: Interaction, text: str, form_values: dict[str, str] | None = None
    ) -> Incoming:
        channel_id = interaction.channel_id or 0
        room = self._room(interaction.channel, channel_id, interaction.guild_id is None)
        return Incoming(
            platform=self.platform,
            member=self._member(interaction.user),
            room=room,
            text=text,
            event_id=str(interaction.id),
            form_values=form_values,
            handle=interaction,
            ephemeral=True,  # interactions can be answered so that only the member sees it
        )

    # -- messages --------------------------------------------------------------------------

    async def _on_message(self, message: discord.Message) -> None:
        client = self.client
        core = self.core
        if core is None or client is None or client.user is None:
            return
        if message.author.bot or message.author.id == client.user.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        mention = re.compile(rf"<@!?{client.user.id}>")
        mentions_bot = bool(mention.search(message.content))
        text = mention.sub("", message.content).strip() if mentions_bot else message.content
        if not text and not mentions_bot:
            return  # an attachment, or content hidden without the message-content intent
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

    # -- interactions ----------------------------------------------------------------------

    async def _on_interaction(self, interaction: Interaction) -> None:
        if interaction.type is discord.InteractionType.application_command:
            await self._on_slash(interaction)
        elif interaction.type is discord.InteractionType.autocomplete:
            await self._on_autocomplete(interaction)
        elif interaction.type is discord.InteractionType.modal_submit:
            await self._on_orphan_modal(interaction)
        # buttons and live modals are dispatched by discord.py to the dynamic items and modals

    async def _on_slash(self, interaction: Interaction) -> None:
        data = cast(Mapping[str, Any], interaction.data or {})
        sub, values, _focused = read_options(data)
        target = self.slash.target(str(data.get("name", "")), sub)
        if target is None:
            await interaction.response.send_message(
                UNKNOWN_SLASH, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        text = self.prefix + command_text(target, values)
        incoming = self._interaction_incoming(interaction, text)
        await self._run_interaction(interaction, incoming, private=target.command.private)

    async def _on_autocomplete(self, interaction: Interaction) -> None:
        data = cast(Mapping[str, Any], interaction.data or {})
        sub, values, focused = read_options(data)
        target = self.slash.target(str(data.get("name", "")), sub)
        option = target.option(focused) if target is not None and focused else None
        typed = str(values.get(focused or "") or "")
        pairs: list[tuple[str, str]] = []
        if option is not None and option.complete == "zone":
            pairs = zone_suggestions(typed)
        elif option is not None and isinstance(option.param.converter, Choice):
            pairs = choice_suggestions(option.param.converter.options, typed)
        choices = [discord.app_commands.Choice(name=name, value=value) for name, value in pairs]
        await interaction.response.autocomplete(choices)

    async def _run_interaction(
        self, interaction: Interaction, incoming: Incoming, *, private: bool
    ) -> None:
        """Answer through the core; defer when the handler is slow, so the reply can follow."""
        core = self.core
        if core is None:
            return
        pending = _Pending(private)
        self._pending[interaction.id] = pending
        try:
            work = self._spawn(core.handle(incoming))
            done, _ = await asyncio.wait({work}, timeout=self.settings.defer_after)
            if not done:
                async with pending.lock:
                    if not interaction.response.is_done():
                        await interaction.response.defer(ephemeral=private, thinking=True)
            await work
            async with pending.lock:
                if not pending.answered:
                    await self._acknowledge(interaction)
        finally:
            self._pending.pop(interaction.id, None)

    async def _acknowledge(self, interaction: Interaction) -> None:
        """The handler had nothing to say (e.g. flood control): close the interaction."""
        response = interaction.response
        if response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        elif interaction.type is discord.InteractionType.application_command:
            await response.send_message(
                "Done.", ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await response.defer()

    def _spawn(self, work: Awaitable[None]) -> asyncio.Future[None]:
        """Run handler work so that :meth:`stop` can let it finish first."""
        future = asyncio.ensure_future(work)
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)
        return future

    def _command_of(self, text: str) -> Resolved | None:
        core = self.core
        body = text.removeprefix(self.prefix).strip()
        if core is None or not body:
            return None
        name, _, raw = body.partition(" ")
        try:
            resolved = core.registry.resolve(name.casefold(), raw)
        except UserError:
            return None
        return resolved if isinstance(resolved, Resolved) else None

    async def _on_command_button(self, interaction: Interaction, custom_id: str) -> None:
        kind, _, value = custom_id.removeprefix("wmlib:").partition(":")
        command = self._long_commands.get(value) if kind == "ref" else value
        if command is None:
            await interaction.response.send_message(
                FORM_EXPIRED.replace("form", "button"),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        resolved = self._command_of(command)
        incoming = self._interaction_incoming(interaction, self.prefix + command)
        private = resolved is not None and resolved.command.private
        await self._run_interaction(interaction, incoming, private=private)

    # -- forms -----------------------------------------------------------------------------

    def _remember_form(self, form: Form) -> str:
        key = form.id if _FORM_KEY.fullmatch(form.id) else _digest(form.id)
        self._forms.pop(key, None)
        self._forms[key] = form
        _trim(self._forms)
        return key

    async def _keep_form(self, form: Form) -> str:
        """Remember a form here and in the database, so that its button, its modal and its
        later pages still work after a restart (a member may take minutes to fill it in)."""
        key = self._remember_form(form)
        await self._save_state(FORM_STATE + key, msgspec.json.encode(form).decode())
        return key

    async def _form(self, key: str) -> Form | None:
        form = self._forms.get(key)
        if form is None:
            raw = await self._load_state(FORM_STATE + key)
            if raw is not None:
                with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                    form = msgspec.json.decode(raw, type=Form)
                    self._forms[key] = form
                    _trim(self._forms)
        return form

    async def _answers_so_far(self, user_id: int, key: str) -> dict[str, str] | None:
        """The pages a member already submitted, or None when they have not started."""
        slot = (user_id, key)
        if slot in self._answers:
            return dict(self._answers[slot])
        raw = await self._load_state(f"{ANSWERS_STATE}{user_id}:{key}")
        if raw is None:
            return None
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            return msgspec.json.decode(raw, type=dict[str, str])
        return None

    async def _save_state(self, key: str, value: str) -> None:
        core = self.core
        if core is None:
            return
        try:
            await core.db.set_state(key, value)
        except Exception:  # the form still works until a restart
            log.exception("discord_state_not_saved", key=key)

    async def _load_state(self, key: str) -> str | None:
        core = self.core
        if core is None:
            return None
        try:
            return await core.db.get_state(key)
        except Exception:
            log.exception("discord_state_not_read", key=key)
            return None

    def _modal(self, interaction: Interaction, key: str, page: int) -> FormModal | None:
        form = self._forms.get(key)
        if form is None or page >= page_count(form):
            return None
        answers = self._answers.get((interaction.user.id, key), {}) if page else {}
        return FormModal(self, form, key, page, interaction.user.id, answers)

    async def _open_form(self, interaction: Interaction, key: str, page: int) -> None:
        form = await self._form(key)
        answers = await self._answers_so_far(interaction.user.id, key) if page else {}
        if form is None or page >= page_count(form) or answers is None:
            await interaction.response.send_message(
                FORM_EXPIRED, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        modal = FormModal(self, form, key, page, interaction.user.id, answers)
        await interaction.response.send_modal(modal)

    async def _on_orphan_modal(self, interaction: Interaction) -> None:
        """A form page opened before a restart: read its answers from the raw interaction."""
        data = cast(Mapping[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        match = _MODAL_ID.fullmatch(custom_id)
        if match is None or custom_id in self._live_modals:
            return
        if match["user"] != str(interaction.user.id):
            return
        key, page = match["key"], int(match["page"])
        form = await self._form(key)
        if form is None:
            await interaction.response.send_message(
                FORM_EXPIRED, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        await self._form_page_submitted(interaction, form, key, page, _modal_values(data))

    async def _form_page_submitted(
        self, interaction: Interaction, form: Form, key: str, page: int, answers: dict[str, str]
    ) -> None:
        user_id = interaction.user.id
        slot = (user_id, key)
        so_far = {} if page == 0 else await self._answers_so_far(user_id, key)
        if so_far is None:
            await interaction.response.send_message(
                FORM_EXPIRED, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        so_far.update(answers)
        pages = page_count(form)
        state_key = f"{ANSWERS_STATE}{user_id}:{key}"
        if page + 1 < pages:
            self._answers.pop(slot, None)
            self._answers[slot] = so_far
            _trim(self._answers)
            await self._save_state(state_key, json.dumps(so_far))  # before saying "saved"
            if page == 0 and self.core is not None:
                with contextlib.suppress(Exception):
                    await self.core.db.prune_state(ANSWERS_STATE, ANSWERS_KEPT)
            view = discord.ui.View(timeout=None)
            view.add_item(PageButton(key, page + 1))
            await interaction.response.send_message(
                f"Page {page + 1} of {pages} saved. Go on with the next page.",
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        self._answers.pop(slot, None)
        if page and self.core is not None:  # the answers now go to the command
            with contextlib.suppress(Exception):
                await self.core.db.drop_state(state_key)
        resolved = self._command_of(self.prefix + form.command)
        incoming = self._interaction_incoming(interaction, self.prefix + form.command, so_far)
        private = resolved is not None and resolved.command.private
        await self._run_interaction(interaction, incoming, private=private)

    # -- sending ---------------------------------------------------------------------------

    def _allowed_mentions(self, out: Outgoing) -> discord.AllowedMentions:
        """Nobody, except the member being answered when the reply mentions them."""
        target = out.in_reply_to.member if out.in_reply_to is not None else None
        if (
            target is not None
            and target.platform == self.platform
            and target.native_id.isdigit()
            and target.id in mentioned_ids(out.reply)
        ):
            return discord.AllowedMentions(
                everyone=False,
                users=[discord.Object(id=int(target.native_id))],
                roles=False,
                replied_user=False,
            )
        return discord.AllowedMentions.none()

    def _button_id(self, command: str) -> str:
        custom_id = f"wmlib:cmd:{command}"
        if len(custom_id) <= MAX_CUSTOM_ID:
            return custom_id
        digest = _digest(command)
        self._long_commands[digest] = command
        _trim(self._long_commands)
        log.warning("discord_button_command_too_long", command=command[:60])
        return f"wmlib:ref:{digest}"

    def _view(self, reply: Reply) -> discord.ui.View | None:
        items: list[discord.ui.Item[Any]] = []
        if reply.form is not None:
            items.append(FormButton(self._remember_form(reply.form)))
        for button in reply.buttons[: MAX_BUTTONS - len(items)]:
            items.append(CommandButton(self._button_id(button.command), button.label, button.style))
        if not items:
            return None
        view = discord.ui.View(timeout=None)
        for item in items:
            view.add_item(item)
        return view

    async def send(self, out: Outgoing) -> Sent | None:
        """Post a reply; Discord refusing it (missing access, deleted channel, bad request)
        is logged and gives None, while server errors propagate so the caller may retry."""
        try:
            return await self._send(out)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning(
                "discord_send_refused",
                room=out.room.id,
                status=exc.status,
                code=exc.code,
                error=exc.text[:200],
            )
            return None

    async def _send(self, out: Outgoing) -> Sent | None:
        client = self._require_client()
        incoming = out.in_reply_to
        handle = incoming.handle if incoming is not None else None
        same_room = incoming is not None and incoming.room.id == out.room.id
        if (
            isinstance(handle, discord.Interaction)
            and same_room
            and (handle.id in self._pending or not handle.is_expired())
        ):
            return await self._send_interaction(handle, out)
        channel = client.get_partial_messageable(int(out.room.native_id))
        reference = (
            handle.to_reference(fail_if_not_exists=False)
            if isinstance(handle, discord.Message) and same_room
            else None
        )
        return await self._send_channel(channel, out, reference)

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        client = self._require_client()
        user_id = int(member.native_id)
        try:
            user = client.get_user(user_id) or await client.fetch_user(user_id)
            channel = user.dm_channel or await user.create_dm()
        except discord.HTTPException as exc:
            log.warning("discord_dm_failed", member=member.id, status=exc.status)
            return None
        room = Room(f"discord:{channel.id}", self.platform, f"DM {user.name}", is_direct=True)
        try:
            return await self._send_channel(channel, msgspec.structs.replace(out, room=room), None)
        except discord.Forbidden as exc:
            log.warning("discord_dm_refused", member=member.id, status=exc.status)
            return None

    async def _send_channel(
        self,
        channel: discord.abc.Messageable,
        out: Outgoing,
        reference: discord.MessageReference | None,
    ) -> Sent | None:
        chunks = _chunks(out.reply)
        if out.reply.form is not None:
            await self._keep_form(out.reply.form)
        view = self._view(out.reply)
        if not chunks and view is None:
            return None
        allowed = self._allowed_mentions(out)
        pieces = chunks or [""]
        first: Sent | None = None
        for index, chunk in enumerate(pieces):
            last = index == len(pieces) - 1
            options: dict[str, Any] = {"allowed_mentions": allowed}
            if index == 0 and reference is not None:
                options["reference"] = reference
            if last and view is not None:
                options["view"] = view
            if out.delivery_id:
                options["nonce"] = _nonce(out.delivery_id, index)  # sent with enforce_nonce
            message = await channel.send(chunk or None, **options)
            if first is None:
                first = Sent(out.room.id, str(message.id))
        return first

    async def _send_interaction(self, interaction: Interaction, out: Outgoing) -> Sent | None:
        pending = self._pending.get(interaction.id)
        lock = pending.lock if pending is not None else asyncio.Lock()
        private = out.reply.private or (pending is not None and pending.private)
        async with lock:
            response = interaction.response
            form = out.reply.form
            if (
                form is not None
                and not response.is_done()
                and interaction.type
                in (discord.InteractionType.application_command, discord.InteractionType.component)
            ):
                # nothing was sent yet: the modal itself is the answer
                modal = self._modal(interaction, await self._keep_form(form), 0)
                if modal is not None:
                    await response.send_modal(modal)
                    if pending is not None:
                        pending.answered = True
                    return Sent(out.room.id, str(interaction.id))
            chunks = _chunks(out.reply)
            if form is not None:
                await self._keep_form(form)
            view = self._view(out.reply)
            if not chunks and view is None:
                return None
            allowed = self._allowed_mentions(out)
            if private and pending is not None and not pending.private and not pending.answered:
                await self._drop_public_deferral(interaction)
            pieces = chunks or [""]
            first: Sent | None = None
            for index, chunk in enumerate(pieces):
                attach = view if index == len(pieces) - 1 and view is not None else None
                message_id = await self._interaction_message(
                    interaction, chunk, attach, private, allowed
                )
                if pending is not None:
                    pending.answered = True
                if first is None:
                    first = Sent(out.room.id, str(message_id))
            return first

    async def _drop_public_deferral(self, interaction: Interaction) -> None:
        """A private answer to a command deferred in public: the first follow-up would
        replace the public "thinking…" message, and stay public, so remove it first; the
        answer then goes out as an ephemeral follow-up of its own."""
        if interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()

    async def _interaction_message(
        self,
        interaction: Interaction,
        content: str,
        view: discord.ui.View | None,
        private: bool,
        allowed: discord.AllowedMentions,
    ) -> int | None:
        """The first answer as the interaction response, any further one as a follow-up."""
        if not interaction.response.is_done():
            if view is not None:
                callback = await interaction.response.send_message(
                    content or None, view=view, ephemeral=private, allowed_mentions=allowed
                )
            else:
                callback = await interaction.response.send_message(
                    content or None, ephemeral=private, allowed_mentions=allowed
                )
            return callback.message_id
        if view is not None:
            message = await interaction.followup.send(
                content or discord.utils.MISSING,
                view=view,
                ephemeral=private,
                allowed_mentions=allowed,
                wait=True,
            )
        else:
            message = await interaction.followup.send(
                content, ephemeral=private, allowed_mentions=allowed, wait=True
            )
        return message.id

    # -- members and permissions -----------------------------------------------------------

    def _guild_channel(self, room: Room) -> discord.abc.GuildChannel | discord.Thread | None:
        if room.is_direct or not room.native_id.isdigit():
            return None
        channel = self._require_client().get_channel(int(room.native_id))
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return channel
        return None

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
                if guild is not None:
                    return self._member(
                        guild.get_member(user_id) or await guild.fetch_member(user_id)
                    )
                return self._member(client.get_user(user_id) or await client.fetch_user(user_id))
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

    # -- scheduled events ------------------------------------------------------------------

    def event_scope(self, room: Room) -> str | None:
        """The guild of a channel room (from the gateway cache), None for DMs and unknowns."""
        if room.platform != self.platform or self.client is None:
            return None
        channel = self._guild_channel(room)
        return str(channel.guild.id) if channel is not None else None

    async def publish_event(self, scope: str, spec: EventSpec) -> EventRef:
        """Create an external Guild Scheduled Event; raises :class:`discord.HTTPException`
        (e.g. 403 without Manage Events) so the caller's job retries."""
        client = self._require_client()
        if spec.key:
            # a publish whose answer was lost (crash, timeout) left an event: adopt it
            found = await self._our_event(client, scope, spec.key)
            if found is not None:
                return await self.update_event(EventRef(scope, found), spec)
        body = _event_body(spec)
        route = discord.http.Route("POST", "/guilds/{guild_id}/scheduled-events", guild_id=scope)
        data = await client.http.request(route, json=body)
        log.info("discord_event_published", guild=scope, event_id=data["id"])
        return EventRef(scope, str(data["id"]), recurring=body.get("recurrence_rule") is not None)

    async def _our_event(self, client: discord.Client, scope: str, key: str) -> str | None:
        route = discord.http.Route("GET", "/guilds/{guild_id}/scheduled-events", guild_id=scope)
        mark = _event_mark(key)
        me = str(client.user.id) if client.user is not None else ""
        for event in await client.http.request(route):
            description = str(event.get("description") or "")
            if str(event.get("creator_id")) == me and description.endswith(mark):
                return str(event["id"])
        return None

    async def update_event(self, ref: EventRef, spec: EventSpec) -> EventRef:
        body = _event_body(spec)
        if ref.recurring and body.get("recurrence_rule") is None:
            body["recurrence_rule"] = None  # no longer expressible: drop the old rule
        route = discord.http.Route(
            "PATCH",
            "/guilds/{guild_id}/scheduled-events/{event_id}",
            guild_id=ref.scope,
            event_id=ref.event_id,
        )
        try:
            await self._require_client().http.request(route, json=body)
        except discord.NotFound:
            raise LookupError(ref.event_id) from None
        return EventRef(ref.scope, ref.event_id, recurring=body.get("recurrence_rule") is not None)

    async def cancel_event(self, ref: EventRef) -> None:
        route = discord.http.Route(
            "DELETE",
            "/guilds/{guild_id}/scheduled-events/{event_id}",
            guild_id=ref.scope,
            event_id=ref.event_id,
        )
        with contextlib.suppress(discord.NotFound):
            await self._require_client().http.request(route)

    async def _on_raw_interest(self, msg: str) -> None:
        hook = self.on_event_interest
        if hook is None:
            return
        try:
            data = json.loads(msg)
            kind = data["t"]
            body = data["d"]
            guild_id = int(body["guild_id"])
            user_id = int(body["user_id"])
            event_id = str(body["guild_scheduled_event_id"])
        except (ValueError, KeyError, TypeError):
            return
        if kind not in ("GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE"):
            return
        member = await self._member_by_id(guild_id, user_id)
        interest = EventInterest(
            self.platform,
            str(guild_id),
            event_id,
            member,
            interested=kind.endswith("_ADD"),
        )
        await self._spawn(hook(interest))

    async def _member_by_id(self, guild_id: int, user_id: int) -> Member:
        """The member with their display name; just the id when Discord won't say."""
        client = self._require_client()
        guild = client.get_guild(guild_id)
        try:
            if guild is not None:
                return self._member(guild.get_member(user_id) or await guild.fetch_member(user_id))
            return self._member(client.get_user(user_id) or await client.fetch_user(user_id))
        except discord.HTTPException as exc:
            log.warning("discord_member_unknown", user=user_id, status=exc.status)
            return Member(f"discord:{user_id}", self.platform, str(user_id))


def _event_body(spec: EventSpec) -> dict[str, Any]:
    """The REST body of an external event; the recurrence only within Discord's subset."""
    mark = _event_mark(spec.key) if spec.key else ""
    body: dict[str, Any] = {
        "name": _clip(spec.title, 100),
        "description": _clip(spec.description, 1000 - len(mark)) + mark,
        "privacy_level": _GUILD_ONLY,
        "entity_type": _EXTERNAL,
        "entity_metadata": {"location": _clip(spec.location, 100)},
        "scheduled_start_time": spec.starts_at.isoformat(),
        "scheduled_end_time": spec.ends_at.isoformat(),
    }
    rule = recurrence_rule(spec.recurrence, spec.starts_at.isoformat())
    if rule is not None:
        body["recurrence_rule"] = rule
    return body


def _event_mark(key: str) -> str:
    """The last line of an event's description naming what it publishes (Discord events
    carry no hidden metadata)."""
    return f"\n(ref {key})"


def recurrence_rule(recurrence: EventRecurrence | None, start: str) -> dict[str, Any] | None:
    """Discord's recurrence rule for ``recurrence``, or None outside the subset Discord
    accepts: every day; every week or two on one weekday; monthly on the 1st–5th weekday."""
    if recurrence is None or recurrence.frequency not in _FREQUENCIES:
        return None
    rule: dict[str, Any] = {
        "start": start,
        "end": None,
        "frequency": _FREQUENCIES[recurrence.frequency],
        "interval": recurrence.interval,
        "by_weekday": None,
        "by_n_weekday": None,
        "by_month": None,
        "by_month_day": None,
        "by_year_day": None,
        "count": None,
    }
    weekday = recurrence.weekday
    if recurrence.frequency == "daily":
        return rule if recurrence.interval == 1 else None
    if weekday is None or not 0 <= weekday <= 6:
        return None
    if recurrence.frequency == "weekly":
        if recurrence.interval not in (1, 2):
            return None
        rule["by_weekday"] = [weekday]
        return rule
    nth = recurrence.nth
    if recurrence.interval != 1 or nth is None or not 1 <= nth <= 5:
        return None
    rule["by_n_weekday"] = [{"n": nth, "day": weekday}]
    return rule


def _chunks(reply: Reply) -> list[str]:
    content = render(reply)
    return split_content(content) if content else []


def _nonce(delivery_id: str, index: int) -> str:
    """A Discord nonce (at most 25 characters) stable for one delivery and piece."""
    return hashlib.sha256(f"{delivery_id}\x00{index}".encode()).hexdigest()[:25]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _modal_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The text inputs of a raw modal submit (in action rows or labels, at any depth)."""
    values: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "custom_id" in node and isinstance(node.get("value"), str):
                values[str(node["custom_id"])] = node["value"]
            for child in node.get("components", []), node.get("component"):
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data.get("components", []))
    return values


def _trim(remembered: dict[Any, Any]) -> None:
    """Forget the oldest entries beyond :data:`MAX_REMEMBERED`."""
    while len(remembered) > MAX_REMEMBERED:
        del remembered[next(iter(remembered))]
