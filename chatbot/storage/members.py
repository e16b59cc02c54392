"""Members' preferences, cached in memory and written through to the database.

Every reply that shows a time needs the reader's zone; reading it from the database on
each message would dominate dispatch, so preferences are cached per member.  Writes go to
the database first, then the cache, so a crash never leaves the cache ahead of the truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import delete, select

from chatbot.storage.models import DialogRow, MemberRow

if TYPE_CHECKING:
    from chatbot.messages.events import Member
    from chatbot.storage import Database


class Prefs(msgspec.Struct, frozen=True):
    zone: str | None = None
    lang: str | None = None


_NO_PREFS = Prefs()
#: member ids per query in :meth:`MemberStore.zones` (well under SQLite's variable limit)
ZONE_BATCH = 500


def store_of(core: object) -> MemberStore | None:
    """The bot's member store, for an adapter that renders for a whole room (the Matrix
    room posts list every member's zone).  Read by attribute rather than declared on the
    ``Core`` protocol, so adapters without that need (and their test cores) are unaffected."""
    store = getattr(core, "members", None)
    return store if isinstance(store, MemberStore) else None


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
        self._remember(member.id, prefs)
        return prefs

    async def zones(self, member_ids: Iterable[str]) -> dict[str, str | None]:
        """Each member's zone (None when unset or unknown), for a post a whole room reads.

        Cached members cost nothing; the rest are read in batches of :data:`ZONE_BATCH`
        ids, one query each, and cached, so a large room is read once."""
        found: dict[str, str | None] = {}
        missing: list[str] = []
        for member_id in member_ids:
            cached = self._cache.get(member_id)
            if cached is None:
                missing.append(member_id)
            else:
                found[member_id] = cached.zone
        for start in range(0, len(missing), ZONE_BATCH):
            chunk = missing[start : start + ZONE_BATCH]
            query = select(MemberRow.id, MemberRow.zone, MemberRow.lang).where(
                MemberRow.id.in_(chunk)
            )
            async with self.db.sessions() as session:
                rows = {r.id: Prefs(r.zone, r.lang) for r in (await session.execute(query))}
            for member_id in chunk:
                prefs = rows.get(member_id, _NO_PREFS)
                self._remember(member_id, prefs)
                found[member_id] = prefs.zone
        return found

    def _remember(self, member_id: str, prefs: Prefs) -> None:
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[member_id] = prefs

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
