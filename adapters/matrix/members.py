"""Who is who on Matrix: whether a member is an organiser of the group (the ``organisers``
list; power levels and room creators of room version 12 and later, in the group's own rooms
only), and which member a pill, a link, an id or a name typed in a room means."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import nio

from adapters.matrix.base import NETWORK_ERRORS, MatrixBase
from adapters.matrix.settings import PLATFORM, USER_ID
from chatbot.base.logs import get_logger
from chatbot.messages.events import Member, Room

log = get_logger("adapters.matrix")

_MATRIX_TO_USER = re.compile(r"matrix\.to/#/(@[^\s\"'<>/?]+:[A-Za-z0-9.\-\[\]:]+)")

ORGANISER_ROOMS_HINT = (
    "adapters.matrix.organiser_rooms is not set, so power levels count only in the "
    "broadcast rooms (`!announce rooms add here`; until there is one, only the organisers "
    "listed in the config can act). Set organiser_rooms to the group's own rooms: power in "
    "a room anyone can create and invite the bot to never counts."
)


class Members(MatrixBase):
    """``is_organiser`` and ``resolve_member`` of the adapter protocol."""

    async def is_organiser(self, member: Member, room: Room) -> bool:
        """Listed in ``organisers``, or a creator of a room version 12+ room or power level
        ≥ ``organiser_power_level`` in one of the group's rooms (:meth:`_group_rooms`),
        wherever the command is given, DMs included.

        Organiser commands act for the whole group (announcements, meetings, reviews, FAQ
        edits), so power in the room itself counts only when it is one of the group's:
        whoever creates a room and invites the bot holds power 100 there.  Power levels are
        read fresh from the room state on every call.
        """
        if member.platform != PLATFORM:
            return False
        user_id = member.native_id
        if user_id in self.organisers or member.id in self.organisers:
            return True
        if self.client is None:
            return False
        for room_id in await self._group_rooms():
            version, creators = self._creators.get(room_id, ("1", set()))
            if user_id in creators and _creators_outrank_all(version):
                return True
            if await self._power_level(room_id, user_id) >= self.settings.organiser_power_level:
                return True
        return False

    async def _group_rooms(self) -> list[str]:
        """``organiser_rooms``, else the broadcast rooms (which only organisers can set)."""
        if self.settings.organiser_rooms:
            return list(self.settings.organiser_rooms)
        return await self._broadcast_rooms()

    async def _broadcast_rooms(self) -> list[str]:
        """Room ids of the Matrix rooms announcements go to (stored by the core)."""
        from sqlalchemy import select

        from chatbot.storage.delivery import BroadcastRoomRow

        if self.core is None:
            return []
        prefix = f"{PLATFORM}:"
        query = select(BroadcastRoomRow.room_id).where(BroadcastRoomRow.platform == PLATFORM)
        async with self._db().sessions() as session:
            return [r.removeprefix(prefix) for r in (await session.scalars(query)).all()]

    async def _warn_without_organiser_rooms(self) -> None:
        if not self.settings.organiser_rooms:
            rooms = await self._broadcast_rooms()
            log.warning("matrix_organiser_rooms_not_set", rooms=rooms, hint=ORGANISER_ROOMS_HINT)

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

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        """A pill, a matrix.to link, ``@user:server``, ``@localpart`` or a display name."""
        if self.client is None:
            return None
        nio_room = self.client.rooms.get(room.native_id)
        wanted = unquote(text.strip())
        found = _MATRIX_TO_USER.search(wanted)
        user_id = found.group(1) if found else wanted if USER_ID.match(wanted) else None
        if user_id is not None:
            return self._member(nio_room, user_id)
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
        return self._member(nio_room, matches[0])


def _creators_outrank_all(room_version: str) -> bool:
    """Room versions 12 and later (and their ``org.matrix.hydra`` previews)."""
    if room_version.startswith("org.matrix.hydra"):
        return True
    return room_version.isdigit() and int(room_version) >= 12
