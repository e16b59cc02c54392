"""The contract between the core and a chat platform.

An adapter turns platform events into :class:`~chatbot.messages.events.Incoming` values handed to
the core, and renders :class:`~chatbot.messages.events.Outgoing` replies its own way.  The core only
ever talks to this protocol, so one handler serves Matrix, Discord and the console.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec

from chatbot.messages.events import Member, Reply, Room

if TYPE_CHECKING:
    from chatbot.base.clock import Clock
    from chatbot.base.i18n import Msg
    from chatbot.dispatch.registry import Registry
    from chatbot.messages.events import Incoming, Outgoing
    from chatbot.storage import Database


class Capabilities(msgspec.Struct, frozen=True):
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


class RoomCheck(msgspec.Struct, frozen=True):
    """What the bot may not do in one room or channel (``chatbot check-config --online``)."""

    room_id: str
    name: str = ""
    #: what it lacks, in words an organiser knows ("send messages", "redact (power 50)")
    missing: tuple[str, ...] = ()
    #: how to give it, in the platform's own settings
    fix: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing


@runtime_checkable
class RoomChecker(Protocol):
    """An adapter that can check its permissions without starting the bot."""

    platform: str

    async def check_rooms(self, db: Database) -> list[RoomCheck]:
        """Log in (reusing the stored session when there is one), check every configured
        room or channel and the ones the bot is in, and leave without changing anything."""
        ...


# -- buttons pressed by a gesture that can be taken back (Matrix reactions) --------------------


class Withdrawn(msgspec.Struct, frozen=True):
    """A gesture that pressed a button was taken back (a Matrix reaction, redacted).

    ``gesture`` is the :attr:`~chatbot.messages.events.Incoming.gesture` of the press;
    ``by`` is who took it back (the member, or a moderator who removed their reaction)."""

    platform: str
    room: Room
    gesture: str
    by: Member


WithdrawnHook = Callable[[Withdrawn], Awaitable[None]]


@runtime_checkable
class GestureSource(Protocol):
    """An adapter whose buttons are pressed by gestures a member can take back.

    A feature that records what such a press did (an RSVP) appends a hook to
    ``withdrawn_hooks`` at start-up; the adapter calls every hook when a gesture is taken
    back, including gestures no feature knows (a hook ignores those)."""

    platform: str
    withdrawn_hooks: list[WithdrawnHook]


@runtime_checkable
class DirectMessageHelp(Protocol):
    """An adapter that can say how a member lets the bot message them privately, for the
    note that replaces a private answer whose direct message failed."""

    def direct_message_help(self) -> Msg:
        """One or two sentences, in the platform's own words and menus."""
        ...


AdapterFactory = Callable[[dict[str, Any]], Adapter]
Started = Callable[[], None]
Handler = Callable[["Incoming"], Awaitable[None]]


# -- platform-native scheduled events (Discord's Events tab) ----------------------------------


class EventRecurrence(msgspec.Struct, frozen=True):
    """How an event repeats, in UTC terms (the weekday of the UTC start, 0 = Monday).

    ``frequency`` is ``daily``, ``weekly`` or ``monthly``; a monthly rule repeats on the
    ``nth`` ``weekday`` of the month.  A platform that cannot express a rule publishes the
    next occurrence only and is moved along by its caller."""

    frequency: str
    interval: int = 1
    weekday: int | None = None
    nth: int | None = None


class EventSpec(msgspec.Struct, frozen=True):
    """A meeting (or its next occurrence) as a platform's own scheduled event."""

    title: str
    starts_at: datetime
    ends_at: datetime
    #: where it happens: the meeting's link, or a short text
    location: str
    #: the event's text, already in the language it is published in (no message left to
    #: translate): the bot's markdown and user text as :class:`Plain`, which the platform
    #: renders by its own rules, escaping the user text as in any reply
    description: Reply = Reply(())
    recurrence: EventRecurrence | None = None
    #: names what the event publishes (``meeting-12``), so a publish retried after its
    #: answer was lost adopts the event it made instead of making a second one
    key: str = ""


class EventRef(msgspec.Struct, frozen=True):
    """A published event: ``scope`` is the platform's container (a Discord guild id)."""

    scope: str
    event_id: str
    #: whether the platform kept the recurrence (False: the next occurrence only)
    recurring: bool = False


class EventInterest(msgspec.Struct, frozen=True):
    """A member marked (``interested``) or unmarked an event as interesting."""

    platform: str
    scope: str
    event_id: str
    member: Member
    interested: bool


EventInterestHook = Callable[[EventInterest], Awaitable[None]]


@runtime_checkable
class EventPublisher(Protocol):
    """An adapter that can publish meetings as native scheduled events.

    The adapter calls ``on_event_interest`` (set by a feature module at start-up) when a
    member marks or unmarks one of them.  Methods raise on failure so durable callers retry.
    """

    platform: str
    on_event_interest: EventInterestHook | None

    @property
    def publishes_events(self) -> bool:
        """Whether the config switch is on (the caller publishes nothing otherwise)."""
        ...

    @property
    def connected(self) -> bool: ...

    def event_scope(self, room: Room) -> str | None:
        """The container the room's events belong to (its guild), None if it has none."""
        ...

    async def publish_event(self, scope: str, spec: EventSpec) -> EventRef: ...

    async def update_event(self, ref: EventRef, spec: EventSpec) -> EventRef:
        """Change an event; raises :class:`LookupError` if it no longer exists."""
        ...

    async def cancel_event(self, ref: EventRef) -> None:
        """Remove an event; one that is already gone counts as removed."""
        ...
