"""The meetings module's tables: meetings (single or series), RSVPs, reminder preferences,
the reactions that gave RSVPs, and the platform events meetings are published as.

A meeting changes only by :func:`change`, a conditional update on the state and revision it
was read in; an RSVP is one row per member and meeting, written by an upsert.
"""

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, _p, verbatim
from chatbot.messages.events import Room
from chatbot.storage.conditional import Changed, update_if
from chatbot.storage.models import Base, UtcDateTime
from commands.meetings.series import Rule, Series

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

DRAFT = "draft"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"
#: a meeting's state in words, translated for the reader
_STATE_WORDS = {
    DRAFT: _p("meeting state", "a draft"),
    CONFIRMED: _p("meeting state", "confirmed"),
    CANCELLED: _p("meeting state", "cancelled"),
}


def state_words(state: str) -> Msg:
    """``draft`` → "a draft", in the reader's language."""
    return _STATE_WORDS.get(state, verbatim("{state}", state=state))


YES = "yes"
NO = "no"
MAYBE = "maybe"


class MeetingRow(Base):
    """A meeting or a series of them; times are wall times in the organiser's zone."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    #: first start as local wall time, ISO ``YYYY-MM-DDTHH:MM`` in ``zone``
    start_local: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64), default="")
    #: JSON list of cancelled occurrences' local dates (ISO)
    exdates: Mapped[str] = mapped_column(Text, default="[]")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: JSON list of [room id, platform, name]
    rooms: Mapped[str] = mapped_column(Text, default="[]")
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    #: bumped whenever the times change: reminder jobs of an older generation do nothing
    generation: Mapped[int] = mapped_column(Integer, default=0)
    #: bumped by every change (:func:`change`): a write based on an older read does nothing
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: where the minutes are, once an organiser sets it (``!meeting minutes``)
    minutes_link: Mapped[str | None] = mapped_column(String(500), nullable=True, default=None)

    def series(self) -> Series:
        return Series(
            datetime.fromisoformat(self.start_local),
            self.zone,
            Rule.decode(self.rule),
            frozenset(date.fromisoformat(d) for d in json.loads(self.exdates)),
        )

    def room_list(self) -> list[Room]:
        return [Room(rid, platform, name) for rid, platform, name in json.loads(self.rooms)]


class RsvpRow(Base):
    """A member's answer for a meeting (for a series: for the series)."""

    __tablename__ = "meeting_rsvps"

    meeting_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    answer: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: where the answer came from when not a command: ``event`` (a platform event's
    #: "Interested"), so unmarking it removes only that answer, never an explicit one;
    #: ``reaction`` (a Matrix reaction on the meeting's post: see :class:`RsvpGestureRow`)
    source: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)


class RsvpGestureRow(Base):
    """A reaction of a member's that answered for a meeting and still stands.

    A member may leave several (✅, then 🤔 without removing ✅): the newest that stands is
    their answer while the answer came from a reaction (``RsvpRow.source == "reaction"``).
    Taking one back makes the newest remaining one the answer, or withdraws the answer when
    none remains; an answer typed or clicked since is the member's latest word and removes
    these rows, so taking an older reaction back then changes nothing."""

    __tablename__ = "meeting_rsvp_gestures"

    #: the order reactions came in (a clock may give two the same instant)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: the platform's id of the reaction (a Matrix event id)
    gesture: Mapped[str] = mapped_column(String(255), unique=True)
    meeting_id: Mapped[int] = mapped_column(Integer, index=True)
    member_id: Mapped[str] = mapped_column(String(255), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class MeetingEventRow(Base):
    """A meeting published as a platform's native scheduled event (a Discord guild's)."""

    __tablename__ = "meeting_platform_events"

    meeting_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: the platform's container of events (a Discord guild id)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    #: whether the platform holds the recurrence, or only the next occurrence
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReminderPrefRow(Base):
    """A member who wants meeting reminders by DM, and how long before."""

    __tablename__ = "meeting_reminder_prefs"

    member_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    #: lead times in minutes, comma-separated
    leads: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def lead_minutes(self) -> list[int]:
        return [int(x) for x in self.leads.split(",") if x]


async def get_meeting(session: "AsyncSession", number: int) -> MeetingRow:
    row = await session.get(MeetingRow, number)
    if row is None:
        raise UserError(_("There is no meeting #{number}.", number=str(number)))
    return row


async def confirmed_meetings(session: "AsyncSession") -> list[MeetingRow]:
    found = await session.scalars(
        select(MeetingRow).where(MeetingRow.state == CONFIRMED).order_by(MeetingRow.id)
    )
    return list(found.all())


async def change(session: "AsyncSession", row: MeetingRow, values: dict[str, Any]) -> None:
    """Write ``values`` to the meeting if it is still in the state and revision ``row`` was
    read in; raises :class:`Changed` (nothing written) when someone changed it meanwhile."""
    expected = {"state": row.state, "revision": row.revision}
    if not await update_if(session, row, expected, {**values, "revision": row.revision + 1}):
        raise Changed(f"meeting #{row.id} changed after it was read")
