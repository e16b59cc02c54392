"""The Matrix adapter itself: running, stopping, and the sync loop that hands each new event
to the part that handles it.

Nothing is lost and nothing repeated: the sync token is stored only after the events of its
sync were handled (see :mod:`adapters.matrix.ledger`), answered event ids are remembered,
and on the very first start the room history is skipped.  A gap in a room's timeline (a
limited sync) is filled page by page; events before the bot's own join are not for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import nio

from adapters.matrix.base import NETWORK_ERRORS, Backoff
from adapters.matrix.checks import RoomChecks
from adapters.matrix.crypto import Encryption
from adapters.matrix.incoming import (
    is_edit,
    mentions_user,
    replied_to,
    strip_mention,
    strip_reply_fallback,
    thread_root,
)
from adapters.matrix.ledger import Batch, SyncLedger
from adapters.matrix.members import Members
from adapters.matrix.sending import Sending
from adapters.matrix.session import LOGIN_RETRY, Session
from adapters.matrix.settings import PLATFORM
from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import Capabilities
from chatbot.messages.events import Incoming

if TYPE_CHECKING:
    from chatbot.dispatch.adapter import Core

log = get_logger("adapters.matrix")

_BACKFILL_PAGES = 10
_DRAIN_SECONDS = 10.0
_SETTLE_SECONDS = 0.5


class MatrixAdapter(Session, Encryption, Sending, Members, RoomChecks):
    """One Matrix account serving every room it is in."""

    capabilities = Capabilities(
        rich_text=True,
        native_timestamps=False,
        forms=False,
        threads=True,
        direct_messages=True,
        reactions=True,
        buttons=False,
    )

    sync_timeline_limit = 50
    """Events per room in one sync; a longer gap is fetched page by page (``_backfill``)."""

    # -- lifecycle -------------------------------------------------------------------------

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
            await self._warn_without_organiser_rooms()
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

    # -- syncing ---------------------------------------------------------------------------

    async def _sync_loop(self, started: Callable[[], None], *, first_start: bool) -> None:
        client = self.client
        ledger = self.ledger
        assert ledger is not None
        backoff = Backoff(self._stopping)
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
            with contextlib.suppress(*LOGIN_RETRY):
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
                self._note_own_reply(room_id, event)
        for room_id, events in timelines:
            for event in events:
                try:
                    self._dispatch(batch, room_id, event)
                except Exception:  # one odd event must never stop the sync loop
                    log.exception("matrix_dispatch_failed", room=room_id, event_id=_id_of(event))
        for room_id, event in self._decrypted_late():
            self._dispatch(batch, room_id, event)
        self._next_batch = response.next_batch
        for room_id in response.rooms.join:
            changed = self._room_seen.get(room_id)
            if changed is not None:
                changed.set()
        return batch

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

    def _note_own_reply(self, room_id: str, event: Any) -> None:
        """A reply of ours in the timeline marks the event it answers as answered: after a
        restore from a backup (whose list of answered events is older than the room), the
        commands answered since the backup are not answered a second time."""
        if getattr(event, "sender", None) != self.user_id:
            return
        content = (getattr(event, "source", None) or {}).get("content") or {}
        relates = content.get("m.relates_to") if isinstance(content, dict) else None
        reply_to = relates.get("m.in_reply_to") if isinstance(relates, dict) else None
        answered = reply_to.get("event_id") if isinstance(reply_to, dict) else None
        if isinstance(answered, str) and answered and self.ledger is not None:
            if self.ledger.claim(answered):
                log.info("matrix_already_answered", room=room_id, event_id=answered)
            self.ledger.answered(answered)

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
        elif isinstance(event, nio.RedactionEvent):
            work = partial(self._on_redaction, room_id, event)
        else:
            return
        if self.ledger.claim(event.event_id):
            self.ledger.spawn(batch, room_id, work, f"matrix-{event.event_id}")

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


def _id_of(event: Any) -> str | None:
    return getattr(event, "event_id", None)
