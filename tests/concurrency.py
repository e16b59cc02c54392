"""Racing members: several messages handed to the bot at the same instant.

:func:`race` gives every message its own task, holds them all at an :class:`asyncio.Barrier`
and releases them together, so each handler runs in its own database session (its own
connection, on SQLite too: one aiosqlite thread each) and their reads and writes interleave as
they do when members type at once.  It returns each member's reply, in the order given.

:func:`one_winner` then checks that exactly one reply says the change was made and that every
other one says what happened instead; :func:`gap_free` checks a history's numbering.  Tests
run a race over several rounds (a fresh object each round), since one interleaving proves
little; ``CHATBOT_RACE_ROUNDS`` raises the count to measure how often a fault shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatbot.messages.events import Incoming, Member, Outgoing, Room
from chatbot.messages.render import render_plain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from chatbot.dispatch.adapter import Sent
    from tests.harness import ConsoleChat

#: rounds of each race in the tests (each on a fresh object)
ROUNDS = int(os.environ.get("CHATBOT_RACE_ROUNDS", "5"))


@dataclass(frozen=True)
class Said:
    """One message of a race: who, what, where (``dm`` for their direct messages)."""

    member: str
    text: str
    room: str = "#general"

    def incoming(self, event_id: str) -> Incoming:
        member = Member(f"console:{self.member}", "console", self.member)
        if self.room == "dm":
            room = Room(f"console:dm:{self.member}", "console", f"DM {self.member}", is_direct=True)
        else:
            room = Room(f"console:{self.room}", "console", self.room)
        return Incoming("console", member, room, self.text, event_id=event_id)


@contextlib.contextmanager
def _recording(chat: ConsoleChat) -> Iterator[dict[str, list[str]]]:
    """Collect, by the event id of the message answered, what the bot sends back."""
    replies: dict[str, list[str]] = {}
    adapter = chat.adapter
    send = adapter.send

    async def recording(out: Outgoing) -> Sent | None:
        key = out.in_reply_to.event_id if out.in_reply_to is not None else ""
        replies.setdefault(key, []).append(render_plain(out.reply, out.reader, out.sent_at))
        return await send(out)

    setattr(adapter, "send", recording)  # noqa: B010 (an instance attribute, undone below)
    try:
        yield replies
    finally:
        delattr(adapter, "send")


_races = 0


async def race(chat: ConsoleChat, messages: Sequence[Said]) -> list[str]:
    """Hand ``messages`` to the bot at the same instant; each one's reply, in order."""
    global _races
    _races += 1
    ids = [f"race{_races}-{i}" for i in range(len(messages))]
    barrier = asyncio.Barrier(len(messages) + 1)

    async def one(said: Said, event_id: str) -> None:
        incoming = said.incoming(event_id)
        await barrier.wait()
        await chat.bot.handle(incoming)

    with _recording(chat) as replies:
        tasks = [asyncio.create_task(one(s, i)) for s, i in zip(messages, ids, strict=True)]
        await barrier.wait()
        await asyncio.gather(*tasks)
    return ["\n".join(replies.get(i, [])) for i in ids]


def one_winner(replies: Sequence[str], won: Callable[[str], bool]) -> int:
    """The index of the only reply ``won`` accepts; fails, quoting them all, unless there is
    exactly one."""
    winners = [i for i, text in enumerate(replies) if won(text)]
    assert len(winners) == 1, f"{len(winners)} winners among {list(replies)}"
    return winners[0]


def gap_free(numbers: Sequence[int]) -> None:
    """A history numbered 1, 2, 3… with no gap and no number twice."""
    assert list(numbers) == list(range(1, len(numbers) + 1)), f"history numbers {list(numbers)}"
