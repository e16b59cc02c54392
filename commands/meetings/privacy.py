"""A member's meeting data for ``!mydata``, deleted on ``!forgetme``: RSVPs and reminder
settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from commands.meetings import module
from commands.meetings.store import ReminderPrefRow, RsvpRow

if TYPE_CHECKING:
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
    return {
        "rsvps": [
            {"meeting": a.meeting_id, "answer": a.answer, "updated_at": a.updated_at.isoformat()}
            for a in answers
        ],
        "reminders": None if pref is None else {"lead_minutes": pref.lead_minutes()},
    }


@module.on_forget
async def _forget(bot: Host, member_id: str) -> str | None:
    async with bot.db.session() as session:
        gone = await session.execute(delete(RsvpRow).where(RsvpRow.member_id == member_id))
        prefs = await session.execute(
            delete(ReminderPrefRow).where(ReminderPrefRow.member_id == member_id)
        )
    count = int(getattr(gone, "rowcount", 0) or 0) + int(getattr(prefs, "rowcount", 0) or 0)
    return "Your meeting answers and reminder settings are deleted too." if count else None
