"""A recording adapter and a fake wait for the outbox and scheduler tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatbot.dispatch.adapter import Capabilities, Sent
from chatbot.messages.render import render_plain

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from chatbot.base.clock import FakeClock
    from chatbot.dispatch.adapter import Core
    from chatbot.messages.events import Member, Outgoing, Room


class Recorder:
    """Keeps every post; rooms named in ``failing`` raise for that many more sends."""

    capabilities = Capabilities()

    def __init__(self, platform: str = "memory", *, idempotent: bool = True) -> None:
        self.platform = platform
        self.idempotent_sends = idempotent
        self.posts: list[tuple[str, str, str]] = []  # (room or member id, delivery id, text)
        self.failing: dict[str, int] = {}
        self.refuse_dm: set[str] = set()
        self.retracted: list[Sent] = []

    async def run(self, core: Core, started: Callable[[], None]) -> None:
        started()

    async def stop(self) -> None:
        return None

    async def send(self, out: Outgoing) -> Sent | None:
        left = self.failing.get(out.room.id, 0)
        if left:
            self.failing[out.room.id] = left - 1
            raise ConnectionError("the platform is down")
        self.posts.append((out.room.id, out.delivery_id, render_plain(out.reply, out.reader)))
        return Sent(out.room.id, f"m{len(self.posts)}")

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        if member.id in self.refuse_dm:
            return None
        text = render_plain(out.reply, out.reader)
        self.posts.append((member.id, out.delivery_id, text))
        return Sent(f"dm:{member.id}", f"m{len(self.posts)}")

    async def retract(self, sent: Sent) -> bool:
        self.retracted.append(sent)
        return True

    async def is_organiser(self, member: Member, room: Room) -> bool:
        return False

    async def resolve_member(self, room: Room, text: str) -> Member | None:
        return None

    def texts(self, target: str) -> list[str]:
        return [text for where, _id, text in self.posts if where == target]


class LoopStopped(Exception):
    """Raised by :class:`TimeTravel` to end a worker loop under test."""


@dataclass
class TimeTravel:
    """A wait that moves a fake clock instead of sleeping; stops the loop when ``done()``."""

    clock: FakeClock
    done: Callable[[], bool]
    waits: list[float] = field(default_factory=list)
    limit: int = 200

    async def __call__(self, event: asyncio.Event, seconds: float) -> None:
        self.waits.append(seconds)
        if self.done() or len(self.waits) > self.limit:
            raise LoopStopped
        if not event.is_set():
            self.clock.advance(seconds)
        await asyncio.sleep(0)


async def run_until_stopped(loop: Callable[[], Awaitable[None]]) -> None:
    """Run a worker loop until :class:`TimeTravel` stops it."""
    try:
        await loop()
    except LoopStopped:
        pass
