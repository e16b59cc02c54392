"""What every part of the Discord adapter shares: its state (declared here, in one place),
who and where an event comes from, and running the core's handler for an interaction,
deferring the answer when the handler is slow."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from adapters.discord.render import message_markdown
from adapters.discord.settings import load_settings
from adapters.discord.slash import SlashCommands
from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _
from chatbot.dispatch.adapter import EventInterestHook
from chatbot.dispatch.registry import Resolved
from chatbot.messages.events import Form, Incoming, Member, Room
from chatbot.storage.members import store_of

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Core

Interaction = discord.Interaction[discord.Client]
ButtonItem = discord.ui.Button[discord.ui.View]

FORM_EXPIRED = _(
    "This form has expired (I may have restarted). Run the command again to get a fresh one."
)
BUTTON_EXPIRED = _(
    "This button has expired (I may have restarted). Run the command again to get a fresh one."
)
DONE = _("Done.")
#: Discord's guild feature flag of a Community server, the only kind whose members choose
#: its primary language (``preferred_locale``); elsewhere it is Discord's default, en-US
COMMUNITY = "COMMUNITY"
MAX_REMEMBERED = 1000
MAX_CUSTOM_ID = 100

_Part = TypeVar("_Part")


@dataclasses.dataclass(eq=False)
class _Pending:
    """An interaction being answered: one lock orders the deferral and the replies."""

    private: bool
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    answered: bool = False


class DiscordBase:
    """The adapter's state and the helpers its parts (the other modules) share."""

    platform = "discord"

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

    def _require_client(self) -> discord.Client:
        if self.client is None:
            raise RuntimeError("the Discord adapter is not running")
        return self.client

    # -- who and where ---------------------------------------------------------------------

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

    def _guild_channel(self, room: Room) -> discord.abc.GuildChannel | discord.Thread | None:
        if room.is_direct or not room.native_id.isdigit():
            return None
        channel = self._require_client().get_channel(int(room.native_id))
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return channel
        return None

    def _room_locale(self, guild: discord.Guild | None) -> str | None:
        """A Community server's primary language, the language of its channels where the
        config's ``bot.room_languages`` names none (other servers have no real choice: their
        ``preferred_locale`` is always Discord's en-US, which must not override
        ``bot.language``)."""
        if guild is None or COMMUNITY not in guild.features:
            return None
        return str(guild.preferred_locale)

    async def _lang_of(self, interaction: Interaction) -> str | None:
        """The language of the adapter's own words to the member of an interaction: their
        ``!lang``, else the language their Discord app is set to."""
        store = store_of(self.core)
        if store is not None:
            try:
                lang = (await store.prefs(self._member(interaction.user))).lang
            except Exception:  # the database is down: the app's language will do
                lang = None
            if lang:
                return lang
        return str(interaction.locale)

    async def _say(self, interaction: Interaction, text: Msg) -> None:
        """A short ephemeral answer of the adapter's own, in the member's language."""
        lang = await self._lang_of(interaction)
        await say_privately(interaction, message_markdown(text, lang))

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
            locale=str(interaction.locale),  # e.g. "es-ES": the language of the member's app
        )

    # -- handing work to the core ----------------------------------------------------------

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
            await self._say(interaction, DONE)
        else:
            await response.defer()


def owner_of(interaction: Interaction, part: type[_Part]) -> _Part:
    """The adapter whose client received ``interaction``, as one of its parts: how buttons
    and modals (which discord.py builds itself from custom ids) find their way back."""
    owner = getattr(interaction.client, "adapter", None)
    if not isinstance(owner, part):
        raise RuntimeError("interaction from a client the Discord adapter did not create")
    return owner


async def say_privately(interaction: Interaction, text: str) -> None:
    """Answer an interaction with a short ephemeral message that pings nobody."""
    await interaction.response.send_message(
        text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )


async def find_user(
    client: discord.Client, guild: discord.Guild | None, user_id: int
) -> discord.User | discord.Member:
    """The member of ``guild`` (without a guild: the user), cached or else fetched; raises
    :class:`discord.NotFound` (an :class:`discord.HTTPException`) for nobody."""
    if guild is not None:
        return guild.get_member(user_id) or await guild.fetch_member(user_id)
    return client.get_user(user_id) or await client.fetch_user(user_id)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def trim(remembered: dict[Any, Any]) -> None:
    """Forget the oldest entries beyond :data:`MAX_REMEMBERED`."""
    while len(remembered) > MAX_REMEMBERED:
        del remembered[next(iter(remembered))]
