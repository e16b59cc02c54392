"""``chatbot check-config --online`` on Matrix: log in without starting the bot and say, per
room, what the bot's power level does not let it do.

The rooms checked are the configured ones (``allowed_rooms``, ``organiser_rooms``) and
every room the bot is in.  Logging in reuses the bot's stored device when there is one (so
nothing changes for the running bot); a password login made only for the check is logged
out again, leaving no device behind.  No encryption: power levels are not encrypted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import nio
from sqlalchemy.exc import DBAPIError

from adapters.matrix.base import MatrixBase
from chatbot.base.config import secret_from_env
from chatbot.base.errors import ConfigError
from chatbot.dispatch.adapter import RoomCheck

if TYPE_CHECKING:
    from chatbot.storage import Database

#: what the bot does in a room, and the event type whose power level it needs
NEEDS = (
    ("send messages", "m.room.message"),
    ("react (RSVP buttons)", "m.reaction"),
    ("redact its own messages (retract)", "m.room.redaction"),
)


class RoomChecks(MatrixBase):
    """The check part of the adapter (see :class:`~chatbot.dispatch.adapter.RoomChecker`)."""

    async def check_rooms(self, db: Database) -> list[RoomCheck]:
        client = nio.AsyncClient(
            self.settings.homeserver,
            self.user_id,
            config=nio.AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False),
        )
        own_login = False
        try:
            own_login = await self._check_login(client, db)
            joined = await client.joined_rooms()
            if not isinstance(joined, nio.JoinedRoomsResponse):
                raise ConfigError(f"adapters.matrix: cannot list the bot's rooms: {joined}")
            settings = self.settings
            rooms = [*settings.organiser_rooms, *settings.allowed_rooms, *joined.rooms]
            return [
                await self._check_room(client, room_id, room_id in joined.rooms)
                for room_id in dict.fromkeys(rooms)
            ]
        finally:
            if own_login:
                await client.logout()  # the device made for the check goes away
            await client.close()

    async def _check_login(self, client: Any, db: Database) -> bool:
        """Log in; True when the login was made for this check (log it out afterwards)."""
        settings = self.settings
        if settings.access_token_env:
            token = secret_from_env(settings.access_token_env, "adapters.matrix.access_token_env")
            client.access_token = token
            await self._whoami(client, "the access token")
            return False
        try:
            device_id = await db.get_state(self.keys.device_id)
            stored = await db.get_state(self.keys.access_token)
        except DBAPIError:  # a database the bot never ran on: no session stored yet
            device_id = stored = None
        if device_id and stored:
            client.restore_login(self.user_id, device_id, stored)
            who = await client.whoami()
            if isinstance(who, nio.WhoamiResponse):
                return False  # the bot's own session, left as it is
        password = secret_from_env(settings.password_env, "adapters.matrix.password_env")
        response = await client.login(password, device_name=f"{settings.device_name} (check)")
        if not isinstance(response, nio.LoginResponse):
            raise ConfigError(f"adapters.matrix: login as {self.user_id} failed: {response}")
        return True

    async def _whoami(self, client: Any, what: str) -> None:
        who = await client.whoami()
        if not isinstance(who, nio.WhoamiResponse):
            raise ConfigError(f"adapters.matrix: {what} was refused: {who}")
        if who.user_id != self.user_id:
            raise ConfigError(f"adapters.matrix: {what} belongs to {who.user_id}")
        client.user_id = who.user_id

    async def _check_room(self, client: Any, room_id: str, joined: bool) -> RoomCheck:
        if not joined:
            return RoomCheck(
                room_id,
                missing=("post there: it is not in the room",),
                fix=f"invite {self.user_id} (it accepts invites to the rooms in allowed_rooms)",
            )
        name = await client.room_get_state_event(room_id, "m.room.name")
        title = str(name.content.get("name", "")) if hasattr(name, "content") else ""
        levels = await client.room_get_state_event(room_id, "m.room.power_levels")
        if not hasattr(levels, "content"):
            return RoomCheck(room_id, title, (f"read its power levels ({levels})",))
        missing, wanted = power_shortfall(levels.content, self.user_id)
        fix = (
            f"in Element: Room settings > Roles & Permissions, give {self.user_id} power "
            f"level {wanted} (or lower what those actions need)"
            if missing
            else ""
        )
        return RoomCheck(room_id, title, missing, fix)


def power_shortfall(content: dict[str, Any], user_id: str) -> tuple[tuple[str, ...], int]:
    """What ``user_id`` may not do under a room's ``m.room.power_levels`` content: the
    actions with the level each needs, and the level that allows them all."""
    mine = int(content.get("users", {}).get(user_id, content.get("users_default", 0)))
    events = content.get("events", {})
    default = int(content.get("events_default", 0))
    missing: list[str] = []
    wanted = mine
    for what, event_type in NEEDS:
        level = int(events.get(event_type, default))
        if mine < level:
            missing.append(f"{what} (needs power {level}, has {mine})")
            wanted = max(wanted, level)
    return tuple(missing), wanted
