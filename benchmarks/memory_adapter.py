"""An adapter that keeps what it is sent in memory: the far end of benchmark pipelines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.dispatch.adapter import Capabilities, Sent
from chatbot.messages.events import Member, Outgoing, Room
from chatbot.messages.localise import localise
from chatbot.messages.render import render_plain

if TYPE_CHECKING:
    from collections.abc import Callable

    from chatbot.dispatch.adapter import Core


class MemoryAdapter:
    platform = "memory"
    capabilities = Capabilities()

    def __init__(self, organisers: frozenset[str] = frozenset()) -> None:
        self.sent: list[str] = []
        self.organisers = organisers

    async def run(self, core: Core, started: Callable[[], None]) -> None:
        started()

    async def stop(self) -> None:
        return None

    async def send(self, out: Outgoing) -> Sent | None:
        out = localise(out)  # as every adapter does first: messages in the reader's language
        self.sent.append(render_plain(out.reply, out.reader))
        return Sent(out.room.id, str(len(self.sent)))

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        return await self.send(out)

    async def is_organiser(self, member: Member, room: Room) -> bool:
        return member.id in self.organisers

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        name = text.removeprefix("@")
        return Member(f"memory:{name}", "memory", name) if name.isalnum() else None
