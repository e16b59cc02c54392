"""RSVPs given by a reaction (Matrix), and withdrawn when the reaction is taken back.

A member who reacts ✅ to a meeting's post answers yes; one who removes that reaction expects
to be no longer counted.  So an answer given by a reaction remembers it (``source =
"reaction"`` and an :class:`~.store.RsvpGestureRow` per reaction that stands), and taking it
back (its redaction, by the member or by a moderator) makes the answer follow the reactions
the member still has on the post: the newest remaining one, or none, and the answer is gone.

An answer typed (``!rsvp 3 no``) or clicked (a Discord button) is the member's latest word:
it forgets their reactions for that meeting, and taking an older reaction back then changes
nothing.  Nor does taking one back change an answer the Discord event's "Interested" gave.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import GestureSource, Withdrawn
from chatbot.storage.conditional import upsert
from commands.meetings.store import RsvpGestureRow, RsvpRow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host

log = get_logger("commands.meetings.gestures")

#: the RSVP source of an answer a reaction gave
SOURCE = "reaction"


async def note(
    session: AsyncSession, meeting_id: int, key: str, answer: str, gesture: str, now: datetime
) -> None:
    """An answer was just written for ``key``: by the reaction ``gesture``, remember it; by
    anything else (``gesture == ""``), forget the member's reactions for this meeting."""
    if not gesture:
        await session.execute(
            delete(RsvpGestureRow).where(
                RsvpGestureRow.meeting_id == meeting_id, RsvpGestureRow.member_id == key
            )
        )
        return
    values = {
        "gesture": gesture,
        "meeting_id": meeting_id,
        "member_id": key,
        "answer": answer,
        "at": now,
    }
    await upsert(session, RsvpGestureRow, values, ["gesture"], replace=False)  # a replay


async def on_withdrawn(bot: Host, withdrawn: Withdrawn) -> None:
    """A reaction was taken back: if it gave an RSVP that still stands, the member's newest
    remaining reaction on the meeting answers instead, or the answer is withdrawn."""
    now = bot.clock.now()
    async with bot.db.session() as session:
        found = await session.scalar(
            select(RsvpGestureRow).where(RsvpGestureRow.gesture == withdrawn.gesture)
        )
        if found is None:
            return  # a redaction of something else: most are
        await session.delete(found)
        await session.flush()
        theirs = (
            RsvpGestureRow.meeting_id == found.meeting_id,
            RsvpGestureRow.member_id == found.member_id,
        )
        left = await session.scalar(
            select(RsvpGestureRow).where(*theirs).order_by(RsvpGestureRow.id.desc()).limit(1)
        )
        # single conditional statements: an answer typed at this moment is never undone
        mine = (
            RsvpRow.meeting_id == found.meeting_id,
            RsvpRow.member_id == found.member_id,
            RsvpRow.source == SOURCE,
        )
        if left is None:
            await session.execute(delete(RsvpRow).where(*mine))
        else:
            await session.execute(
                update(RsvpRow)
                .where(*mine, RsvpRow.answer != left.answer)
                .values(answer=left.answer, updated_at=now)
            )
    log.info(
        "meeting_reaction_withdrawn",
        meeting=found.meeting_id,
        member=found.member_id,
        by=withdrawn.by.id,
        now=left.answer if left is not None else None,
    )


def attach(bot: Host) -> None:
    """Hear reactions taken back on every adapter whose buttons are reactions."""

    async def hook(withdrawn: Withdrawn) -> None:
        await on_withdrawn(bot, withdrawn)

    for adapter in bot.adapters.values():
        if isinstance(adapter, GestureSource):
            adapter.withdrawn_hooks.append(hook)
