"""Members' preferences, cached in memory and written through to the database.

Every reply that shows a time needs the reader's zone; reading it from the database on
each message would dominate dispatch, so preferences are cached per member.  Writes go to
the database first, then the cache, so a crash never leaves the cache ahead of the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from chatbot.storage.models import DialogRow, MemberRow

if TYPE_CHECKING:
    from chatbot.events import Member
    from chatbot.storage import Database


@dataclass(frozen=True, slots=True)
class Prefs:
    zone: str | None = None
    lang: str | None = None


class MemberStore:
    def __init__(self, db: Database, cache_size: int = 50_000) -> None:
        self.db = db
        self._cache: dict[str, Prefs] = {}
        self._cache_size = cache_size

    async def prefs(self, member: Member) -> Prefs:
        cached = self._cache.get(member.id)
        if cached is not None:
            return cached
        async with self.db.sessions() as session:
            row = await session.get(MemberRow, member.id)
        prefs = Prefs(row.zone, row.lang) if row else Prefs()
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[member.id] = prefs
        return prefs

    async def update(self, member: Member, **changes: Any) -> Prefs:
        """Set ``zone`` and/or ``lang`` (None clears), creating the member's row if needed."""
        now = self.db.clock.now()
        async with self.db.session() as session:
            row = await session.get(MemberRow, member.id, with_for_update=not self.db.is_sqlite)
            if row is None:
                row = MemberRow(
                    id=member.id,
                    platform=member.platform,
                    display_name=member.display_name,
                    created_at=now,
                )
                session.add(row)
            for key, value in changes.items():
                if key not in ("zone", "lang"):
                    raise KeyError(key)
                setattr(row, key, value)
            row.display_name = member.display_name
            row.updated_at = now
            prefs = Prefs(row.zone, row.lang)
        self._cache[member.id] = prefs
        return prefs

    async def export(self, member_id: str) -> dict[str, Any]:
        """Everything the core stores about a member, for ``!mydata``."""
        async with self.db.sessions() as session:
            row = await session.get(MemberRow, member_id)
            dialogs = (
                await session.scalars(select(DialogRow).where(DialogRow.member_id == member_id))
            ).all()
        data: dict[str, Any] = {"member_id": member_id}
        if row is not None:
            data["profile"] = {
                "platform": row.platform,
                "display_name": row.display_name,
                "time_zone": row.zone,
                "language": row.lang,
                "first_seen": row.created_at.isoformat(),
                "last_updated": row.updated_at.isoformat(),
            }
        data["dialogues_in_progress"] = [
            {
                "dialogue": d.name,
                "room": d.room_id,
                "step": d.step,
                "expires_at": d.expires_at.isoformat(),
            }
            for d in dialogs
        ]
        return data

    async def forget(self, member_id: str) -> None:
        async with self.db.session() as session:
            await session.execute(delete(DialogRow).where(DialogRow.member_id == member_id))
            await session.execute(delete(MemberRow).where(MemberRow.id == member_id))
        self._cache.pop(member_id, None)
