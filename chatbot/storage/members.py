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

from chatbot.storage.links import LinkStore
from chatbot.storage.models import DialogRow, MemberLinkRow, MemberRow

if TYPE_CHECKING:
    from chatbot.messages.events import Incoming, Member
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
        self.links = LinkStore(db)
        self._cache: dict[str, Prefs] = {}
        self._cache_size = cache_size
        #: the platform each linked member last spoke on (written to the database on change)
        self._last_platform: dict[str, str] = {}

    def key_of(self, member: Member) -> str:
        """What ``member``'s preferences and data are stored under (see ``Member.key``)."""
        if member.person or not self.links.any_linked:
            return member.person or member.id
        return self.links.person_of(member.id) or member.id

    async def identify(self, incoming: Incoming) -> Incoming:
        """``incoming`` with its member's linked identity filled in (no change for a member
        who linked nothing: the common case costs one dictionary lookup)."""
        if not self.links.any_linked:
            return incoming
        person = self.links.person_of(incoming.member.id)
        if not person:
            return incoming
        member = msgspec.structs.replace(incoming.member, person=person)
        if self._last_platform.get(person) != member.id:
            self._last_platform[person] = member.id
            await self.links.seen(member)
        return msgspec.structs.replace(incoming, member=member)

    def cached(self, member: Member) -> Prefs | None:
        """``member``'s preferences if they are in memory (every reply needs them: this
        spares the common case a coroutine), else None: ask :meth:`prefs`."""
        if member.person or not self.links.any_linked:  # key_of's common case, inline
            return self._cache.get(member.person or member.id)
        return self._cache.get(self.key_of(member))

    async def prefs(self, member: Member) -> Prefs:
        key = self.key_of(member)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        async with self.db.sessions() as session:
            row = await session.get(MemberRow, key)
        prefs = Prefs(row.zone, row.lang) if row else Prefs()
        self._remember(key, prefs)
        return prefs

    def forget_cached(self, *keys: str) -> None:
        for key in keys:
            self._cache.pop(key, None)

    async def zones(self, member_ids: Iterable[str]) -> dict[str, str | None]:
        """Each member's zone (None when unset or unknown), for a post a whole room reads.

        Cached members cost nothing; the rest are read in batches of :data:`ZONE_BATCH`
        ids, one query each, and cached, so a large room is read once. A member who linked
        accounts has the zone of their key, whichever account is in the room."""
        keys = {member_id: self.links.person_of(member_id) or member_id for member_id in member_ids}
        found: dict[str, str | None] = {}
        missing: list[str] = []
        for key in dict.fromkeys(keys.values()):
            cached = self._cache.get(key)
            if cached is None:
                missing.append(key)
            else:
                found[key] = cached.zone
        for start in range(0, len(missing), ZONE_BATCH):
            chunk = missing[start : start + ZONE_BATCH]
            query = select(MemberRow.id, MemberRow.zone, MemberRow.lang).where(
                MemberRow.id.in_(chunk)
            )
            async with self.db.sessions() as session:
                rows = {r.id: Prefs(r.zone, r.lang) for r in (await session.execute(query))}
            for key in chunk:
                prefs = rows.get(key, _NO_PREFS)
                self._remember(key, prefs)
                found[key] = prefs.zone
        return {member_id: found[key] for member_id, key in keys.items()}

    async def display_names(self, member_ids: Iterable[str]) -> dict[str, str]:
        """The display name the bot last saw for each of ``member_ids`` that it knows (a
        member's row, or a linked account's), for pages and lists that name members: an
        account id (``console:ana``) is what a reader gets only when no name is known."""
        ids = list(dict.fromkeys(i for i in member_ids if i))
        found: dict[str, str] = {}
        async with self.db.sessions() as session:
            for start in range(0, len(ids), ZONE_BATCH):
                chunk = ids[start : start + ZONE_BATCH]
                links = select(MemberLinkRow.account_id, MemberLinkRow.display_name).where(
                    MemberLinkRow.account_id.in_(chunk)
                )
                rows = select(MemberRow.id, MemberRow.display_name).where(MemberRow.id.in_(chunk))
                for query in (links, rows):  # a member's own row last: it wins
                    for key, name in await session.execute(query):
                        if name:
                            found[key] = name
        return found

    def _remember(self, member_id: str, prefs: Prefs) -> None:
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[member_id] = prefs

    async def update(self, member: Member, **changes: Any) -> Prefs:
        """Set ``zone``, ``lang`` and/or ``remind_via`` (None clears), creating the member's
        row if needed (for a linked member: the row of their key)."""
        now = self.db.clock.now()
        key = self.key_of(member)
        async with self.db.session() as session:
            row = await session.get(MemberRow, key, with_for_update=not self.db.is_sqlite)
            if row is None:
                row = MemberRow(
                    id=key,
                    platform=member.platform,
                    display_name=member.display_name,
                    created_at=now,
                )
                session.add(row)
            for field, value in changes.items():
                if field not in ("zone", "lang", "remind_via"):
                    raise KeyError(field)
                setattr(row, field, value)
            if key == member.id:
                row.display_name = member.display_name
            row.updated_at = now
            prefs = Prefs(row.zone, row.lang)
        self._cache[key] = prefs
        return prefs

    async def export(self, key: str) -> dict[str, Any]:
        """Everything the core stores about a member (all their linked accounts), for
        ``!mydata``; ``key`` is :attr:`Member.key`."""
        accounts = await self.links.accounts(key)
        ids = [a.id for a in accounts]
        async with self.db.sessions() as session:
            rows = {
                r.id: r
                for r in (await session.scalars(select(MemberRow).where(MemberRow.id.in_(ids))))
            }
            dialogs = (
                await session.scalars(select(DialogRow).where(DialogRow.member_id.in_(ids)))
            ).all()
        data: dict[str, Any] = {"member_id": key}
        row = rows.get(key)
        if row is not None:
            data["profile"] = {
                "platform": row.platform,
                "display_name": row.display_name,
                "time_zone": row.zone,
                "language": row.lang,
                "reminders_via": row.remind_via,
                "first_seen": row.created_at.isoformat(),
                "last_updated": row.updated_at.isoformat(),
            }
        if len(accounts) > 1:
            data["linked_accounts"] = [
                {"account": a.id, "platform": a.platform, "display_name": a.display_name}
                for a in accounts
            ]
        data["dialogues_in_progress"] = [
            {
                "dialogue": d.name,
                "account": d.member_id,
                "room": d.room_id,
                "step": d.step,
                "expires_at": d.expires_at.isoformat(),
            }
            for d in dialogs
        ]
        return data

    async def forget(self, key: str) -> list[str]:
        """Delete the member (every linked account); returns the account ids forgotten."""
        ids = await self.links.forget(key)
        async with self.db.session() as session:
            await session.execute(delete(DialogRow).where(DialogRow.member_id.in_(ids)))
            await session.execute(delete(MemberRow).where(MemberRow.id.in_([key, *ids])))
        self.forget_cached(key, *ids)
        for account in ids:
            self._last_platform.pop(account, None)
        self._last_platform.pop(key, None)
        return ids
