"""What every part of the Matrix adapter shares: its state (declared here, in one place),
who and where an event comes from, and how requests are retried when the homeserver is
unreachable or busy."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import nio

from adapters.matrix.incoming import server_of
from adapters.matrix.ledger import StateKeys, SyncLedger
from adapters.matrix.settings import PLATFORM, load_settings
from chatbot.base.logs import get_logger
from chatbot.messages.events import Member, Room

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Core, WithdrawnHook
    from chatbot.storage import Database

log = get_logger("adapters.matrix")

NETWORK_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, TimeoutError, OSError)
"""What a request raises when the homeserver is unreachable (nio retries twice first)."""


class Transient(Exception):
    """The homeserver answered with a temporary error (5xx, rate limit): try again later."""


class Backoff:
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


class MatrixBase:
    """The adapter's state and the helpers its parts (the other modules) share."""

    platform = PLATFORM

    def __init__(self, config: Config) -> None:
        self.settings = load_settings(config)
        self.prefix = config.bot.prefix
        self.user_id = self.settings.user_id
        self.allowed_servers = frozenset(self.settings.allowed_servers or [server_of(self.user_id)])
        self.allowed_rooms = frozenset(self.settings.allowed_rooms)
        self.organisers = frozenset(self.settings.organisers)
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
        #: features' hooks for a reaction taken back (``GestureSource`` in the adapter contract)
        self.withdrawn_hooks: list[WithdrawnHook] = []

    def _db(self) -> Database:
        assert self.core is not None
        return self.core.db

    # -- who and where ---------------------------------------------------------------------

    def _member(self, room: Any, user_id: str) -> Member:
        return Member(f"{PLATFORM}:{user_id}", PLATFORM, name_in(room, user_id))

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

    # -- requests --------------------------------------------------------------------------

    async def _checked(self, request: Awaitable[Any], what: str) -> Any:
        try:
            response = await request
        except nio.LocalProtocolError:
            return None  # nothing to do any more: another task did it first
        if isinstance(response, nio.ErrorResponse):
            log.warning("matrix_request_failed", request=what, error=str(response))
        return response

    async def _retry(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """A request retried through network errors and server errors.

        Abandoned at shutdown by raising ``CancelledError``: the handler then counts as
        cancelled, which keeps its sync batch open, so the work is done again after a restart.
        """
        backoff = Backoff(self._stopping, first=0.5, cap=10.0)
        while True:
            try:
                response = await call()
            except NETWORK_ERRORS as exc:
                response = None
                error = repr(exc)
            else:
                if not isinstance(response, nio.ErrorResponse):
                    return response
                if not retryable(response):
                    log.warning("matrix_request_failed", request=what, error=str(response))
                    return response
                error = str(response)
            if self._stopping.is_set():
                log.warning("matrix_request_abandoned", request=what, error=error)
                raise asyncio.CancelledError
            log.warning("matrix_request_retry", request=what, error=error)
            await backoff.wait()


def retryable(response: Any) -> bool:
    """Server trouble is worth retrying; a refusal (forbidden, unknown room…) is not."""
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    if isinstance(status, int):
        return status >= 500 or status == 429
    return getattr(response, "status_code", None) in (None, "M_UNKNOWN", "M_LIMIT_EXCEEDED")


def name_in(room: Any, user_id: str) -> str:
    """A member's display name in a nio room, else their id."""
    user = room.users.get(user_id) if room is not None else None
    name = user.display_name if user is not None else None
    return str(name) if name else user_id
