"""Exactly-once handling across restarts: the sync token, answered events, per-room order.

Each sync response is a *batch*.  Its events are handled in tasks (one chain per room, so a
room's messages are answered in order while a slow command elsewhere holds up nothing), and
the batch's ``next_batch`` token is written to the bot's database only once every event of
that batch *and of all earlier batches* has been handled.  A crash therefore replays events
rather than losing them; replays are caught by the ids of recently answered events (kept in
the database too) and, as a last line, by transaction ids derived from the event being
answered, which the homeserver de-duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatbot.base.logs import get_logger

if TYPE_CHECKING:
    from chatbot.storage import Database

log = get_logger("adapters.matrix")

RECENT_KEEP = 500
"""How many answered event ids are remembered (in memory and in the database)."""


@dataclass
class Batch:
    token: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def done(self) -> bool:
        """Every event handled; a handler abandoned at shutdown keeps the batch open, so
        its events come again after the restart."""
        return all(task.done() and not task.cancelled() for task in self.tasks)


class StateKeys:
    """Names of this account's rows in the bot's ``state`` table."""

    def __init__(self, user_id: str) -> None:
        base = f"matrix.{user_id}"
        self.sync_token = f"{base}.sync_token"
        self.recent = f"{base}.answered_events"
        self.device_id = f"{base}.device_id"
        self.access_token = f"{base}.access_token"


class SyncLedger:
    """The stored sync token and the recently answered events of one Matrix account."""

    def __init__(self, db: Database, keys: StateKeys) -> None:
        self.db = db
        self.keys = keys
        self.stored_token: str | None = None
        self._batches: deque[Batch] = deque()
        self._claimed: OrderedDict[str, None] = OrderedDict()
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._answered_dirty = False
        self._lock = asyncio.Lock()
        self._tails: dict[str, asyncio.Task[None]] = {}
        self.inflight: set[asyncio.Task[None]] = set()
        self._progress = asyncio.Event()

    async def load(self) -> str | None:
        """Read the token and the answered ids; ``None`` means this is the very first start."""
        self.stored_token = await self.db.get_state(self.keys.sync_token)
        raw = await self.db.get_state(self.keys.recent)
        if raw:
            try:
                ids = json.loads(raw)
            except ValueError:
                ids = []
            for event_id in ids if isinstance(ids, list) else []:
                if isinstance(event_id, str):
                    self._answered[event_id] = None
                    self._claimed[event_id] = None
        return self.stored_token

    # -- de-duplication --------------------------------------------------------------------

    def claim(self, event_id: str) -> bool:
        """Take an event for handling; False if it was handled (or taken) already."""
        if event_id in self._claimed:
            return False
        self._claimed[event_id] = None
        while len(self._claimed) > RECENT_KEEP * 4:
            self._claimed.popitem(last=False)
        return True

    def answered(self, event_id: str) -> None:
        """Note that a reply to ``event_id`` was sent (persisted by :meth:`flush_answered`)."""
        if event_id and event_id not in self._answered:
            self._answered[event_id] = None
            while len(self._answered) > RECENT_KEEP:
                self._answered.popitem(last=False)
            self._answered_dirty = True

    async def flush_answered(self) -> None:
        if not self._answered_dirty:
            return
        self._answered_dirty = False
        await self.db.set_state(self.keys.recent, json.dumps(list(self._answered)))

    # -- batches and order -----------------------------------------------------------------

    def open_batch(self, token: str) -> Batch:
        batch = Batch(token)
        self._batches.append(batch)
        return batch

    async def settle(self, batch: Batch, seconds: float) -> None:
        """Give a batch's handlers a moment to finish before the next long poll.

        Replies then reach the homeserver before the next ``/sync`` does, instead of
        competing with it, and the token can be stored in the same breath; a slow command
        holds up syncing by ``seconds`` at most.
        """
        pending = [task for task in batch.tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=seconds)

    def spawn(
        self, batch: Batch, lane: str, work: Callable[[], Awaitable[None]], name: str
    ) -> None:
        """Run ``work`` after everything queued before it in the same lane (a room)."""
        previous = self._tails.get(lane)
        task = asyncio.create_task(self._after(previous, work), name=name)
        self._tails[lane] = task
        batch.tasks.append(task)
        self.inflight.add(task)
        task.add_done_callback(self._finished)

    async def _after(
        self, previous: asyncio.Task[None] | None, work: Callable[[], Awaitable[None]]
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        try:
            await work()
        except Exception:
            log.exception("matrix_event_failed")

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.inflight.discard(task)
        for lane, tail in list(self._tails.items()):
            if tail is task:
                del self._tails[lane]
        self._progress.set()

    async def commit(self) -> None:
        """Store the newest token whose batch, and every batch before it, is fully handled."""
        async with self._lock:
            await self.flush_answered()
            newest: str | None = None
            while self._batches and self._batches[0].done():  # oldest first: no gaps
                newest = self._batches.popleft().token
            if newest is not None and newest != self.stored_token:
                await self.db.set_state(self.keys.sync_token, newest)
                self.stored_token = newest

    async def committer(self) -> None:
        """Commit whenever a handled event lets the stored token move on (runs until cancelled)."""
        while True:
            await self._progress.wait()
            self._progress.clear()
            try:
                await self.commit()
            except Exception:
                log.exception("matrix_commit_failed")

    async def drain(self, seconds: float) -> None:
        """Wait for in-flight handling (at most ``seconds``), then commit."""
        if self.inflight:
            _done, pending = await asyncio.wait(set(self.inflight), timeout=seconds)
            for task in pending:
                log.warning("matrix_handler_abandoned", task=task.get_name())
                task.cancel()
            for task in pending:
                with contextlib.suppress(BaseException):
                    await task
        await self.commit()
