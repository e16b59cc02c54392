"""A member's meeting data for ``!mydata``, deleted on ``!forgetme``: RSVPs (and the reactions
that gave them) and reminder settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from chatbot.base.i18n import Msg, _
from commands.meetings import module
from commands.meetings.store import MeetingRow, ReminderPrefRow, RsvpGestureRow, RsvpRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host


@module.on_mydata
async def _mydata(bot: Host, member_id: str) -> dict[str, Any]:
    async with bot.db.sessions() as session:
        answers = (
            await session.scalars(
                select(RsvpRow).where(RsvpRow.member_id == member_id).order_by(RsvpRow.meeting_id)
            )
        ).all()
        pref = await session.get(ReminderPrefRow, member_id)
        reactions = (
            await session.scalars(
                select(RsvpGestureRow)
                .where(RsvpGestureRow.member_id == member_id)
                .order_by(RsvpGestureRow.id)
            )
        ).all()
    return {
        "rsvps": [
            {"meeting": a.meeting_id, "answer": a.answer, "updated_at": a.updated_at.isoformat()}
            for a in answers
        ],
        "rsvp_reactions": [
            {"meeting": r.meeting_id, "answer": r.answer, "reaction": r.gesture} for r in reactions
        ],
        "reminders": None if pref is None else {"lead_minutes": pref.lead_minutes()},
    }


@module.on_forget
async def _forget(bot: Host, member_id: str) -> Msg | None:
    async with bot.db.session() as session:
        gone = await session.execute(delete(RsvpRow).where(RsvpRow.member_id == member_id))
        await session.execute(delete(RsvpGestureRow).where(RsvpGestureRow.member_id == member_id))
        prefs = await session.execute(
            delete(ReminderPrefRow).where(ReminderPrefRow.member_id == member_id)
        )
    count = int(getattr(gone, "rowcount", 0) or 0) + int(getattr(prefs, "rowcount", 0) or 0)
    return _("Your meeting answers and reminder settings are deleted too.") if count else None


@module.on_link
async def _link(bot: Host, session: AsyncSession, old: str, new: str) -> None:
    """A member linked an account: its RSVPs and reminder settings become the member's.
    Where both accounts answered the same meeting, the later answer stands (counted once);
    where both chose reminders, the member's own settings stand."""
    mine = {
        r.meeting_id: r
        for r in (await session.scalars(select(RsvpRow).where(RsvpRow.member_id == new))).all()
    }
    for row in (await session.scalars(select(RsvpRow).where(RsvpRow.member_id == old))).all():
        kept = mine.get(row.meeting_id)
        if kept is not None and kept.updated_at >= row.updated_at:
            await session.delete(row)
            await _drop_reactions(session, row.meeting_id, old)
            continue
        if kept is not None:
            await session.delete(kept)
            await session.flush()
            await _drop_reactions(session, row.meeting_id, new)
        await session.execute(
            update(RsvpRow)
            .where(RsvpRow.meeting_id == row.meeting_id, RsvpRow.member_id == old)
            .values(member_id=new)
        )
    await session.execute(
        update(RsvpGestureRow).where(RsvpGestureRow.member_id == old).values(member_id=new)
    )
    await session.execute(
        update(MeetingRow).where(MeetingRow.created_by == old).values(created_by=new)
    )
    if await session.get(ReminderPrefRow, new) is None:
        await session.execute(
            update(ReminderPrefRow).where(ReminderPrefRow.member_id == old).values(member_id=new)
        )
    else:
        await session.execute(delete(ReminderPrefRow).where(ReminderPrefRow.member_id == old))


async def _drop_reactions(session: AsyncSession, meeting_id: int, member_id: str) -> None:
    """The reactions behind an answer that lost to the other account's: no longer answers."""
    await session.execute(
        delete(RsvpGestureRow).where(
            RsvpGestureRow.meeting_id == meeting_id, RsvpGestureRow.member_id == member_id
        )
    )
