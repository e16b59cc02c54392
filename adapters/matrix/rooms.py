"""Rooms the bot is in: invites (accepted from the allowed servers and rooms only, others
declined) and direct rooms (``m.direct`` account data, found or created for a member, with
encryption on when the bot has it)."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Any

import nio
from nio.responses import EmptyResponse

from adapters.matrix.base import NETWORK_ERRORS, MatrixBase
from adapters.matrix.incoming import server_of
from chatbot.base.logs import get_logger

log = get_logger("adapters.matrix")

MEGOLM = "m.megolm.v1.aes-sha2"
_ROOM_SYNC_SECONDS = 30.0


class Rooms(MatrixBase):
    """Joining rooms, and the direct room of each member."""

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
        """The member's direct room with the bot, if one is still just the two of them: a
        room in ``m.direct`` that someone else joined or was invited to is a group room now,
        and what is private (a link code) must not go there."""
        for room_id in reversed(self._direct.get(user_id, [])):
            room = self.client.rooms.get(room_id)
            if room is not None and set(room.users) == {self.user_id, user_id}:
                return room_id
        return None

    async def _create_dm(self, user_id: str) -> str | None:
        # someone the member invites later reads from their own invite on, not what the bot
        # sent the member before (a link code)
        initial_state: list[dict[str, Any]] = [
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "invited"},
            }
        ]
        if self.client.olm is not None:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}
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
