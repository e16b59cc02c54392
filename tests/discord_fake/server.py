"""``FakeDiscord``: a protocol-level fake of Discord (REST + gateway) for discord.py tests.

One instance models one bot application: a bot user, guilds with roles, channels and
members, DM channels, messages, registered application commands and scheduled events.
Tests inject user actions (messages, slash commands, button clicks, modal submits,
autocomplete) and await what the bot did, which is recorded in order.

The ``wait_for_*`` coroutines take a ``timeout`` in seconds (hence the ASYNC109 noqa) and
raise ``WaitTimeout`` (an AssertionError) listing what was recorded; they wait on an
``asyncio.Condition`` notified by every recording, never by polling.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from tests.discord_fake.gateway import (
    CLOSE_UNKNOWN_ERROR,
    OP_INVALID_SESSION,
    OP_RECONNECT,
    Gateway,
    GatewaySession,
)
from tests.discord_fake.interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    ATTACHMENT,
    CHANNEL,
    MENTIONABLE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    ROLE,
    USER,
    ModalValue,
    OptionValue,
    PendingInteraction,
    component_type_in,
    find_schema_options,
    modal_submit_components,
    nest_options,
    option_type_of,
)
from tests.discord_fake.models import (
    ADMINISTRATOR,
    DEFAULT_EVERYONE_PERMISSIONS,
    EVERYONE_MENTION,
    JSON,
    ROLE_MENTION,
    USER_MENTION,
    Channel,
    ChannelType,
    Guild,
    Intent,
    Member,
    Role,
    SnowflakeGenerator,
    User,
    iso,
    now_iso,
    snowflake_time,
)
from tests.discord_fake.records import (
    EPHEMERAL,
    CommandSync,
    InteractionResponse,
    MessageAction,
    MessageSource,
    RecordedFile,
    RecordedMessage,
    RecordedReaction,
    RecordedRequest,
    WaitTimeout,
)
from tests.discord_fake.rest import RestApi

T = TypeVar("T")

_ANY: Any = object()


@dataclass
class InjectedFailure:
    """The next ``remaining`` requests matching method + route get this answer."""

    method: str
    route: str
    status: int
    body: JSON
    headers: dict[str, str]
    remaining: int

    def matches(self, method: str, route: str | None, path: str) -> bool:
        return self.remaining > 0 and self.method == method and self.route in (route, path)


class FakeDiscord:
    """A fake Discord: REST API under ``/api/v10`` and a gateway websocket, on 127.0.0.1.

    Use as ``async with FakeDiscord() as fake:`` (or ``start()``/``stop()``), then point
    discord.py at ``fake.api_base`` / ``fake.gateway_url`` (see ``harness.point_discord_at``).
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "chatbot",
        heartbeat_interval_ms: int = 41_250,
        default_world: bool = True,
        enforce_message_content_intent: bool = True,
        nonce_window: float = 300.0,
        interaction_deadline: float | None = 3.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.host = host
        self.port = 0
        self.enforce_message_content_intent = enforce_message_content_intent
        self.nonce_window = nonce_window
        #: Seconds the bot has for the first callback (Discord: 3); None disables the check.
        self.interaction_deadline = interaction_deadline
        self.snowflakes = SnowflakeGenerator()
        self.application_id = self.snowflakes.next()
        # Modern applications: the bot user shares the application's id.
        self.bot_user = User(id=self.application_id, username=bot_name, bot=True)
        self.application_name = bot_name
        self.application_owner: User | None = None

        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, Channel] = {}
        self.messages: dict[int, JSON] = {}
        self.attachment_blobs: dict[int, tuple[str, bytes]] = {}
        self.scheduled_events: dict[int, JSON] = {}
        #: users who marked each scheduled event "Interested"
        self.event_interest: dict[int, set[int]] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.interactions: dict[int, PendingInteraction] = {}

        # Records, in order.
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.sent: list[RecordedMessage] = []
        self.interaction_responses: list[InteractionResponse] = []
        self.command_syncs: list[CommandSync] = []
        self.reactions: list[RecordedReaction] = []
        self.typing: list[int] = []
        self.scheduled_event_log: list[tuple[str, JSON]] = []
        self.nonce_hits: list[RecordedRequest] = []

        self.failures: list[InjectedFailure] = []
        #: users who accept no direct messages from the bot (see :meth:`close_dms`)
        self.closed_dms: set[int] = set()
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._cond = asyncio.Condition()
        self.gateway = Gateway(self, heartbeat_interval_ms)
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None

        self.guild: Guild | None = None
        if default_world:
            self._build_default_world()

    # ================================================================ lifecycle

    async def start(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self.rest.middleware])
        app.router.add_get("/ws", self.gateway.handle)
        app.router.add_get("/ws/resume", self.gateway.handle)
        self.rest.add_routes(app.router)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self.gateway.close_all()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (also sent by GET /gateway)."""
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def resume_gateway_url(self) -> str:
        """Sent in READY; discord.py must use it to RESUME."""
        return f"ws://{self.host}:{self.port}/ws/resume"

    # ==================================================================== world

    def _build_default_world(self) -> None:
        alice = self.add_user("alice", global_name="Alice")
        bob = self.add_user("bob", global_name="Bob")
        guild = self.add_guild("Test Guild", owner=alice)
        admin = self.add_role(guild, "Admin", permissions=ADMINISTRATOR, hoist=True)
        self.add_role(guild, "Member", permissions=0)
        self.add_channel(guild, "general", topic="General chat")
        self.add_channel(guild, "events", topic="Community events")
        self.add_channel(guild, "Voice", type=ChannelType.GUILD_VOICE)
        guild.member(alice).roles.append(admin.id)
        self.add_member(guild, bob, roles=[guild.get_role("Member")])
        self.guild = guild

    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> User:
        user = User(id=self.snowflakes.next(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def user(self, key: int | str) -> User:
        """A user by id or username."""
        for user in self.users.values():
            if user.id == key or user.username == key:
                return user
        raise KeyError(f"no user {key!r}")

    def add_guild(self, name: str, *, owner: User, add_bot: bool = True) -> Guild:
        """A guild with an @everyone role, its owner as member and (by default) the bot."""
        guild_id = self.snowflakes.next()
        guild = Guild(id=guild_id, name=name, owner_id=owner.id)
        guild.roles.append(
            Role(id=guild_id, name="@everyone", permissions=DEFAULT_EVERYONE_PERMISSIONS)
        )
        self.guilds[guild_id] = guild
        self.add_member(guild, owner)
        if add_bot:
            bot_role = self.add_role(
                guild, self.bot_user.username, permissions=ADMINISTRATOR, managed=True
            )
            bot_role.bot_id = self.bot_user.id
            self.add_member(guild, self.bot_user, roles=[bot_role])
        if self.application_owner is None:
            self.application_owner = owner
        return guild

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = True,
        managed: bool = False,
    ) -> Role:
        role = Role(
            id=self.snowflakes.next(),
            name=name,
            permissions=permissions,
            position=len(guild.roles),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            managed=managed,
        )
        guild.roles.append(role)
        return role

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = ChannelType.GUILD_TEXT,
        topic: str | None = None,
        parent: Channel | None = None,
    ) -> Channel:
        channel = Channel(
            id=self.snowflakes.next(),
            type=type,
            name=name,
            guild_id=guild.id,
            position=len(guild.channels),
            topic=topic,
            parent_id=None if parent is None else parent.id,
        )
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_member(
        self,
        guild: Guild,
        user: User,
        *,
        roles: Sequence[Role] = (),
        nick: str | None = None,
    ) -> Member:
        member = guild.find_member(user.id)
        if member is None:
            member = Member(user=user, guild_id=guild.id, nick=nick)
            guild.members.append(member)
        member.roles.extend(role.id for role in roles if role.id not in member.roles)
        return member

    def dm_channel(self, user: User | int | str) -> Channel:
        """The DM channel between the bot and a user (created on first use)."""
        recipient = self._user(user)
        channel = self.dm_channels.get(recipient.id)
        if channel is None:
            channel = Channel(
                id=self.snowflakes.next(), type=ChannelType.DM, recipients=[recipient]
            )
            self.dm_channels[recipient.id] = channel
            self.channels[channel.id] = channel
        return channel

    def close_dms(self, user: User | int | str, closed: bool = True) -> None:
        """The user turns off direct messages from the servers they share with the bot:
        opening the DM channel still works, and every message the bot posts in it is refused
        with Discord's 403 ``50007 Cannot send messages to this user``."""
        recipient = self._user(user)
        if closed:
            self.closed_dms.add(recipient.id)
        else:
            self.closed_dms.discard(recipient.id)

    def _user(self, user: User | Member | int | str) -> User:
        if isinstance(user, User):
            return user
        if isinstance(user, Member):
            return user.user
        return self.user(user)

    def _channel(self, channel: Channel | int | str) -> Channel:
        if isinstance(channel, Channel):
            return channel
        if isinstance(channel, int) and channel in self.channels:
            return self.channels[channel]
        for candidate in self.channels.values():
            if candidate.name == channel:
                return candidate
        raise KeyError(f"no channel {channel!r}")

    def _default_channel(self) -> Channel:
        if self.guild is None or not self.guild.channels:
            raise ValueError("no default guild channel: pass channel=")
        return self.guild.channels[0]

    # ================================================================ recording

    async def _changed(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_until(self, find: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
        """Wait (without polling) until ``find()`` returns something other than None."""
        async with self._cond:
            try:
                async with asyncio.timeout(timeout):
                    while (found := find()) is None:
                        await self._cond.wait()
                    return found
            except TimeoutError:
                raise WaitTimeout(
                    f"timed out after {timeout}s waiting for {what}\n{self.describe()}"
                ) from None

    def describe(self, last: int = 15) -> str:
        """A summary of what was recorded, for failure messages."""
        lines = [
            f"gateway: identify={self.gateway.identify_count} resume={self.gateway.resume_count} "
            f"open connections={len(self.gateway.open_connections)}",
            "requests:",
            *(f"  {r}" for r in self.requests[-last:]),
            "bot messages:",
            *(f"  {m}" for m in self.sent[-last:]),
            "interaction responses:",
            *(f"  {r}" for r in self.interaction_responses[-last:]),
        ]
        if self.unknown_requests:
            lines += ["UNKNOWN ROUTES:", *(f"  {r}" for r in self.unknown_requests)]
        if self.rest.errors:
            lines += ["FAKE CRASHES:", *self.rest.errors]
        return "\n".join(lines)

    async def wait_for_message(
        self,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        *,
        channel_id: int | None = None,
        content: str | None = None,
        action: MessageAction | None = "create",
        source: MessageSource | None = None,
        start: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedMessage:
        """The first recorded bot message (from index ``start``) matching all filters."""

        def matches(m: RecordedMessage) -> bool:
            return (
                (action is None or m.action == action)
                and (source is None or m.source == source)
                and (channel_id is None or m.channel_id == channel_id)
                and (content is None or m.content == content)
                and (predicate is None or predicate(m))
            )

        def find() -> RecordedMessage | None:
            return next((m for m in self.sent[start:] if matches(m)), None)

        what = f"a bot message (action={action}, channel={channel_id}, content={content!r})"
        return await self.wait_until(find, timeout, what)

    async def wait_for_interaction_response(
        self,
        predicate: Callable[[InteractionResponse], bool] | None = None,
        *,
        interaction_id: int | None = None,
        type: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionResponse:
        def find() -> InteractionResponse | None:
            for response in self.interaction_responses:
                if (
                    (interaction_id is None or response.interaction_id == interaction_id)
                    and (type is None or response.type == type)
                    and (predicate is None or predicate(response))
                ):
                    return response
            return None

        return await self.wait_until(find, timeout, f"an interaction response ({interaction_id=})")

    async def wait_for_request(
        self,
        method: str,
        route: str,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """A finished request by method and route template (or literal path)."""

        def find() -> RecordedRequest | None:
            for request in self.requests:
                if (
                    request.status
                    and request.method == method
                    and route in (request.route, request.path)
                    and (predicate is None or predicate(request))
                ):
                    return request
            return None

        return await self.wait_until(find, timeout, f"request {method} {route}")

    async def wait_for_command_sync(
        self,
        guild_id: int | None = _ANY,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CommandSync:
        """A bulk overwrite of commands (``guild_id=None``: global; omitted: any)."""

        def find() -> CommandSync | None:
            return next(
                (s for s in self.command_syncs if guild_id is _ANY or s.guild_id == guild_id), None
            )

        return await self.wait_until(find, timeout, f"a command sync (guild {guild_id})")

    async def wait_for_reaction(
        self,
        emoji: str | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedReaction:
        def find() -> RecordedReaction | None:
            return next((r for r in self.reactions if emoji is None or r.emoji == emoji), None)

        return await self.wait_until(find, timeout, f"a reaction {emoji!r}")

    async def wait_for_identify(self, count: int = 1, *, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        def find() -> int | None:
            return self.gateway.identify_count if self.gateway.identify_count >= count else None

        return await self.wait_until(find, timeout, f"{count} IDENTIFY")

    async def wait_for_resume(self, count: int = 1, *, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        def find() -> int | None:
            return self.gateway.resume_count if self.gateway.resume_count >= count else None

        return await self.wait_until(find, timeout, f"{count} successful RESUME")

    async def wait_for_heartbeats(self, count: int, *, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        def find() -> int | None:
            return self.gateway.heartbeat_count if self.gateway.heartbeat_count >= count else None

        return await self.wait_until(find, timeout, f"{count} heartbeats")

    def _record_message(
        self,
        action: MessageAction,
        source: MessageSource,
        message: JSON,
        body: JSON,
        *,
        files: Sequence[RecordedFile] = (),
        interaction: PendingInteraction | None = None,
        replaced_original: bool = False,
    ) -> RecordedMessage:
        record = RecordedMessage(
            index=len(self.sent),
            action=action,
            source=source,
            channel_id=int(message["channel_id"]),
            message_id=int(message["id"]),
            body=body,
            message=copy.deepcopy(message),
            files=list(files),
            interaction_id=None if interaction is None else interaction.id,
            replaced_original=replaced_original,
        )
        self.sent.append(record)
        return record

    # ====================================================== failure injection

    def rate_limit_next(
        self,
        method: str,
        route: str,
        *,
        count: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> InjectedFailure:
        """Answer the next ``count`` matching requests with 429 + Discord's headers.

        ``route`` is discord.py's route template (e.g. ``/channels/{channel_id}/messages``)
        or a literal path below the API base.
        """
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": self.rest.bucket_for(route),
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body: JSON = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        if not is_global:
            body["code"] = 0
        failure = InjectedFailure(method.upper(), route, 429, body, headers, count)
        self.failures.append(failure)
        return failure

    def fail_next(
        self,
        method: str,
        route: str,
        *,
        status: int,
        body: JSON | None = None,
        count: int = 1,
    ) -> InjectedFailure:
        """Answer the next ``count`` matching requests with ``status`` and a JSON body.

        Note that discord.py retries 500/502/504 after sleeping 1 + 2n seconds.
        """
        payload = (
            body if body is not None else {"message": f"{status}: injected failure", "code": 0}
        )
        failure = InjectedFailure(method.upper(), route, status, payload, {}, count)
        self.failures.append(failure)
        return failure

    # ============================================================ gateway control

    async def drop_gateway(self, code: int = CLOSE_UNKNOWN_ERROR, *, abort: bool = False) -> int:
        """Close the bot's gateway connection(s) with a resumable ``code`` (or abort TCP)."""
        return await self.gateway.drop(code, abort=abort)

    async def request_reconnect(self) -> int:
        """Send op 7 RECONNECT: the client should close and RESUME."""
        return await self.gateway.send_op(OP_RECONNECT, None)

    async def invalidate_session(self, *, resumable: bool = False) -> int:
        """Send op 9 INVALID_SESSION; non-resumable also ends the sessions."""
        if not resumable:
            for session in self.gateway.live_sessions:
                session.ended = True
        return await self.gateway.send_op(OP_INVALID_SESSION, resumable)

    async def dispatch(self, event: str, data: JSON, *, intent: int | None = None) -> int:
        """Dispatch a raw gateway event to every live session."""
        return await self.gateway.broadcast(event, data, intent=intent)

    async def delete_scheduled_event(self, event: JSON | int) -> None:
        """Someone deletes a scheduled event in Discord's client: GUILD_SCHEDULED_EVENT_DELETE."""
        event_id = int(event["id"]) if isinstance(event, dict) else int(event)
        stored = self.scheduled_events.pop(event_id)
        self.event_interest.pop(event_id, None)
        self.scheduled_event_log.append(("delete", dict(stored)))
        await self.gateway.broadcast(
            "GUILD_SCHEDULED_EVENT_DELETE", stored, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        await self._changed()

    async def mark_interested(
        self, event: JSON | int, user: User | int | str, *, interested: bool = True
    ) -> int:
        """A member clicks "Interested" on a scheduled event (or clicks it again to unmark):
        updates ``user_count`` and dispatches GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE to the
        sessions with the GUILD_SCHEDULED_EVENTS intent; returns how many got it."""
        event_id = int(event["id"]) if isinstance(event, dict) else int(event)
        stored = self.scheduled_events[event_id]
        who = self._user(user)
        guild = self.guilds[int(stored["guild_id"])]
        if guild.find_member(who.id) is None:
            raise ValueError(f"{who.username} is not a member of {guild.name}")
        marked = self.event_interest.setdefault(event_id, set())
        if interested == (who.id in marked):
            return 0  # Discord sends nothing when nothing changes
        if interested:
            marked.add(who.id)
        else:
            marked.discard(who.id)
        stored["user_count"] = len(marked)
        name = "ADD" if interested else "REMOVE"
        data: JSON = {
            "guild_scheduled_event_id": str(event_id),
            "user_id": str(who.id),
            "guild_id": str(guild.id),
        }
        count = await self.gateway.broadcast(
            f"GUILD_SCHEDULED_EVENT_USER_{name}", data, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        await self._changed()
        return count

    async def wait_for_event_log(
        self,
        action: str,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        start: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """The first scheduled-event change (``create``, ``update`` or ``delete``) from
        index ``start`` of ``scheduled_event_log`` matching ``predicate``; the event as it
        was right after that change."""

        def find() -> JSON | None:
            for kind, event in self.scheduled_event_log[start:]:
                if kind == action and (predicate is None or predicate(event)):
                    return event
            return None

        return await self.wait_until(find, timeout, f"a scheduled event {action}")

    # ======================================================= gateway payloads

    def _ready_payload(self, session: GatewaySession, shard: Any) -> JSON:
        guilds = [
            {"id": str(guild.id), "unavailable": True}
            for guild in self.guilds.values()
            if guild.find_member(self.bot_user.id) is not None
        ]
        payload: JSON = {
            "v": 10,
            "user": {
                **self.bot_user.payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "user_settings": {},
            "guilds": guilds,
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": session.resume_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth_session_id_hash": secrets.token_hex(8),
            "_trace": ["fake-discord-gateway"],
        }
        if shard is not None:
            payload["shard"] = shard
        return payload

    @property
    def application_flags(self) -> int:
        # GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
        return (1 << 19) | (1 << 23)

    def _guild_create_payload(self, guild: Guild) -> JSON:
        """GUILD_CREATE: like Discord without GUILD_PRESENCES, only the bot and the owner
        are in ``members``; ``member_count`` counts everyone (op 8 fetches the rest)."""
        events = [e for e in self.scheduled_events.values() if e["guild_id"] == str(guild.id)]
        members = [m for m in guild.members if m.user.id in (self.bot_user.id, guild.owner_id)]
        return guild.create_payload(copy.deepcopy(events), members)

    def application_payload(self) -> JSON:
        owner = self.application_owner or self.bot_user
        return {
            "id": str(self.application_id),
            "name": self.application_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": self.bot_user.payload(),
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": self.application_flags,
            "owner": owner.payload(),
            "team": None,
            "hook": True,
            "is_monetized": False,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        }

    # ========================================================== message model

    def _mentions(
        self, content: str, channel: Channel, allowed: JSON | None, referenced: JSON | None
    ) -> tuple[list[JSON], list[str], bool]:
        """Who a message pings, honouring ``allowed_mentions`` like Discord does."""
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        parse: set[str] = {"users", "roles", "everyone"}
        users_allowed: set[int] | None = None
        roles_allowed: set[int] | None = None
        if allowed is not None:
            parse = set(allowed.get("parse") or [])
            users_allowed = {int(x) for x in allowed.get("users") or []}
            roles_allowed = {int(x) for x in allowed.get("roles") or []}
        user_ids: list[int] = []
        for match in USER_MENTION.finditer(content):
            user_id = int(match.group(1))
            if (
                "users" in parse or (users_allowed is not None and user_id in users_allowed)
            ) and user_id not in user_ids:
                user_ids.append(user_id)
        if referenced is not None and (allowed is None or allowed.get("replied_user", False)):
            author_id = int(referenced["author"]["id"])
            if author_id not in user_ids:
                user_ids.append(author_id)
        mentions: list[JSON] = []
        for user_id in user_ids:
            user = self.users.get(user_id)
            if user is None:
                continue
            entry = user.payload()
            member = guild.find_member(user_id) if guild else None
            if member is not None:
                entry["member"] = member.payload(with_user=False)
            mentions.append(entry)
        role_ids: list[str] = []
        if guild is not None:
            for match in ROLE_MENTION.finditer(content):
                role_id = int(match.group(1))
                if "roles" in parse or (roles_allowed is not None and role_id in roles_allowed):
                    role_ids.append(str(role_id))
        everyone = bool(EVERYONE_MENTION.search(content)) and "everyone" in parse
        return mentions, role_ids, everyone

    def _build_message(
        self,
        *,
        channel: Channel,
        author: User,
        content: str,
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        flags: int = 0,
        nonce: str | int | None = None,
        reference: JSON | None = None,
        tts: bool = False,
        allowed_mentions: JSON | None = None,
        webhook_id: int | None = None,
        message_type: int | None = None,
        message_id: int | None = None,
    ) -> JSON:
        message_id = message_id or self.snowflakes.next()
        referenced: JSON | None = None
        reference_out: JSON | None = None
        if reference is not None and reference.get("message_id") is not None:
            referenced = self.messages.get(int(reference["message_id"]))
            reference_out = {
                "type": int(reference.get("type", 0)),
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel.id),
            }
            if channel.guild_id is not None:
                reference_out["guild_id"] = str(reference.get("guild_id") or channel.guild_id)
        mentions, mention_roles, everyone = self._mentions(
            content, channel, allowed_mentions, referenced
        )
        if message_type is None:
            message_type = 19 if reference_out is not None else 0
        message: JSON = {
            "id": str(message_id),
            "type": message_type,
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": iso(snowflake_time(message_id)),
            "edited_timestamp": None,
            "tts": tts,
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "mention_channels": [],
            "attachments": attachments or [],
            "embeds": embeds or [],
            "reactions": [],
            "pinned": False,
            "flags": flags,
            "components": components or [],
        }
        if nonce is not None:
            message["nonce"] = nonce
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
            message["application_id"] = str(self.application_id)
        if reference_out is not None:
            message["message_reference"] = reference_out
            message["referenced_message"] = copy.deepcopy(referenced)
        return message

    def _store_message(self, message: JSON) -> None:
        self.messages[int(message["id"])] = message
        channel = self.channels.get(int(message["channel_id"]))
        if channel is not None and not int(message.get("flags", 0)) & EPHEMERAL:
            channel.last_message_id = int(message["id"])

    def gateway_message(self, message: JSON) -> JSON:
        """The MESSAGE_CREATE/UPDATE shape: REST message plus guild_id and author member."""
        data = copy.deepcopy(message)
        channel = self.channels.get(int(message["channel_id"]))
        if channel is not None and channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            data["guild_id"] = str(guild.id)
            member = guild.find_member(int(message["author"]["id"]))
            if member is not None and "webhook_id" not in message:
                data["member"] = member.payload(with_user=False)
        return data

    def _content_filter(self, session: GatewaySession, event: str, data: JSON) -> JSON | None:
        """Blank content for sessions without MESSAGE_CONTENT, like Discord does."""
        if not self.enforce_message_content_intent or session.has_intent(Intent.MESSAGE_CONTENT):
            return data
        if "guild_id" not in data or "author" not in data:
            return data
        bot_id = str(self.bot_user.id)
        if data["author"].get("id") == bot_id or any(
            m.get("id") == bot_id for m in data.get("mentions", [])
        ):
            return data
        blank = dict(data)
        blank.update({"content": "", "embeds": [], "attachments": [], "components": []})
        blank.pop("poll", None)
        return blank

    async def _dispatch_message(self, event: str, message: JSON) -> int:
        if int(message.get("flags", 0)) & EPHEMERAL:
            return 0  # ephemeral messages never reach the gateway
        data = self.gateway_message(message)
        intent = Intent.GUILD_MESSAGES if "guild_id" in data else Intent.DIRECT_MESSAGES
        return await self.gateway.broadcast(
            event, data, intent=intent, transform=self._content_filter
        )

    async def _dispatch_message_delete(self, message: JSON) -> None:
        data: JSON = {"id": message["id"], "channel_id": message["channel_id"]}
        channel = self.channels.get(int(message["channel_id"]))
        if channel is not None and channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        intent = Intent.GUILD_MESSAGES if "guild_id" in data else Intent.DIRECT_MESSAGES
        if not int(message.get("flags", 0)) & EPHEMERAL:
            await self.gateway.broadcast("MESSAGE_DELETE", data, intent=intent)

    def _check_nonce(self, channel_id: int, body: JSON) -> JSON | None:
        """With ``enforce_nonce``, a repeated nonce returns the earlier message."""
        nonce = body.get("nonce")
        if nonce is None or not body.get("enforce_nonce"):
            return None
        hit = self._nonces.get((channel_id, str(nonce)))
        if hit is None or time.monotonic() - hit[1] > self.nonce_window:
            return None
        return self.messages.get(hit[0])

    def _remember_nonce(self, channel_id: int, body: JSON, message_id: int) -> None:
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel_id, str(nonce))] = (message_id, time.monotonic())

    def _attachments(
        self, channel: Channel, body: JSON, files: Sequence[RecordedFile]
    ) -> list[JSON]:
        described = {
            str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)
        }
        out: list[JSON] = []
        for index, upload in enumerate(files):
            attachment_id = self.snowflakes.next()
            # as Discord does: ``files[n]`` is described by the attachment whose id is n
            number = upload.field.removeprefix("files[").removesuffix("]")
            meta = described.get(number if number.isdigit() else str(index), {})
            filename = str(meta.get("filename") or upload.filename)
            self.attachment_blobs[attachment_id] = (upload.content_type, upload.data)
            url = f"{self.base_url}/attachments/{channel.id}/{attachment_id}/{filename}"
            entry: JSON = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": upload.content_type,
            }
            if meta.get("description"):
                entry["description"] = meta["description"]
            out.append(entry)
        return out

    # ================================================================ injection

    async def send_message(
        self,
        channel: Channel | int | str,
        author: User | Member | int | str,
        content: str = "",
        *,
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        files: Sequence[tuple[str, bytes]] = (),
        reply_to: JSON | int | None = None,
        nonce: str | None = None,
        flags: int = 0,
    ) -> JSON:
        """A user posts a message: dispatches MESSAGE_CREATE and returns its payload."""
        target = self._channel(channel)
        user = self._user(author)
        if target.guild_id is not None:
            guild = self.guilds[target.guild_id]
            if guild.find_member(user.id) is None:
                raise ValueError(f"{user.username} is not a member of {guild.name}")
        elif (
            user.id != self.bot_user.id and target.recipients and target.recipients[0].id != user.id
        ):
            raise ValueError(f"{user.username} is not the recipient of DM channel {target.id}")
        uploads = [
            RecordedFile(f"files[{i}]", name, "application/octet-stream", data)
            for i, (name, data) in enumerate(files)
        ]
        reference: JSON | None = None
        if reply_to is not None:
            reply_id = int(reply_to["id"]) if isinstance(reply_to, dict) else int(reply_to)
            reference = {"message_id": reply_id, "channel_id": target.id}
        message = self._build_message(
            channel=target,
            author=user,
            content=content,
            embeds=embeds,
            components=components,
            attachments=self._attachments(target, {}, uploads),
            flags=flags,
            nonce=nonce,
            reference=reference,
        )
        self._store_message(message)
        await self._dispatch_message("MESSAGE_CREATE", message)
        await self._changed()
        return self.gateway_message(message)

    async def send_dm(
        self, author: User | Member | int | str, content: str = "", **options: Any
    ) -> JSON:
        """A user writes to the bot in their DM channel: MESSAGE_CREATE without
        ``guild_id`` or ``member`` (needs the DIRECT_MESSAGES intent); options as for
        :meth:`send_message`."""
        user = self._user(author)
        return await self.send_message(self.dm_channel(user), user, content, **options)

    async def edit_message(self, message: JSON | int, content: str) -> JSON:
        """A user edits their message: dispatches MESSAGE_UPDATE."""
        stored = self.messages[int(message["id"]) if isinstance(message, dict) else int(message)]
        stored["content"] = content
        stored["edited_timestamp"] = now_iso()
        await self._dispatch_message("MESSAGE_UPDATE", stored)
        return self.gateway_message(stored)

    async def delete_message(self, message: JSON | int) -> None:
        """A user (or moderator) deletes a message: dispatches MESSAGE_DELETE."""
        stored = self.messages.pop(
            int(message["id"]) if isinstance(message, dict) else int(message)
        )
        await self._dispatch_message_delete(stored)

    async def add_reaction(self, message: JSON | int, user: User | int | str, emoji: str) -> None:
        """A user reacts (unicode emoji): dispatches MESSAGE_REACTION_ADD."""
        stored = self.messages[int(message["id"]) if isinstance(message, dict) else int(message)]
        who = self._user(user)
        channel = self.channels[int(stored["channel_id"])]
        data: JSON = {
            "user_id": str(who.id),
            "channel_id": str(channel.id),
            "message_id": stored["id"],
            "message_author_id": stored["author"]["id"],
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        intent = Intent.DIRECT_MESSAGE_REACTIONS
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            data["guild_id"] = str(guild.id)
            member = guild.find_member(who.id)
            if member is not None:
                data["member"] = member.payload()
            intent = Intent.GUILD_MESSAGE_REACTIONS
        await self.gateway.broadcast("MESSAGE_REACTION_ADD", data, intent=intent)

    async def send_interaction(
        self,
        type: int,
        data: JSON | None,
        *,
        user: User | Member | int | str,
        channel: Channel | int | str | None = None,
        message: JSON | None = None,
        locale: str = "en-US",
    ) -> PendingInteraction:
        """Dispatch a raw INTERACTION_CREATE; the helpers below build ``data`` for you."""
        target = self._channel(channel) if channel is not None else self._default_channel()
        who = self._user(user)
        interaction_id = self.snowflakes.next()
        token = f"fake-interaction-token.{interaction_id}.{secrets.token_urlsafe(24)}"
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": type,
            "token": token,
            "version": 1,
            "channel_id": str(target.id),
            "channel": target.payload(),
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str((1 << 51) - 1),
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        if target.guild_id is not None:
            guild = self.guilds[target.guild_id]
            member = guild.find_member(who.id)
            if member is None:
                raise ValueError(f"{who.username} is not a member of {guild.name}")
            permissions = str(guild.permissions_of(member))
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {
                        "id": str(guild.id),
                        "locale": guild.preferred_locale,
                        "features": list(guild.features),
                    },
                    "guild_locale": guild.preferred_locale,
                    "member": {**member.payload(), "permissions": permissions},
                    "authorizing_integration_owners": {"0": str(guild.id)},
                    "context": 0,
                }
            )
            payload["channel"]["permissions"] = permissions
        else:
            if target.recipients and target.recipients[0].id != who.id:
                raise ValueError(f"{who.username} is not the recipient of DM channel {target.id}")
            payload.update(
                {
                    "user": who.payload(),
                    "authorizing_integration_owners": {"0": "0"},
                    "context": 1,
                }
            )
        pending = PendingInteraction(
            created=time.monotonic(),
            fake=self,
            id=interaction_id,
            token=token,
            type=type,
            payload=payload,
            channel_id=target.id,
            guild_id=target.guild_id,
            user=who,
        )
        if message is not None:
            pending.original_message_id = int(message["id"])
        self.interactions[interaction_id] = pending
        delivered = await self.gateway.broadcast("INTERACTION_CREATE", payload)
        if not delivered:
            raise RuntimeError("no gateway session to dispatch INTERACTION_CREATE to")
        return pending

    def find_command(self, name: str, guild_id: int | None, command_type: int = 1) -> JSON | None:
        """A registered command: the guild's first, then global."""
        scopes = [self.guild_commands.get(guild_id, [])] if guild_id is not None else []
        scopes.append(self.global_commands)
        for commands in scopes:
            for command in commands:
                if command["name"] == name and int(command.get("type", 1)) == command_type:
                    return command
        return None

    def _command_data(
        self,
        name: str,
        options: Mapping[str, OptionValue] | None,
        *,
        channel: Channel,
        group: str | None,
        subcommand: str | None,
        focused: str | None = None,
    ) -> JSON:
        command = self.find_command(name, channel.guild_id)
        schema = find_schema_options(command, group, subcommand)
        resolved: dict[str, dict[str, JSON]] = {}
        leaf: list[JSON] = []
        for option_name, value in (options or {}).items():
            definition = next((o for o in schema or [] if o.get("name") == option_name), None)
            kind = int(definition["type"]) if definition else option_type_of(value)
            option: JSON = {"name": option_name, "type": kind}
            if focused is not None:
                option["value"] = value if isinstance(value, str | int | float) else str(value)
                if option_name == focused:
                    option["focused"] = True
            else:
                option["value"] = self._option_value(kind, value, channel, resolved)
            leaf.append(option)
        if focused is not None and not any(o.get("focused") for o in leaf):
            leaf.append({"name": focused, "type": 3, "value": "", "focused": True})
        data: JSON = {
            "id": str(command["id"]) if command else str(self.snowflakes.next()),
            "name": name,
            "type": 1,
        }
        nested = nest_options(leaf, group, subcommand)
        if nested:
            data["options"] = nested
        if command is not None and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self, kind: int, value: OptionValue, channel: Channel, resolved: dict[str, dict[str, JSON]]
    ) -> Any:
        if kind not in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT):
            if isinstance(value, User | Member | Role | Channel):
                raise TypeError(f"option of type {kind} cannot take {value!r}")
            return value
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        target: OptionValue | None = value.user if isinstance(value, Member) else value
        if isinstance(target, int) and not isinstance(target, bool):
            target = (
                self.users.get(target) or self.channels.get(target) or self._role(guild, target)
            )
        value = target if target is not None else value
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            member = guild.find_member(value.id) if guild else None
            if member is not None:
                permissions = str(guild.permissions_of(member)) if guild else "0"
                resolved.setdefault("members", {})[str(value.id)] = {
                    **member.payload(with_user=False),
                    "permissions": permissions,
                }
            return str(value.id)
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if isinstance(value, Channel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                "id": str(value.id),
                "name": value.name,
                "type": int(value.type),
                "permissions": str((1 << 51) - 1),
                "parent_id": None if value.parent_id is None else str(value.parent_id),
                "guild_id": None if value.guild_id is None else str(value.guild_id),
                "flags": 0,
            }
            return str(value.id)
        raise TypeError(f"cannot resolve {value!r} for an option of type {kind}")

    @staticmethod
    def _role(guild: Guild | None, role_id: int) -> Role | None:
        if guild is None:
            return None
        return next((r for r in guild.roles if r.id == role_id), None)

    async def invoke_command(
        self,
        name: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        user: User | Member | int | str,
        channel: Channel | int | str | None = None,
        group: str | None = None,
        subcommand: str | None = None,
        locale: str = "en-US",
    ) -> PendingInteraction:
        """A user runs ``/name [group] [subcommand] option:value…`` (type 2).

        Option types come from the registered command when it was synced, otherwise from
        the Python values; users, members, roles and channels get ``resolved`` data.
        """
        target = self._channel(channel) if channel is not None else self._default_channel()
        data = self._command_data(name, options, channel=target, group=group, subcommand=subcommand)
        return await self.send_interaction(
            APPLICATION_COMMAND, data, user=user, channel=target, locale=locale
        )

    async def autocomplete(
        self,
        name: str,
        focused: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        user: User | Member | int | str,
        channel: Channel | int | str | None = None,
        group: str | None = None,
        subcommand: str | None = None,
    ) -> PendingInteraction:
        """A user types into option ``focused`` of ``/name`` (type 4); values are raw input."""
        target = self._channel(channel) if channel is not None else self._default_channel()
        data = self._command_data(
            name, options, channel=target, group=group, subcommand=subcommand, focused=focused
        )
        return await self.send_interaction(
            APPLICATION_COMMAND_AUTOCOMPLETE, data, user=user, channel=target
        )

    def _message_of(self, message: JSON | RecordedMessage | int) -> JSON:
        if isinstance(message, RecordedMessage):
            message_id = message.message_id
        elif isinstance(message, dict):
            message_id = int(message["id"])
        else:
            message_id = int(message)
        return self.messages[message_id]

    async def click_button(
        self,
        message: JSON | RecordedMessage | int,
        custom_id: str,
        *,
        user: User | Member | int | str,
        locale: str = "en-US",
    ) -> PendingInteraction:
        """A user clicks the button ``custom_id`` on a message (type 3)."""
        stored = self._message_of(message)
        component_type = component_type_in(stored, custom_id)
        if component_type is None:
            raise KeyError(f"message {stored['id']} has no component {custom_id!r}")
        return await self.send_interaction(
            MESSAGE_COMPONENT,
            {"custom_id": custom_id, "component_type": component_type},
            user=user,
            channel=int(stored["channel_id"]),
            message=stored,
            locale=locale,
        )

    async def select(
        self,
        message: JSON | RecordedMessage | int,
        custom_id: str,
        values: Sequence[str],
        *,
        user: User | Member | int | str,
    ) -> PendingInteraction:
        """A user picks ``values`` in the select menu ``custom_id`` (type 3)."""
        stored = self._message_of(message)
        component_type = component_type_in(stored, custom_id)
        if component_type is None:
            raise KeyError(f"message {stored['id']} has no component {custom_id!r}")
        return await self.send_interaction(
            MESSAGE_COMPONENT,
            {"custom_id": custom_id, "component_type": component_type, "values": list(values)},
            user=user,
            channel=int(stored["channel_id"]),
            message=stored,
        )

    async def submit_modal(
        self,
        modal: InteractionResponse | str,
        values: Mapping[str, ModalValue],
        *,
        user: User | Member | int | str,
        channel: Channel | int | str | None = None,
        locale: str = "en-US",
    ) -> PendingInteraction:
        """A user submits a modal (type 5).

        Pass the recorded type-9 response to mirror the modal's layout (rows or labels),
        or just its ``custom_id`` for action rows of text inputs.
        """
        layout: JSON | None = None
        message: JSON | None = None
        if isinstance(modal, InteractionResponse):
            if modal.modal is None:
                raise ValueError(f"interaction response type {modal.type} is not a modal")
            layout = modal.modal
            custom_id = str(layout["custom_id"])
            opened_by = self.interactions[modal.interaction_id]
            if channel is None:
                channel = opened_by.channel_id
            # a modal opened from a button carries the button's message, as on Discord
            clicked = opened_by.payload.get("message")
            if clicked is not None:
                message = self.messages.get(int(clicked["id"]), clicked)
        else:
            custom_id = modal
        data: JSON = {"custom_id": custom_id, "components": modal_submit_components(layout, values)}
        return await self.send_interaction(
            MODAL_SUBMIT, data, user=user, channel=channel, message=message, locale=locale
        )

    # ============================================================ bot side state

    def pending_for_token(self, token: str) -> PendingInteraction | None:
        return next((p for p in self.interactions.values() if p.token == token), None)

    def scheduled_event_payload(self, guild: Guild, body: JSON, event_id: int) -> JSON:
        entity_type = int(body.get("entity_type", 3))
        return {
            "id": str(event_id),
            "guild_id": str(guild.id),
            "channel_id": None if body.get("channel_id") is None else str(body["channel_id"]),
            "creator_id": str(self.bot_user.id),
            "creator": self.bot_user.payload(),
            "name": body.get("name"),
            "description": body.get("description"),
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": int(body.get("privacy_level", 2)),
            "status": int(body.get("status", 1)),
            "entity_type": entity_type,
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }


__all__ = ["FakeDiscord", "InjectedFailure"]
