"""The review desk's sign-in links and sessions, stored only as token hashes.

A link is made by ``!review web`` for one organiser (and the room they asked in, where
their organiser rights are checked again on every request), lives 15 minutes and is used
at most once: the update that uses it is conditional, so two clicks cannot both sign in.
A session lasts a working day and ends earlier when its organiser signs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, String, delete, update
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.messages.events import Member, Room
from chatbot.storage.models import Base, UtcDateTime
from chatbot.web.security import new_token, token_hash

if TYPE_CHECKING:
    from chatbot.storage import Database

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)


class _Grant:
    """Who a link or session is for, and where their rights are checked."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(255))
    member_name: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[str] = mapped_column(String(255))
    room_name: Mapped[str] = mapped_column(String(255))
    room_direct: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def member(self) -> Member:
        return Member(self.member_id, self.platform, self.member_name)

    def room(self) -> Room:
        return Room(self.room_id, self.platform, self.room_name, self.room_direct)


class DeskLinkRow(_Grant, Base):
    __tablename__ = "casestudy_desk_links"

    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DeskSessionRow(_Grant, Base):
    __tablename__ = "casestudy_desk_sessions"

    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


def _grant(member: Member, room: Room, now: datetime, life: timedelta) -> dict[str, object]:
    return {
        "member_id": member.id,
        "member_name": member.display_name,
        "platform": member.platform,
        "room_id": room.id,
        "room_name": room.name,
        "room_direct": room.is_direct,
        "created_at": now,
        "expires_at": now + life,
    }


async def new_link(db: Database, member: Member, room: Room, now: datetime) -> str:
    """A one-time sign-in token for ``member`` (only its hash is kept)."""
    token = new_token()
    async with db.session() as session:
        session.add(
            DeskLinkRow(token_hash=token_hash(token), **_grant(member, room, now, LINK_LIFETIME))
        )
    return token


async def open_link(db: Database, token: str, now: datetime) -> DeskLinkRow | None:
    """The link, if it can still be used (not used, not expired)."""
    async with db.sessions() as session:
        row = await session.get(DeskLinkRow, token_hash(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


async def use_link(db: Database, token: str, now: datetime) -> tuple[str, DeskSessionRow] | None:
    """Use the link once and open a session: its token and row; ``None`` if the link is
    unknown, expired or already used."""
    hashed = token_hash(token)
    secret = new_token()
    async with db.session() as session:
        result = await session.execute(
            update(DeskLinkRow)
            .where(
                DeskLinkRow.token_hash == hashed,
                DeskLinkRow.used_at.is_(None),
                DeskLinkRow.expires_at > now,
            )
            .values(used_at=now)
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            return None
        link = await session.get(DeskLinkRow, hashed)
        assert link is not None
        row = DeskSessionRow(
            token_hash=token_hash(secret),
            **_grant(link.member(), link.room(), now, SESSION_LIFETIME),
        )
        session.add(row)
    return secret, row


async def open_session(db: Database, token: str, now: datetime) -> DeskSessionRow | None:
    if not token:
        return None
    async with db.sessions() as session:
        row = await session.get(DeskSessionRow, token_hash(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row


async def end_session(db: Database, token: str, now: datetime) -> None:
    async with db.session() as session:
        await session.execute(
            update(DeskSessionRow)
            .where(
                DeskSessionRow.token_hash == token_hash(token),
                DeskSessionRow.ended_at.is_(None),
            )
            .values(ended_at=now)
        )


async def forget(db: Database, member_id: str) -> None:
    """``!forgetme``: the member's links and sessions go."""
    async with db.session() as session:
        await session.execute(delete(DeskLinkRow).where(DeskLinkRow.member_id == member_id))
        await session.execute(delete(DeskSessionRow).where(DeskSessionRow.member_id == member_id))
