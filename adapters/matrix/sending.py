"""Sending: replies as ``m.notice`` events, posted exactly once.

Every send carries a transaction id derived from what it answers (or from its
``delivery_id``), so a retry or a replay after a crash never posts twice; an unreachable
homeserver is retried for a while, then :class:`MatrixUnavailable` lets the outbox retry
later.  Files a reply carries follow its text as ``m.file`` events, uploaded to the media
repository first (encrypted, in an encrypted room).  A post the bot makes on its own in a
shared room (announcements, meetings) lists its full times in every zone the room's joined
members set (see :func:`adapters.matrix.render.render_content`); the zones come from the
core's member cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import uuid
from collections import Counter
from typing import Any

import msgspec
import nio

from adapters.matrix.base import NETWORK_ERRORS, retryable
from adapters.matrix.incoming import thread_root
from adapters.matrix.reactions import Reactions
from adapters.matrix.render import BUTTONS_KEY, RoomZones, render_content
from adapters.matrix.rooms import Rooms
from adapters.matrix.settings import PLATFORM
from chatbot.base.i18n import Msg, _
from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import Sent
from chatbot.messages.events import (
    Attachment,
    Bullets,
    Member,
    Outgoing,
    Plain,
    Reply,
    Room,
    When,
)
from chatbot.messages.localise import localise
from chatbot.storage.members import store_of

log = get_logger("adapters.matrix")


class MatrixUnavailable(Exception):
    """The homeserver could not take a message for longer than the adapter waits.

    Raised (not ``None``) so a caller with its own retries (the outbox) tries again later:
    the same ``delivery_id`` gives the same transaction id, so it still posts once.
    """


class Sending(Rooms, Reactions):
    """``send`` and ``send_direct`` of the adapter protocol."""

    idempotent_sends = True
    """Re-sending the same ``delivery_id`` posts once (transaction ids, see ``_tx_id``)."""
    reply_patience_seconds = 900.0
    """How long a reply to a command is retried while the homeserver is unreachable."""
    delivery_patience_seconds = 30.0
    """The same for sends with a ``delivery_id``, whose owner (the outbox) retries later."""

    def direct_message_help(self) -> Msg:
        """What a member can do when the bot could not open a direct chat with them (their
        server refused the invite, or they ignore the bot): open one themselves."""
        return _(
            "To let me, start a direct chat with me ({bot}) and ask me there.",
            bot=Plain(self.user_id),
        )

    async def send(self, out: Outgoing) -> Sent | None:
        if out.room.platform != PLATFORM:
            raise ValueError(f"not a Matrix room: {out.room.id}")
        out = localise(out)
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
        event_id: str | None = None
        if out.reply.parts or out.reply.buttons or not out.reply.files:
            event_id = await self._room_send(room_id, content, tx_id, patience)
            if event_id is None:
                return None
        encrypted = room is not None and room.encrypted
        for index, file in enumerate(out.reply.files):
            file_event = await self._send_file(
                room_id, file, content, encrypted, f"{tx_id}.f{index}", patience
            )
            if file_event is None:
                return None
            event_id = event_id or file_event
        if event_id is None:
            return None
        buttons = content.get(BUTTONS_KEY)
        if isinstance(buttons, dict) and buttons:
            self._remember_buttons(event_id, buttons, thread_root(content) or event_id)
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

    async def _send_file(
        self,
        room_id: str,
        file: Attachment,
        text: dict[str, Any],
        encrypted: bool,
        tx_id: str,
        patience: float,
    ) -> str | None:
        """Upload ``file`` to the media repository and post it as an ``m.file`` event (in the
        thread of ``text``, the reply it belongs to); None if the server refuses either."""
        keys: dict[str, Any] = {}

        async def upload() -> Any:
            response, decryption = await self.client.upload(
                lambda _limited, _timeouts: io.BytesIO(file.data),
                content_type=file.mime,
                filename=file.filename,
                encrypt=encrypted,
                filesize=file.size,
            )
            keys.update(decryption or {})
            return response

        response = await self._retry(upload, "upload")
        if not isinstance(response, nio.UploadResponse):
            log.error("matrix_upload_failed", room=room_id, error=str(response))
            return None
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": file.filename,
            "filename": file.filename,
            "info": {"mimetype": file.mime, "size": file.size},
        }
        if encrypted:
            content["file"] = {**keys, "url": response.content_uri}
        else:
            content["url"] = response.content_uri
        relation = text.get("m.relates_to")
        if isinstance(relation, dict) and relation.get("rel_type") == "m.thread":
            content["m.relates_to"] = relation
        return await self._room_send(room_id, content, _short_tx(tx_id), patience)

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
                if not retryable(response):
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


def _short_tx(seed: str) -> str:
    """A transaction id derived from ``seed``: stable for a retry, distinct per file."""
    return "wmlib." + hashlib.sha256(seed.encode()).hexdigest()[:32]


def _has_full_time(reply: Reply) -> bool:
    for part in reply.parts:
        if isinstance(part, When) and part.style == "full":
            return True
        if isinstance(part, Bullets) and any(
            isinstance(p, When) and p.style == "full" for item in part.items for p in item
        ):
            return True
    return False
