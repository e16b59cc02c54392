"""The context a handler gets: the message it answers, and the core through narrow members.

A handler sees the member and room, the platform it came from, and the core through
:attr:`Context.prefix`, :attr:`Context.db`, :meth:`Context.now`, :meth:`Context.prefs`,
:attr:`Context.services` (the outbox, the scheduler) and a few more; :attr:`Context.host` is
the rest of the bot as :class:`~chatbot.dispatch.host.Host` describes it, never the runtime's
``Bot``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatbot.dispatch.registry import Level
from chatbot.messages.events import Reader

if TYPE_CHECKING:
    from chatbot.base.clock import Clock
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Adapter
    from chatbot.dispatch.dialogs import DialogEngine
    from chatbot.dispatch.host import Host
    from chatbot.dispatch.registry import Command, Registry
    from chatbot.messages.events import Incoming, Member, Room
    from chatbot.storage import Database
    from chatbot.storage.members import MemberStore, Prefs


class Context:
    """Everything a handler may need about the message it is answering."""

    __slots__ = ("_prefs", "adapter", "command", "host", "incoming", "level", "member", "room")

    def __init__(
        self, host: Host, incoming: Incoming, adapter: Adapter, command: Command | None = None
    ) -> None:
        self.host = host
        self.incoming = incoming
        #: who wrote the message, and where (``incoming``'s, kept as plain attributes: read
        #: on nearly every line of a handler, where a property costs a call each time)
        self.member: Member = incoming.member
        self.room: Room = incoming.room
        self.adapter = adapter
        self.command = command
        self.level = Level.MEMBER
        self._prefs: Prefs | None = None

    @property
    def prefix(self) -> str:
        return self.host.prefix

    @property
    def db(self) -> Database:
        """The shared database (``async with ctx.db.session() as s``)."""
        return self.host.db

    @property
    def clock(self) -> Clock:
        return self.host.clock

    @property
    def config(self) -> Config:
        return self.host.config

    @property
    def members(self) -> MemberStore:
        return self.host.members

    @property
    def dialogs(self) -> DialogEngine:
        return self.host.dialogs

    @property
    def registry(self) -> Registry:
        return self.host.registry

    @property
    def services(self) -> dict[str, Any]:
        return self.host.services

    @property
    def adapters(self) -> dict[str, Adapter]:
        return self.host.adapters

    def now(self) -> datetime:
        return self.host.clock.now()

    async def prefs(self) -> Prefs:
        """The caller's stored preferences (zone, language), cached for this message."""
        if self._prefs is None:
            self._prefs = await self.host.members.prefs(self.member)
        return self._prefs

    async def reader(self) -> Reader:
        """Who reads a reply to this message: the caller, in their zone and language (their
        ``!lang``, else their app's, else the room's; the bot's default when none is known)."""
        await self.prefs()
        reader = self.known_reader()
        assert reader is not None  # the preferences are known now
        return reader

    def known_reader(self) -> Reader | None:
        """:meth:`reader` when the caller's preferences are in memory (nearly always: every
        reply asks, so without a coroutine), else None."""
        prefs = self._prefs
        if prefs is None:
            prefs = self.host.members.cached(self.member)
            if prefs is None:
                return None
            self._prefs = prefs
        lang = prefs.lang or self.incoming.locale or room_language(self.host.config, self.room.id)
        return Reader(prefs.zone, lang)

    def forget_prefs(self) -> None:
        self._prefs = None

    async def level_of(self, member: Member, room: Room) -> Level:
        """A member's powers in a room (config allow-lists, then the platform's own)."""
        return await self.host.level_of(member, room, self.adapter)

    async def resolve_member(self, text: str) -> Member | None:
        """The member a mention or name typed in this room names, if any."""
        return await self.adapter.resolve_member(self.room, text)


def room_language(config: Config, room_id: str) -> str | None:
    """The language configured for a room (``bot.room_languages``); None leaves the choice
    to the adapter (a Discord Community server's own language), else the bot's default.
    The one place a room's language is looked up: a reply's reader (:meth:`Context.reader`)
    and every post to a whole room (announcements, meeting posts, case-study notices)."""
    return config.bot.room_languages.get(room_id)


def room_reader(config: Config, room_id: str) -> Reader:
    """Who reads a post to a whole room: the room, in its language, in no one's zone."""
    return Reader(lang=room_language(config, room_id))
