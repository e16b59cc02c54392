"""End-to-end encryption between syncs: the device's keys uploaded, queried and claimed as
nio asks, and events that could not be decrypted yet kept (asking their sender for the key)
and tried again after each sync, until their keys arrive or they are too old."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import nio

from adapters.matrix.base import MatrixBase
from chatbot.base.logs import get_logger

log = get_logger("adapters.matrix")

_UNDECRYPTED_KEEP_SECONDS = 600.0


class Encryption(MatrixBase):
    """Crypto housekeeping and undecryptable events."""

    @property
    def waiting_for_keys(self) -> frozenset[str]:
        """Ids of encrypted events the bot could not decrypt yet (it asked for their keys)."""
        return frozenset(self._undecrypted)

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

    def _decrypted_late(self) -> Iterator[tuple[str, Any]]:
        """Keys often arrive a sync after the message: (room id, event) of each waiting
        event that decrypts now; the ones waiting for too long are given up."""
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
            yield room_id, decrypted


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("matrix_key_request_failed", error=repr(task.exception()))
