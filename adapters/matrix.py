"""The Matrix adapter: matrix-nio, with end-to-end encryption when ``matrix-nio[e2e]`` is in.

What it guarantees (issue 4):

* **Login once, one device.**  A password login's device id and access token are kept in the
  bot's database, so a restart reuses the device (and its crypto store) instead of adding a
  new one.  An access token from the environment is used as is.
* **Nothing lost, nothing repeated.**  The sync token is stored only after the events of its
  sync were handled (see :mod:`adapters.matrix_sync`); answered event ids are remembered and
  every send carries a transaction id derived from what it answers, so a replay after a crash
  never posts twice.  On the very first start the room history is skipped.
* **Replies** are ``m.notice`` events with plain and HTML bodies, in reply to the command (in
  its thread when it came from one), with intentional mentions that never reach ``@room``.
* **Invites** are accepted from the allowed servers and rooms only; others are declined.
* **Encrypted rooms** work: the crypto store lives in ``store_path``, keys are shared with
  every device of the room's members without marking them verified (see ``_room_send``).

Issue 7, posts for a whole room and buttons:

* A post the bot makes on its own in a shared room (outbox: announcements, meetings) lists
  its full times in every zone the room's joined members set, grouped and sorted, then UTC
  (``adapters.matrix_render.room_times``); the zones come from the core's member cache.
* Buttons become reactions: the bot reacts to its own message with one key per button, and
  the message carries ``{key: command}`` under ``org.wmlib.buttons``.  A member's reaction
  with one of those keys, on a message the bot sent, runs the command as that member (as if
  they had typed ``!rsvp 12 yes``); the answer goes, without a ping, into the thread of the
  message.  The mapping is read from the event itself (cached, else ``room_get_event``), so
  it survives restarts.  Taking a reaction back (its redaction) is ignored: the member's
  last answer stands until they react or type another.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import re
import uuid
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import aiohttp
import msgspec
import nio
from nio.responses import EmptyResponse

from adapters.matrix_incoming import (
    is_edit,
    mentions_user,
    replied_to,
    server_of,
    strip_mention,
    strip_reply_fallback,
    thread_root,
)
from adapters.matrix_render import (
    BUTTONS_KEY,
    ByReaction,
    RoomZones,
    render_content,
    same_key,
)
from adapters.matrix_sync import Batch, StateKeys, SyncLedger
from chatbot.base.config import adapter_settings, find_line, secret_from_env
from chatbot.base.errors import ConfigError
from chatbot.base.logs import get_logger, register_secret
from chatbot.dispatch.adapter import Capabilities, Sent
from chatbot.messages.events import Bullets, Incoming, Member, Outgoing, Reply, Room, When
from chatbot.storage.members import store_of

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Core
    from chatbot.storage import Database

log = get_logger("adapters.matrix")

PLATFORM = "matrix"
MEGOLM = "m.megolm.v1.aes-sha2"
NETWORK_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, TimeoutError, OSError)
"""What a request raises when the homeserver is unreachable (nio retries twice first)."""

_USER_ID = re.compile(r"^@[^:\s]+:[A-Za-z0-9.\-\[\]:]+$")
_MATRIX_TO_USER = re.compile(r"matrix\.to/#/(@[^\s\"'<>/?]+:[A-Za-z0-9.\-\[\]:]+)")
_BACKFILL_PAGES = 10
_UNDECRYPTED_KEEP_SECONDS = 600.0
_DRAIN_SECONDS = 10.0
_SETTLE_SECONDS = 0.5
_ROOM_SYNC_SECONDS = 30.0
_BUTTONS_KEEP = 2048
"""Messages whose button mapping stays in memory (older ones are read from the server)."""


class MatrixSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[adapters.matrix]``."""

    homeserver: str
    user_id: str
    password_env: str = ""
    access_token_env: str = ""
    device_name: str = "WMLib bot"
    store_path: str = "data/matrix-store"
    #: servers whose users may invite the bot into rooms; empty means the bot's own server
    allowed_servers: list[str] = msgspec.field(default_factory=list)
    #: room ids (``!abc:server``) the bot joins whoever invites it
    allowed_rooms: list[str] = msgspec.field(default_factory=list)
    organiser_power_level: int = 50
    #: room ids whose moderators (and creators) are organisers in every room; empty: power
    #: levels count in the room where the command is given, whoever made that room
    organiser_rooms: list[str] = msgspec.field(default_factory=list)
    #: Matrix ids with organiser powers in every room, e.g. ``"@ana:example.org"``
    organisers: list[str] = msgspec.field(default_factory=list)
    encryption: bool = True
    sync_timeout_ms: int = 30_000


class Reaction(msgspec.Struct, frozen=True):
    """A member reacted to a message (``m.reaction``): meetings use it for RSVPs.

    ``message_id`` is the reacted-to event id, the same value as ``Sent.message_id`` of a
    message the bot sent, so a feature can match reactions to what it posted.
    """

    member: Member
    room: Room
    key: str
    message_id: str
    event_id: str


ReactionHook = Callable[[Reaction], Awaitable[None]]


class MatrixUnavailable(Exception):
    """The homeserver could not take a message for longer than the adapter waits.

    Raised (not ``None``) so a caller with its own retries (the outbox) tries again later:
    the same ``delivery_id`` gives the same transaction id, so it still posts once.
    """


class _Transient(Exception):
    """The homeserver answered with a temporary error (5xx, rate limit): try again later."""


_LOGIN_RETRY: tuple[type[BaseException], ...] = (*NETWORK_ERRORS, _Transient)


class _Backoff:
    """Exponential back-off with jitter that wakes up early when the adapter stops."""

    def __init__(self, stopping: asyncio.Event, first: float = 0.5, cap: float = 30.0) -> None:
        self.stopping = stopping
        self.first = first
        self.cap = cap
        self.delay = first

    def reset(self) -> None:
        self.delay = self.first

    async def wait(self) -> None:
        delay = self.delay * random.uniform(0.8, 1.2)
        self.delay = min(self.delay * 2, self.cap)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), delay)


class MatrixAdapter:
    """One Matrix account serving every room it is in."""

    platform = PLATFORM
    capabilities = Capabilities(
        rich_text=True,
        native_timestamps=False,
        forms=False,
        threads=True,
        direct_messages=True,
        reactions=True,
        buttons=False,
    )

    idempotent_sends = True
    """Re-sending the same ``delivery_id`` posts once (transaction ids, see ``_tx_id``)."""
    sync_timeline_limit = 50
    """Events per room in one sync; a longer gap is fetched page by page (``_backfill``)."""
    reply_patience_seconds = 900.0
    """How long a reply to a command is retried while the homeserver is unreachable."""
    delivery_patience_seconds = 30.0
    """The same for sends with a ``delivery_id``, whose owner (the outbox) retries later."""

    def __init__(self, config: Config) -> None:
        self.settings = adapter_settings(config, PLATFORM, MatrixSettings)
        _check_settings(self.settings, config)
        self.prefix = config.bot.prefix
        self.user_id = self.settings.user_id
        self.allowed_servers = frozenset(self.settings.allowed_servers or [server_of(self.user_id)])
        self.allowed_rooms = frozenset(self.settings.allowed_rooms)
        self.organisers = frozenset(self.settings.organisers)
        #: set by a feature to receive reactions (see :class:`Reaction`)
        self.on_reaction: ReactionHook | None = None
        self.keys = StateKeys(self.user_id)
        self.client: Any = None
        #: the last sync succeeded (for ``/readyz``); False while retrying or stopped
        self.connected = False
        self.core: Core | None = None
        self.ledger: SyncLedger | None = None
        self._stopping = asyncio.Event()
        self._closed = asyncio.Event()
        self._closed.set()
        self._poll: asyncio.Future[Any] | None = None
        self._next_batch: str | None = None
        self._password = ""
        self._direct: dict[str, list[str]] = {}
        self._direct_lock = asyncio.Lock()
        self._dm_locks: dict[str, asyncio.Lock] = {}
        self._room_seen: dict[str, asyncio.Event] = {}
        self._tx_counts: OrderedDict[str, int] = OrderedDict()
        self._undecrypted: dict[str, tuple[str, Any, float]] = {}
        self._creators: dict[str, tuple[str, set[str]]] = {}
        self._filters: dict[int, str] = {}
        self._background: set[asyncio.Future[Any]] = set()
        #: event id → ({reaction key: command}, thread root) of messages with buttons; an
        #: empty mapping remembers a message that has none (or is not the bot's)
        self._buttons: OrderedDict[str, tuple[dict[str, str], str]] = OrderedDict()

    # -- Adapter protocol: lifecycle -------------------------------------------------------

    async def run(self, core: Core, started: Callable[[], None]) -> None:
        self.core = core
        self._stopping.clear()
        self._closed.clear()
        self.ledger = SyncLedger(core.db, self.keys)
        committer: asyncio.Task[None] | None = None
        try:
            stored = await self.ledger.load()
            self._next_batch = stored
            if not await self._connect():
                return
            committer = asyncio.create_task(self.ledger.committer(), name="matrix-commit")
            await self._sync_loop(started, first_start=stored is None)
        finally:
            if committer is not None:
                committer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await committer
            await self._shutdown()

    async def stop(self) -> None:
        self._stopping.set()
        if self._poll is not None and not self._poll.done():
            self._poll.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), _DRAIN_SECONDS + 5)

    async def _shutdown(self) -> None:
        if self._poll is not None and not self._poll.done():
            self._poll.cancel()  # run() itself was cancelled mid-poll
        try:
            if self.ledger is not None:
                await self.ledger.drain(_DRAIN_SECONDS)
        except Exception:
            log.exception("matrix_drain_failed")
        finally:
            for task in list(self._background):
                task.cancel()
            if self._background:
                await asyncio.wait(set(self._background))
            self.connected = False
            client, self.client = self.client, None
            if client is not None:
                await client.close()
                store = getattr(client, "store", None)
                database = getattr(store, "database", None)
                if database is not None:
                    database.close()
            self._closed.set()
            log.info("matrix_stopped", user=self.user_id)

    # -- connecting ------------------------------------------------------------------------

    def new_client(self, store_path: str = "") -> Any:
        """A nio client for this account, not logged in yet."""
        return nio.AsyncClient(
            self.settings.homeserver,
            self.user_id,
            store_path=store_path,
            config=self._client_config(),
        )

    @property
    def waiting_for_keys(self) -> frozenset[str]:
        """Ids of encrypted events the bot could not decrypt yet (it asked for their keys)."""
        return frozenset(self._undecrypted)

    def _client_config(self) -> Any:
        try:
            return nio.AsyncClientConfig(
                encryption_enabled=self.settings.encryption,
                store_sync_tokens=False,
                max_limit_exceeded=None,  # M_LIMIT_EXCEEDED: wait retry_after_ms, every time
                max_timeouts=2,  # unreachable: nio retries twice, then _Backoff takes over
                backoff_factor=0.25,
                max_timeout_retry_wait_time=2,
                request_timeout=60,
            )
        except ImportWarning:
            raise ConfigError(
                "adapters.matrix.encryption = true needs the encryption extra: "
                "pip install 'wmlib-chatbot[e2e]' (matrix-nio[e2e]), or set encryption = false."
            ) from None

    async def _connect(self) -> bool:
        """Log in (reusing the stored device), upload keys; False if stopped meanwhile."""
        settings = self.settings
        store = ""
        if settings.encryption:
            store = str(Path(settings.store_path))
            await asyncio.to_thread(_private_dir, store)
        self.client = self.new_client(store)
        backoff = _Backoff(self._stopping)
        while not self._stopping.is_set():
            try:
                await self._login()
                if self.client.should_upload_keys:
                    await self._checked(self.client.keys_upload(), "keys_upload")
                olm = self.client.olm
                log.info(
                    "matrix_logged_in",
                    user=self.user_id,
                    device=self.client.device_id,
                    encryption=olm is not None,
                    # what organisers compare when they verify the bot (README: /verify)
                    fingerprint=olm.account.identity_keys["ed25519"] if olm else None,
                )
                return True
            except _LOGIN_RETRY as exc:
                log.warning("matrix_connect_retry", error=repr(exc))
                await backoff.wait()
        return False

    async def _login(self) -> None:
        client = self.client
        db = self._db()
        settings = self.settings
        if settings.access_token_env:
            token = secret_from_env(settings.access_token_env, "adapters.matrix.access_token_env")
            register_secret(token)
            client.access_token = token
            who = await client.whoami()
            if not isinstance(who, nio.WhoamiResponse):
                if _retryable(who):
                    raise _Transient(str(who))
                raise ConfigError(f"adapters.matrix: the access token was refused: {who}")
            if who.user_id != self.user_id:
                raise ConfigError(
                    f"adapters.matrix.user_id is {self.user_id} but the access token "
                    f"belongs to {who.user_id}."
                )
            if not who.device_id:
                raise ConfigError("adapters.matrix: the access token has no device.")
            client.restore_login(self.user_id, who.device_id, token)
            await db.set_state(self.keys.device_id, who.device_id)
            return
        self._password = secret_from_env(settings.password_env, "adapters.matrix.password_env")
        register_secret(self._password)
        device_id = await db.get_state(self.keys.device_id)
        stored_token = await db.get_state(self.keys.access_token)
        if device_id and settings.encryption and not self._store_file(device_id).exists():
            log.warning(
                "matrix_store_missing",
                device=device_id,
                store=str(self._store_file(device_id)),
                hint="logging in as a new device; organisers must verify it again",
            )
            device_id = stored_token = None
        if device_id and stored_token:
            register_secret(stored_token)
            client.restore_login(self.user_id, device_id, stored_token)
            who = await client.whoami()
            if isinstance(who, nio.WhoamiResponse) and who.device_id == device_id:
                return
            if _retryable(who):
                raise _Transient(str(who))
            log.warning("matrix_token_refused", device=device_id, error=str(who))
        await self._password_login(device_id)

    async def _password_login(self, device_id: str | None) -> None:
        client = self.client
        db = self._db()
        client.device_id = device_id or ""  # nio logs in to the client's device, if any
        response = await client.login(self._password, device_name=self.settings.device_name)
        if not isinstance(response, nio.LoginResponse):
            if _retryable(response):
                raise _Transient(str(response))
            raise ConfigError(f"adapters.matrix: login as {self.user_id} failed: {response}")
        register_secret(response.access_token)
        if device_id and response.device_id != device_id:
            log.warning("matrix_new_device", old=device_id, new=response.device_id)
        await db.set_state(self.keys.device_id, response.device_id)
        await db.set_state(self.keys.access_token, response.access_token)

    def _store_file(self, device_id: str) -> Path:
        return Path(self.settings.store_path) / f"{self.user_id}_{device_id}.db"

    # -- syncing ---------------------------------------------------------------------------

    async def _sync_loop(self, started: Callable[[], None], *, first_start: bool) -> None:
        client = self.client
        ledger = self.ledger
        assert ledger is not None
        backoff = _Backoff(self._stopping)
        first = True
        while not self._stopping.is_set():
            if first:
                # The stored token resumes where the last run stopped; full state rebuilds
                # the rooms (members, power levels) that nio keeps only in memory.
                sync_filter = await self._sync_filter(0 if first_start else None)
                timeout, full_state = 0, True
            else:
                sync_filter = await self._sync_filter()
                timeout, full_state = self.settings.sync_timeout_ms, None
            if self._stopping.is_set():
                break
            request = client.sync(
                timeout=timeout,
                sync_filter=sync_filter,
                since=self._next_batch,
                full_state=full_state,
            )
            self._poll = asyncio.ensure_future(request)
            await asyncio.wait({self._poll})
            poll, self._poll = self._poll, None
            if poll.cancelled():
                break
            try:
                response = poll.result()
            except NETWORK_ERRORS as exc:
                self.connected = False
                log.warning("matrix_sync_retry", error=repr(exc))
                await backoff.wait()
                continue
            except Exception:
                self.connected = False
                log.exception("matrix_sync_failed")
                await backoff.wait()
                continue
            if not isinstance(response, nio.SyncResponse):
                self.connected = False
                await self._sync_error(response)
                await backoff.wait()
                continue
            self.connected = True
            backoff.reset()
            try:
                batch = await self._process(response, history_only=first and first_start)
                await self._crypto_housekeeping()
                if batch is not None:
                    await ledger.settle(batch, _SETTLE_SECONDS)
                await ledger.commit()
            except NETWORK_ERRORS as exc:
                log.warning("matrix_process_retry", error=repr(exc))
                await backoff.wait()
                continue
            except Exception:
                log.exception("matrix_process_failed")
                await backoff.wait()
                continue
            if first:
                first = False
                await self._load_direct()
                started()
                log.info("matrix_ready", user=self.user_id, rooms=len(client.rooms))

    async def _sync_filter(self, timeline_limit: int | None = None) -> str | dict[str, Any]:
        """No presence; all members (nio needs them to encrypt); the first sync of a new
        bot asks for no timeline at all, since it answers no history.

        Uploaded once per run, so each sync names it by id instead of sending it along.
        """
        limit = self.sync_timeline_limit if timeline_limit is None else timeline_limit
        known = self._filters.get(limit)
        if known is not None:
            return known
        room = {"timeline": {"limit": limit}, "state": {"lazy_load_members": False}}
        presence = {"not_types": ["*"]}
        try:
            response = await self.client.upload_filter(room=room, presence=presence)
        except NETWORK_ERRORS:
            response = None
        if isinstance(response, nio.UploadFilterResponse):
            self._filters[limit] = response.filter_id
            return str(response.filter_id)
        return {"room": room, "presence": presence}

    async def _sync_error(self, response: Any) -> None:
        code = getattr(response, "status_code", None)
        log.warning("matrix_sync_error", error=str(response))
        if code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN") and self._password:
            device_id = self.client.device_id
            with contextlib.suppress(*_LOGIN_RETRY):
                await self._password_login(device_id)

    async def _process(self, response: Any, *, history_only: bool) -> Batch | None:
        """Hand one sync's events to the core (in tasks), then note its token.

        Everything that can fail on the network (filling timeline gaps) happens first; the
        batch is then opened and dispatched without a pause, so a retried sync never leaves
        half a batch behind.
        """
        assert self.ledger is not None
        since = self._next_batch
        if response.next_batch == since:
            return None
        timelines: list[tuple[str, list[Any]]] = []
        for room_id, info in response.rooms.join.items():
            self._note_creators(room_id, [*info.state, *info.timeline.events])
            if not history_only:
                timelines.append((room_id, await self._timeline(room_id, info, since)))
        batch = self.ledger.open_batch(response.next_batch)
        for event in response.account_data_events:
            if isinstance(event, nio.UnknownAccountDataEvent) and event.type == "m.direct":
                self._set_direct(event.content)
        for room_id in response.rooms.leave:
            self.client.rooms.pop(room_id, None)
        for room_id, info in response.rooms.invite.items():
            self.ledger.spawn(
                batch, room_id, partial(self._on_invite, room_id, info), f"matrix-invite-{room_id}"
            )
        for room_id, events in timelines:
            for event in events:
                try:
                    self._dispatch(batch, room_id, event)
                except Exception:  # one odd event must never stop the sync loop
                    log.exception("matrix_dispatch_failed", room=room_id, event_id=_id_of(event))
        self._retry_undecrypted(batch)
        self._next_batch = response.next_batch
        for room_id in response.rooms.join:
            changed = self._room_seen.get(room_id)
            if changed is not None:
                changed.set()
        return batch

    def _note_creators(self, room_id: str, events: list[Any]) -> None:
        """Remember who created a room: from room version 12 on, creators outrank every
        power level and are not listed in ``m.room.power_levels``."""
        for event in events:
            if isinstance(event, nio.RoomCreateEvent):
                content = event.source.get("content") or {}
                extra = content.get("additional_creators")
                creators = {event.sender}
                if isinstance(extra, list):
                    creators.update(u for u in extra if isinstance(u, str))
                self._creators[room_id] = (str(content.get("room_version") or "1"), creators)

    async def _timeline(self, room_id: str, info: Any, since: str | None) -> list[Any]:
        """The events to handle: after the bot's own join, and with any gap filled in."""
        events = list(info.timeline.events)
        joined_at = None
        for index, event in enumerate(events):
            if self._is_own_join(event):
                joined_at = index
        if joined_at is not None:
            return events[joined_at + 1 :]  # what came before is history, not for us
        timeline = info.timeline
        if timeline.limited and since and timeline.prev_batch:
            older = await self._backfill(room_id, timeline.prev_batch, since)
            known = {getattr(e, "event_id", None) for e in events}
            events = [e for e in older if getattr(e, "event_id", None) not in known] + events
        return events

    def _is_own_join(self, event: Any) -> bool:
        return (
            isinstance(event, nio.RoomMemberEvent)
            and event.state_key == self.user_id
            and event.membership == "join"
            and event.prev_membership != "join"
        )

    async def _backfill(self, room_id: str, start: str, since: str) -> list[Any]:
        """Fetch what a limited timeline left out, back to the stored token or our join."""
        collected: list[Any] = []
        token = start
        for _ in range(_BACKFILL_PAGES):
            response = await self.client.room_messages(
                room_id, start=token, end=since, direction=nio.MessageDirection.back, limit=100
            )
            if not isinstance(response, nio.RoomMessagesResponse):
                log.warning("matrix_backfill_failed", room=room_id, error=str(response))
                break
            for event in response.chunk:  # newest first
                if self._is_own_join(event):
                    return list(reversed(collected))
                collected.append(event)
            if not response.chunk or not response.end or response.end == token:
                break
            token = response.end
        log.info("matrix_backfilled", room=room_id, events=len(collected))
        return list(reversed(collected))

    def _dispatch(self, batch: Any, room_id: str, event: Any) -> None:
        assert self.ledger is not None
        if getattr(event, "sender", None) == self.user_id:
            return
        if isinstance(event, nio.MegolmEvent):
            self._undecryptable(room_id, event)
            return
        if isinstance(event, nio.RoomMessageText):
            content = event.source.get("content") or {}
            if is_edit(content):
                return
            work: Callable[[], Awaitable[None]] = partial(self._on_text, room_id, event)
        elif isinstance(event, nio.ReactionEvent):
            work = partial(self._on_reaction, room_id, event)
        else:
            return
        if self.ledger.claim(event.event_id):
            self.ledger.spawn(batch, room_id, work, f"matrix-{event.event_id}")

    async def _crypto_housekeeping(self) -> None:
        """What nio's ``sync_forever`` does between syncs: keys up, keys queried, to-device."""
        client = self.client
        if client.olm is None:
            return
        if client.should_upload_keys:
            await self._checked(client.keys_upload(), "keys_upload")
        if client.should_query_keys:
            await self._checked(client.keys_query(), "keys_query")
        if client.should_claim_keys:
            users = client.get_users_for_key_claiming()
            await self._checked(client.keys_claim(users), "keys_claim")
        await client.send_to_device_messages()

    async def _checked(self, request: Awaitable[Any], what: str) -> Any:
        try:
            response = await request
        except nio.LocalProtocolError:
            return None  # nothing to do any more: another task did it first
        if isinstance(response, nio.ErrorResponse):
            log.warning("matrix_request_failed", request=what, error=str(response))
        return response

    # -- events ----------------------------------------------------------------------------

    async def _on_text(self, room_id: str, event: Any) -> None:
        incoming = self._incoming(room_id, event)
        if incoming is not None and self.core is not None:
            await self.core.handle(incoming)

    def _incoming(self, room_id: str, event: Any) -> Incoming | None:
        room = self.client.rooms.get(room_id) if self.client is not None else None
        if room is None:
            return None
        content: dict[str, Any] = event.source.get("content") or {}
        body: str = event.body or ""
        if replied_to(content):
            body = strip_reply_fallback(body)
        mentioned = mentions_user(content, self.user_id)
        if mentioned:
            own = room.users.get(self.user_id)
            names = [self.user_id, self.user_id.partition(":")[0], self.user_id[1:]]
            if own is not None and own.display_name:
                names.append(own.display_name)
            body = strip_mention(body, names)
        return Incoming(
            platform=PLATFORM,
            member=self._member(room, event.sender),
            room=self._room(room),
            text=body,
            event_id=event.event_id,
            thread_id=thread_root(content),
            mentions_bot=mentioned,
            handle=event,
        )

    async def _on_reaction(self, room_id: str, event: Any) -> None:
        room = self.client.rooms.get(room_id) if self.client is not None else None
        if room is None:
            return
        reaction = Reaction(
            member=self._member(room, event.sender),
            room=self._room(room),
            key=event.key,
            message_id=event.reacts_to,
            event_id=event.event_id,
        )
        commands, root = await self._buttons_of(room_id, event.reacts_to)
        command = commands.get(same_key(event.key))
        if command is not None and self.core is not None:
            # as if the member had typed it; the answer goes quietly into the post's thread
            await self.core.handle(
                Incoming(
                    platform=PLATFORM,
                    member=reaction.member,
                    room=reaction.room,
                    text=self.prefix + command,
                    event_id=event.event_id,
                    thread_id=root,
                    handle=ByReaction(root),
                )
            )
            return
        hook = self.on_reaction
        if hook is None:
            log.debug("matrix_reaction", room=room_id, key=event.key, to=event.reacts_to)
            return
        await hook(reaction)

    def _undecryptable(self, room_id: str, event: Any) -> None:
        if event.event_id in self._undecrypted:
            return
        log.warning(
            "matrix_undecryptable",
            room=room_id,
            event_id=event.event_id,
            sender=event.sender,
            session=getattr(event, "session_id", None),
            encryption=self.client.olm is not None,
        )
        if self.client.olm is None:
            return
        loop = asyncio.get_running_loop()
        self._undecrypted[event.event_id] = (room_id, event, loop.time())
        task = asyncio.ensure_future(self._checked(self.client.request_room_key(event), "key"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)

    def _retry_undecrypted(self, batch: Any) -> None:
        """Keys often arrive a sync after the message: try the waiting ones again."""
        if not self._undecrypted:
            return
        now = asyncio.get_running_loop().time()
        for event_id, (room_id, event, since) in list(self._undecrypted.items()):
            try:
                decrypted = self.client.decrypt_event(event)
            except (nio.EncryptionError, nio.LocalProtocolError):
                if now - since > _UNDECRYPTED_KEEP_SECONDS:
                    del self._undecrypted[event_id]
                    log.warning("matrix_undecryptable_dropped", room=room_id, event_id=event_id)
                continue
            del self._undecrypted[event_id]
            log.info("matrix_decrypted_late", room=room_id, event_id=event_id)
            self._dispatch(batch, room_id, decrypted)

    # -- invites and direct rooms ----------------------------------------------------------

    async def _on_invite(self, room_id: str, info: Any) -> None:
        inviter: str | None = None
        direct = False
        for event in info.invite_state:
            if (
                isinstance(event, nio.InviteMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "invite"
            ):
                inviter = event.sender
                direct = bool(event.content.get("is_direct"))
        if not self._invite_allowed(room_id, inviter):
            log.info("matrix_invite_declined", room=room_id, inviter=inviter)
            await self._retry(partial(self.client.room_leave, room_id), "room_leave")
            return
        joined = await self._retry(partial(self.client.join, room_id), "join")
        if not isinstance(joined, nio.JoinResponse):
            return
        log.info("matrix_joined", room=room_id, inviter=inviter, direct=direct)
        if direct and inviter:
            await self._record_direct(inviter, room_id)

    def _invite_allowed(self, room_id: str, inviter: str | None) -> bool:
        if room_id in self.allowed_rooms:
            return True
        return inviter is not None and server_of(inviter) in self.allowed_servers

    def _set_direct(self, content: Any) -> None:
        if not isinstance(content, dict):
            return
        self._direct = {
            user: [r for r in rooms if isinstance(r, str)]
            for user, rooms in content.items()
            if isinstance(user, str) and isinstance(rooms, list)
        }

    async def _load_direct(self) -> None:
        response = await self._fetch_direct()
        if response is not None:
            self._set_direct(response)

    async def _fetch_direct(self) -> dict[str, list[str]] | None:
        try:
            response = await self.client.list_direct_rooms()
        except NETWORK_ERRORS as exc:
            log.warning("matrix_direct_unavailable", error=repr(exc))
            return None
        if isinstance(response, nio.DirectRoomsResponse):
            return {u: list(r) for u, r in response.rooms.items()}
        if getattr(response, "status_code", None) == "M_NOT_FOUND":
            return {}
        log.warning("matrix_direct_unavailable", error=str(response))
        return None

    async def _record_direct(self, user_id: str, room_id: str) -> None:
        """Add a room to the bot's ``m.direct`` account data (read fresh, then written)."""
        async with self._direct_lock:
            fresh = await self._fetch_direct()
            direct = fresh if fresh is not None else {u: list(r) for u, r in self._direct.items()}
            rooms = direct.setdefault(user_id, [])
            if room_id in rooms:
                self._set_direct(direct)
                return
            rooms.append(room_id)
            path = nio.Api._build_path(["user", self.user_id, "account_data", "m.direct"])
            put = partial(self.client._send, EmptyResponse, "PUT", path, json.dumps(direct))
            response = await self._retry(put, "m.direct")
            if isinstance(response, EmptyResponse):
                self._set_direct(direct)

    def _find_dm(self, user_id: str) -> str | None:
        for room_id in reversed(self._direct.get(user_id, [])):
            room = self.client.rooms.get(room_id)
            if room is not None and self.user_id in room.users and user_id in room.users:
                return room_id
        return None

    async def _create_dm(self, user_id: str) -> str | None:
        initial_state = (
            [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}]
            if self.client.olm is not None
            else []
        )
        response = await self._retry(
            partial(
                self.client.room_create,
                is_direct=True,
                invite=[user_id],
                preset=nio.RoomPreset.trusted_private_chat,
                initial_state=initial_state,
            ),
            "room_create",
        )
        if not isinstance(response, nio.RoomCreateResponse):
            return None
        room_id: str = response.room_id
        log.info("matrix_dm_created", room=room_id, member=user_id)
        await self._record_direct(user_id, room_id)
        await self._wait_room(room_id, user_id)
        return room_id

    async def _wait_room(self, room_id: str, member: str) -> None:
        """Until the sync loop has seen the room with the member invited: nio needs that
        state to send, and in an encrypted room to share the key with the member."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ROOM_SYNC_SECONDS
        while True:
            room = self.client.rooms.get(room_id) if self.client is not None else None
            if room is not None and member in room.users:
                return
            changed = self._room_seen.setdefault(room_id, asyncio.Event())
            changed.clear()
            remaining = deadline - loop.time()
            try:
                await asyncio.wait_for(changed.wait(), max(remaining, 0))
            except TimeoutError:
                log.warning("matrix_room_not_synced", room=room_id, member=member)
                return

    # -- sending ---------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> Sent | None:
        if out.room.platform != PLATFORM:
            raise ValueError(f"not a Matrix room: {out.room.id}")
        if self.client is None:
            log.warning("matrix_send_while_stopped", room=out.room.id)
            return None
        room_id = out.room.native_id
        room = self.client.rooms.get(room_id)
        if room is not None and room.encrypted and self.client.olm is None:
            log.error("matrix_refusing_plaintext", room=room_id, hint="set encryption = true")
            return None
        zones = await self._room_zones(room, out)
        content = render_content(out, self.prefix, zones)
        patience = (
            self.delivery_patience_seconds if out.delivery_id else self.reply_patience_seconds
        )
        tx_id = self._tx_id(out)
        event_id = await self._room_send(room_id, content, tx_id, patience)
        if event_id is None:
            return None
        buttons = content.get(BUTTONS_KEY)
        if isinstance(buttons, dict) and buttons:
            self._remember_buttons(event_id, buttons, _thread_of(content) or event_id)
            await self._offer_reactions(room_id, event_id, list(buttons), tx_id)
        if out.in_reply_to is not None and self.ledger is not None:
            self.ledger.answered(out.in_reply_to.event_id)
        return Sent(out.room.id, event_id)

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        if member.platform != PLATFORM or self.client is None:
            return None
        user_id = member.native_id
        lock = self._dm_locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            room_id = self._find_dm(user_id) or await self._create_dm(user_id)
        if room_id is None:
            return None
        room = Room(f"{PLATFORM}:{room_id}", PLATFORM, member.display_name, is_direct=True)
        return await self.send(msgspec.structs.replace(out, room=room))

    async def _room_zones(self, room: Any, out: Outgoing) -> RoomZones | None:
        """The zones of the room's joined members, for a post the whole room reads: one the
        bot makes on its own (not a reply) in a shared room, showing a full time."""
        if (
            room is None
            or out.in_reply_to is not None
            or out.room.is_direct
            or out.reader.zone
            or self._is_direct(room)
            or not _has_full_time(out.reply)
        ):
            return None
        store = store_of(self.core)
        if store is None:
            return None
        ids = [
            f"{PLATFORM}:{user_id}"
            for user_id, user in room.users.items()
            if user_id != self.user_id and not getattr(user, "invited", False)
        ]
        zones = await store.zones(ids)
        counts = Counter(zone for zone in zones.values() if zone)
        return tuple(sorted(counts.items()))

    # -- buttons as reactions --------------------------------------------------------------

    def _remember_buttons(self, event_id: str, mapping: dict[str, Any], root: str) -> None:
        commands = {
            same_key(key): command
            for key, command in mapping.items()
            if isinstance(key, str) and isinstance(command, str)
        }
        self._buttons[event_id] = (commands, root)
        self._buttons.move_to_end(event_id)
        while len(self._buttons) > _BUTTONS_KEEP:
            self._buttons.popitem(last=False)

    async def _offer_reactions(
        self, room_id: str, event_id: str, keys: list[str], tx_id: str
    ) -> None:
        """React to the bot's own message with each key, so members only have to click.

        Best effort: the message already says which key does what.  Transaction ids follow
        from the message's, so a resent delivery reacts once."""
        for key in keys:
            content = {
                "m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}
            }
            seed = f"{tx_id}|react|{key}"
            react_tx = "wmlib." + hashlib.sha256(seed.encode()).hexdigest()[:32]
            try:
                response = await self.client.room_send(
                    room_id, "m.reaction", content, tx_id=react_tx, ignore_unverified_devices=True
                )
            except (*NETWORK_ERRORS, nio.LocalProtocolError, nio.OlmTrustError) as exc:
                response = exc
            if not isinstance(response, nio.RoomSendResponse):
                log.warning("matrix_reaction_failed", room=room_id, key=key, error=str(response))

    async def _buttons_of(self, room_id: str, event_id: str) -> tuple[dict[str, str], str]:
        """The reaction keys of one of the bot's messages, from memory or from the server.

        Only a message the bot sent counts: anyone can put ``org.wmlib.buttons`` in theirs."""
        known = self._buttons.get(event_id)
        if known is not None:
            self._buttons.move_to_end(event_id)
            return known
        try:
            response = await self.client.room_get_event(room_id, event_id)
        except NETWORK_ERRORS as exc:
            log.warning("matrix_reacted_event_unavailable", room=room_id, error=repr(exc))
            return {}, event_id
        if not isinstance(response, nio.RoomGetEventResponse):
            log.warning("matrix_reacted_event_unavailable", room=room_id, error=str(response))
            return {}, event_id  # not remembered: the server may answer next time
        event = response.event
        if isinstance(event, nio.MegolmEvent):
            try:
                event = self.client.decrypt_event(event)
            except (nio.EncryptionError, nio.LocalProtocolError) as exc:
                log.warning("matrix_reacted_event_undecryptable", room=room_id, error=repr(exc))
                return {}, event_id
        source: dict[str, Any] = getattr(event, "source", None) or {}
        content = source.get("content")
        content = content if isinstance(content, dict) else {}
        mapping = content.get(BUTTONS_KEY)
        if getattr(event, "sender", None) != self.user_id or not isinstance(mapping, dict):
            mapping = {}
        self._remember_buttons(event_id, mapping, _thread_of(content) or event_id)
        return self._buttons[event_id]

    def _tx_id(self, out: Outgoing) -> str:
        """Stable across retries and replays: from the delivery id, or from the event being
        answered and how many sends answered it before; random only when neither exists."""
        if out.delivery_id:
            seed = f"delivery|{out.delivery_id}|{out.room.id}"
        elif out.in_reply_to is not None and out.in_reply_to.event_id:
            key = out.in_reply_to.event_id
            count = self._tx_counts.get(key, 0)
            self._tx_counts[key] = count + 1
            self._tx_counts.move_to_end(key)
            while len(self._tx_counts) > 2048:
                self._tx_counts.popitem(last=False)
            seed = f"reply|{key}|{count}"
        else:
            return f"wmlib.{uuid.uuid4().hex}"
        return "wmlib." + hashlib.sha256(seed.encode()).hexdigest()[:32]

    async def _room_send(
        self, room_id: str, content: dict[str, Any], tx_id: str, patience: float
    ) -> str | None:
        """Send until the server takes it; the same ``tx_id`` makes every retry idempotent.

        An unreachable or failing server is retried for ``patience`` seconds, then
        :class:`MatrixUnavailable` is raised; a refusal (forbidden, unknown room, too large)
        is logged and gives ``None``.

        In encrypted rooms keys go to every device of the members, verified or not
        (``ignore_unverified_devices``): a bot has nobody to compare emoji with, and whoever
        can read the room may use it.  Blacklisted devices still get nothing.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        delay = 0.5
        while True:
            error: object
            try:
                response = await self.client.room_send(
                    room_id,
                    "m.room.message",
                    content,
                    tx_id=tx_id,
                    ignore_unverified_devices=True,
                )
            except NETWORK_ERRORS as exc:
                error = repr(exc)
            except (nio.LocalProtocolError, nio.OlmTrustError, nio.GroupEncryptionError) as exc:
                log.error("matrix_send_failed", room=room_id, error=repr(exc))
                return None
            else:
                if isinstance(response, nio.RoomSendResponse):
                    event_id: str = response.event_id
                    return event_id
                if not _retryable(response):
                    log.error("matrix_send_failed", room=room_id, error=str(response))
                    return None
                error = str(response)
            if loop.time() > deadline:
                log.error("matrix_send_gave_up", room=room_id, error=error)
                raise MatrixUnavailable(f"{room_id}: {error}")
            log.warning("matrix_send_retry", room=room_id, error=error)
            # Not cut short by stop(): at shutdown the drain cancels this task instead, which
            # keeps its sync batch open, so the command is answered after the restart.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 30.0)

    async def _retry(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """A request retried through network errors and server errors.

        Abandoned at shutdown by raising ``CancelledError``: the handler then counts as
        cancelled, which keeps its sync batch open, so the work is done again after a restart.
        """
        backoff = _Backoff(self._stopping, first=0.5, cap=10.0)
        while True:
            try:
                response = await call()
            except NETWORK_ERRORS as exc:
                response = None
                error = repr(exc)
            else:
                if not isinstance(response, nio.ErrorResponse):
                    return response
                if not _retryable(response):
                    log.warning("matrix_request_failed", request=what, error=str(response))
                    return response
                error = str(response)
            if self._stopping.is_set():
                log.warning("matrix_request_abandoned", request=what, error=error)
                raise asyncio.CancelledError
            log.warning("matrix_request_retry", request=what, error=error)
            await backoff.wait()

    # -- members and permissions -----------------------------------------------------------

    async def is_organiser(self, member: Member, room: Room) -> bool:
        """Listed in ``organisers``, a creator of a room version 12+ room, or power level
        ≥ ``organiser_power_level`` in the room (in one of ``organiser_rooms`` when set, so
        that a member who invites the bot into a room of their own gains nothing there).

        Power levels are read fresh from the room state on every call.  They do not count in
        direct rooms, where both people usually hold power 100.
        """
        if member.platform != PLATFORM:
            return False
        user_id = member.native_id
        if user_id in self.organisers or member.id in self.organisers:
            return True
        if self.client is None:
            return False
        if self.settings.organiser_rooms:
            rooms = self.settings.organiser_rooms
        elif room.is_direct or room.platform != PLATFORM:
            return False
        else:
            rooms = [room.native_id]
        for room_id in rooms:
            version, creators = self._creators.get(room_id, ("1", set()))
            if user_id in creators and _creators_outrank_all(version):
                return True
            if await self._power_level(room_id, user_id) >= self.settings.organiser_power_level:
                return True
        return False

    async def _power_level(self, room_id: str, user_id: str) -> int:
        try:
            response = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        except NETWORK_ERRORS as exc:
            response = exc
        if isinstance(response, nio.RoomGetStateEventResponse):
            content: dict[str, Any] = response.content if isinstance(response.content, dict) else {}
            users = content.get("users")
            level = (users if isinstance(users, dict) else {}).get(
                user_id, content.get("users_default", 0)
            )
            return level if isinstance(level, int) else 0
        log.warning("matrix_power_levels_unavailable", room=room_id, error=str(response))
        room = self.client.rooms.get(room_id)
        return int(room.power_levels.get_user_level(user_id)) if room is not None else 0

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        """A pill, a matrix.to link, ``@user:server``, ``@localpart`` or a display name."""
        if self.client is None:
            return None
        nio_room = self.client.rooms.get(room.native_id)
        wanted = unquote(text.strip())
        found = _MATRIX_TO_USER.search(wanted)
        user_id = found.group(1) if found else wanted if _USER_ID.match(wanted) else None
        if user_id is not None:
            return Member(f"{PLATFORM}:{user_id}", PLATFORM, _name_in(nio_room, user_id))
        if nio_room is None or not wanted:
            return None
        name = wanted.removeprefix("@").casefold()
        matches = [
            uid
            for uid, user in nio_room.users.items()
            if (user.display_name or "").casefold() == name
            or uid.partition(":")[0][1:].casefold() == name
        ]
        if len(matches) != 1:
            return None
        return Member(f"{PLATFORM}:{matches[0]}", PLATFORM, _name_in(nio_room, matches[0]))

    # -- helpers ---------------------------------------------------------------------------

    def _db(self) -> Database:
        assert self.core is not None
        return self.core.db

    def _member(self, room: Any, user_id: str) -> Member:
        return Member(f"{PLATFORM}:{user_id}", PLATFORM, _name_in(room, user_id))

    def _room(self, room: Any) -> Room:
        room_id: str = room.room_id
        return Room(
            f"{PLATFORM}:{room_id}",
            PLATFORM,
            str(room.display_name),
            is_direct=self._is_direct(room),
        )

    def _is_direct(self, room: Any) -> bool:
        """A two-member room listed in the bot's ``m.direct`` account data."""
        if room.member_count != 2:
            return False
        return any(room.room_id in rooms for rooms in self._direct.values())


def _has_full_time(reply: Reply) -> bool:
    for part in reply.parts:
        if isinstance(part, When) and part.style == "full":
            return True
        if isinstance(part, Bullets) and any(
            isinstance(p, When) and p.style == "full" for item in part.items for p in item
        ):
            return True
    return False


def _thread_of(content: dict[str, Any]) -> str | None:
    """The thread root a message belongs to, if it is in a thread."""
    relation = content.get("m.relates_to")
    if isinstance(relation, dict) and relation.get("rel_type") == "m.thread":
        root = relation.get("event_id")
        return root if isinstance(root, str) else None
    return None


def _id_of(event: Any) -> str | None:
    return getattr(event, "event_id", None)


def _private_dir(path: str) -> None:
    """The crypto store holds the device's keys: create it readable by the bot only."""
    Path(path).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        Path(path).chmod(0o700)


def _name_in(room: Any, user_id: str) -> str:
    user = room.users.get(user_id) if room is not None else None
    name = user.display_name if user is not None else None
    return str(name) if name else user_id


def _creators_outrank_all(room_version: str) -> bool:
    """Room versions 12 and later (and their ``org.matrix.hydra`` previews)."""
    if room_version.startswith("org.matrix.hydra"):
        return True
    return room_version.isdigit() and int(room_version) >= 12


def _retryable(response: Any) -> bool:
    """Server trouble is worth retrying; a refusal (forbidden, unknown room…) is not."""
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    if isinstance(status, int):
        return status >= 500 or status == 429
    return getattr(response, "status_code", None) in (None, "M_UNKNOWN", "M_LIMIT_EXCEEDED")


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("matrix_key_request_failed", error=repr(task.exception()))


def _check_settings(settings: MatrixSettings, config: Config) -> None:
    def fail(key: str, message: str) -> ConfigError:
        parts = ["adapters", PLATFORM, key]
        line = find_line(config.source_text, parts)
        where = f"{config.source}:{line}" if line else config.source
        return ConfigError(f"{where}: {'.'.join(parts)}: {message}")

    if not settings.homeserver.startswith(("https://", "http://")):
        raise fail("homeserver", "must be a URL such as 'https://matrix.example.org'")
    if not _USER_ID.match(settings.user_id):
        raise fail("user_id", "must be a full Matrix id such as '@wmlib-bot:example.org'")
    if not (settings.password_env or settings.access_token_env):
        raise fail("password_env", "set password_env or access_token_env to log in")
    if settings.organiser_power_level < 0:
        raise fail("organiser_power_level", "must be 0 or more")
    if settings.sync_timeout_ms < 1000:
        raise fail("sync_timeout_ms", "must be at least 1000 (one second of long polling)")
    for room_id in settings.allowed_rooms:
        if not room_id.startswith("!"):
            raise fail(
                "allowed_rooms",
                f"'{room_id}' is not a room id: use ids like '!abc:example.org' "
                "(Element: room settings, Advanced)",
            )
    for user_id in settings.organisers:
        if not _USER_ID.match(user_id.removeprefix(f"{PLATFORM}:")):
            raise fail("organisers", f"'{user_id}' is not a Matrix id like '@ana:example.org'")
