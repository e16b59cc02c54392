"""Reactions: buttons, and the reactions features listen to (meeting RSVPs).

Buttons become reactions: the bot reacts to its own message with one key per button, and
the message carries ``{key: command}`` under ``org.wmlib.buttons``.  A member's reaction
with one of those keys, on a message the bot sent, runs the command as that member (as if
they had typed ``!rsvp 12 yes``); the answer goes, without a ping, into the thread of the
message.  The mapping is read from the event itself (cached, else ``room_get_event``), so
it survives restarts.  Any other reaction goes to the ``on_reaction`` hook a feature set.

A reaction that pressed a button is a gesture the member can take back: the command runs with
the reaction's event id as :attr:`~chatbot.messages.events.Incoming.gesture`, and a redaction
(the member removing their reaction, or a moderator removing it) is handed to the features'
``withdrawn_hooks`` as a :class:`~chatbot.dispatch.adapter.Withdrawn`.  A redaction carries
only the id of what it removed, so the adapter passes on every redaction in a room and the
feature that recorded the gesture (meetings, for RSVPs) recognises its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import nio

from adapters.matrix.base import NETWORK_ERRORS, MatrixBase
from adapters.matrix.incoming import thread_root
from adapters.matrix.render import BUTTONS_KEY, ByReaction, same_key
from adapters.matrix.settings import PLATFORM
from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import Withdrawn
from chatbot.messages.events import Incoming, Member, Room

log = get_logger("adapters.matrix")

_BUTTONS_KEEP = 2048
"""Messages whose button mapping stays in memory (older ones are read from the server)."""


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


class Reactions(MatrixBase):
    """Reactions that press a button, and the others, for the hook."""

    #: set by a feature to receive reactions (see :class:`Reaction`)
    on_reaction: ReactionHook | None = None

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
                    gesture=event.event_id,
                )
            )
            return
        hook = self.on_reaction
        if hook is None:
            log.debug("matrix_reaction", room=room_id, key=event.key, to=event.reacts_to)
            return
        await hook(reaction)

    async def _on_redaction(self, room_id: str, event: Any) -> None:
        """Something in the room was redacted: perhaps a reaction that pressed a button."""
        room = self.client.rooms.get(room_id) if self.client is not None else None
        redacts = getattr(event, "redacts", None)
        if room is None or not isinstance(redacts, str) or not redacts:
            return
        withdrawn = Withdrawn(
            platform=PLATFORM,
            room=self._room(room),
            gesture=redacts,
            by=self._member(room, event.sender),
        )
        for hook in list(self.withdrawn_hooks):
            await hook(withdrawn)

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
        self._remember_buttons(event_id, mapping, thread_root(content) or event_id)
        return self._buttons[event_id]
