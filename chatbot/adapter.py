"""The contract between the core and a chat platform.

An adapter turns platform events into :class:`~chatbot.events.Incoming` values handed to
the core, and renders :class:`~chatbot.events.Outgoing` replies its own way.  The core only
ever talks to this protocol, so one handler serves Matrix, Discord and the console.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from chatbot.clock import Clock
    from chatbot.events import Incoming, Member, Outgoing, Room
    from chatbot.registry import Registry
    from chatbot.storage import Database


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can show; handlers may offer richer paths when these are set."""

    rich_text: bool = False
    native_timestamps: bool = False
    forms: bool = False
    threads: bool = False
    direct_messages: bool = True
    reactions: bool = False
    buttons: bool = False


class Sent(msgspec.Struct, frozen=True):
    """Where a message landed, so it can be edited or retracted later."""

    room_id: str
    message_id: str


class Core(Protocol):
    """What an adapter may call on the bot."""

    prefix: str
    registry: Registry
    db: Database
    clock: Clock

    async def handle(self, incoming: Incoming) -> None: ...

    def adapter_config(self, platform: str) -> dict[str, Any]: ...


@runtime_checkable
class Adapter(Protocol):
    """A platform connection owned by the bot's task group."""

    platform: str
    capabilities: Capabilities

    async def run(self, core: Core, started: Callable[[], None]) -> None:
        """Connect, call ``started()`` once ready to receive and send, then serve until
        cancelled or :meth:`stop` is called."""
        ...

    async def stop(self) -> None:
        """Leave cleanly: stop receiving, flush what is in flight; stay in the rooms."""
        ...

    async def send(self, out: Outgoing) -> Sent | None:
        """Post a reply in ``out.room`` (or privately to the caller when asked)."""
        ...

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        """Post to the member's direct-message room, creating it when needed."""
        ...

    async def is_organiser(self, member: Member, room: Room) -> bool:
        """Whether the platform itself grants this member organiser powers in the room
        (Discord roles, Matrix power levels).  Config allow-lists are checked by the core."""
        ...

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        """Turn a mention or a name typed in ``room`` into a member, if it names one."""
        ...


AdapterFactory = Callable[[dict[str, Any]], Adapter]
Started = Callable[[], None]
Handler = Callable[["Incoming"], Awaitable[None]]
