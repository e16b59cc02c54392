"""The FAQ module's tables: knowledge-base overrides and questions the bot could not answer.

The shipped ``kb.toml`` is the *base*. Organisers' edits (in chat or by ``chatbot faq
import``) are stored as **overrides**, one ``faq_entries`` row per entry id: a row replaces
the base entry with that id, adds a new entry, or (``removed``) hides a base entry. The
effective knowledge base is the base with the overrides applied, so a new release's base
changes still reach every entry nobody edited.

Every change also writes a new random revision token to the core ``state`` table, in the same
transaction; each instance compares it with the one its index was built from before it
answers, so an edit made through one instance reaches the others.

Each override row also has its own ``revision``.  An edit in chat is written only if the row
is still at the revision the edit was based on (``expect``: an ``UPDATE … WHERE revision =``,
or an ``INSERT`` when it was based on no row); otherwise :class:`Changed` is raised and nothing
is written, so of two organisers editing one entry at once the second does not silently
overwrite the first.  Imports replace everything on purpose and are not checked.
"""

import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from sqlalchemy import Boolean, Integer, String, Text, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.base.logs import get_logger
from chatbot.storage.conditional import Changed, upsert
from chatbot.storage.models import Base, StateRow, UtcDateTime
from commands.faq.kb import Entry, KbError, KnowledgeBase

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.storage import Database

log = get_logger("commands.faq")

REVISION_KEY = "faq.revision"
#: Open unanswered questions kept per member; beyond that new ones are not recorded.
MAX_OPEN_PER_MEMBER = 25

#: what a write expects of the stored row: its revision, None (no row), or anything
Expect = int | None | Literal["any"]


class FaqEntryRow(Base):
    """One override of the shipped knowledge base: an edited, added or removed entry."""

    __tablename__ = "faq_entries"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    question: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    alternates: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    near_misses: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    lang: Mapped[str] = mapped_column(String(35), default="en")
    seq: Mapped[int] = mapped_column(Integer, default=0)  # order of added entries
    #: bumped by every write; an edit based on an older one is refused
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnansweredRow(Base):
    """A question the knowledge base could not answer, for the organisers to look at."""

    __tablename__ = "faq_unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    member_id: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    lang: Mapped[str | None] = mapped_column(String(35), nullable=True)
    answered_entry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Override(msgspec.Struct, frozen=True):
    """One stored override: ``entry`` replaces or adds an entry; None hides the base one."""

    id: str
    entry: Entry | None
    seq: int
    #: the stored row's revision (0 for one not stored yet)
    revision: int = 0


class Unanswered(msgspec.Struct, frozen=True):
    """A recorded question, as shown to organisers and in ``!mydata``."""

    id: int
    text: str
    member_id: str
    room_id: str
    asked_at: datetime
    lang: str | None
    answered_entry: str | None
    answered_at: datetime | None

    @classmethod
    def of(cls, row: UnansweredRow) -> "Unanswered":
        return cls(
            row.id,
            row.text,
            row.member_id,
            row.room_id,
            row.asked_at,
            row.lang,
            row.answered_entry,
            row.answered_at,
        )


def _entry_of(row: FaqEntryRow) -> Entry:
    """The entry a row holds; raises :class:`KbError` (naming the entry) when it is bad."""
    try:
        lists = [json.loads(text) for text in (row.alternates, row.tags, row.near_misses)]
    except ValueError:
        raise KbError([f"entry {row.id!r}: stored phrasings or tags are not JSON"]) from None
    if not all(isinstance(x, list) and all(isinstance(s, str) for s in x) for x in lists):
        raise KbError([f"entry {row.id!r}: stored phrasings or tags are not lists of strings"])
    alternates, tags, near_misses = (tuple(x) for x in lists)
    entry = Entry(row.id, row.question, row.answer, alternates, tags, row.lang, near_misses)
    KnowledgeBase((entry,))  # the engine's validation
    return entry


def merge(base: KnowledgeBase, overrides: "Sequence[Override]") -> KnowledgeBase:
    """The effective knowledge base: base order first, then added entries by ``seq``."""
    by_id = {o.id: o for o in overrides}
    entries: list[Entry] = []
    for entry in base.entries:
        override = by_id.get(entry.id)
        if override is None:
            entries.append(entry)
        elif override.entry is not None:
            entries.append(override.entry)
    added = sorted(
        (o for o in overrides if base.get(o.id) is None and o.entry is not None),
        key=lambda o: (o.seq, o.id),
    )
    entries.extend(o.entry for o in added if o.entry is not None)
    return KnowledgeBase(tuple(entries))


def diff(base: KnowledgeBase, target: KnowledgeBase) -> list[Override]:
    """The overrides that turn ``base`` into ``target`` (nothing for unchanged entries)."""
    overrides: list[Override] = []
    for seq, entry in enumerate(target.entries):
        if base.get(entry.id) != entry:
            overrides.append(Override(entry.id, entry, seq))
    overrides.extend(
        Override(entry.id, None, 0) for entry in base.entries if target.get(entry.id) is None
    )
    return overrides


class FaqStore:
    """Reads and writes the FAQ tables."""

    def __init__(self, db: "Database") -> None:
        self.db = db

    # -- overrides ---------------------------------------------------------------------------

    async def revision(self) -> str | None:
        """The token of the last change, or None if nothing was ever changed."""
        return await self.db.get_state(REVISION_KEY)

    async def overrides(self) -> tuple[list[Override], str | None]:
        """Every valid stored override and the revision they belong to (one snapshot).

        A row that no longer passes validation is skipped with a warning: a bad row must not
        keep the bot from answering.
        """
        async with self.db.sessions() as session:
            revision = await session.scalar(
                select(StateRow.value).where(StateRow.key == REVISION_KEY)
            )
            rows = (await session.scalars(select(FaqEntryRow))).all()
        result: list[Override] = []
        for row in rows:
            if row.removed:
                result.append(Override(row.id, None, row.seq, row.revision))
                continue
            try:
                result.append(Override(row.id, _entry_of(row), row.seq, row.revision))
            except KbError as exc:
                log.warning("faq_bad_override", entry=row.id, problems=list(exc.problems))
        return result, revision

    async def _bump(self, session: "AsyncSession") -> str:
        token = secrets.token_hex(8)
        values = {"key": REVISION_KEY, "value": token, "updated_at": self.db.clock.now()}
        await upsert(session, StateRow, values, ["key"])  # two first edits at once: no clash
        return token

    async def _write(
        self,
        session: "AsyncSession",
        override: Override,
        member_id: str | None,
        expect: Expect = "any",
    ) -> None:
        """Write one override; with ``expect`` other than ``"any"``, only over the row at
        that revision (None: only where there is no row), else :class:`Changed`."""
        now = self.db.clock.now()
        entry = override.entry
        values: dict[str, Any] = {
            "removed": entry is None,
            "question": entry.question if entry else "",
            "answer": entry.answer if entry else "",
            "alternates": json.dumps(list(entry.alternates) if entry else [], ensure_ascii=False),
            "tags": json.dumps(list(entry.tags) if entry else [], ensure_ascii=False),
            "near_misses": json.dumps(list(entry.near_misses) if entry else [], ensure_ascii=False),
            "lang": entry.lang if entry else "en",
            "updated_by": member_id,
            "updated_at": now,
        }
        if isinstance(expect, int):
            result = await session.execute(
                update(FaqEntryRow)
                .where(FaqEntryRow.id == override.id, FaqEntryRow.revision == expect)
                .values(**values, revision=expect + 1)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                raise Changed(f"FAQ entry {override.id} changed after it was read")
            return
        row = await session.get(FaqEntryRow, override.id) if expect == "any" else None
        if row is None:
            seq = override.seq
            if override.entry is not None and seq < 0:
                top = await session.scalar(select(func.max(FaqEntryRow.seq)))
                seq = (top or 0) + 1
            row = FaqEntryRow(id=override.id, seq=max(seq, 0), created_at=now, revision=0)
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.revision += 1
        if expect is None:  # based on no row: another one written meanwhile fails the insert
            try:
                await session.flush()
            except IntegrityError:
                raise Changed(f"FAQ entry {override.id} was added after it was read") from None

    async def save(
        self, override: Override, member_id: str | None, *, expect: Expect = "any"
    ) -> str:
        """Store one override (``seq < 0``: after every added entry); returns the revision.
        ``expect``: see :meth:`_write`."""
        async with self.db.session() as session:
            await self._write(session, override, member_id, expect)
            return await self._bump(session)

    async def drop(self, entry_id: str, *, expect: Expect = "any") -> str:
        r"""Delete the override of ``entry_id`` (back to the base, or gone if it was added);
        with an ``expect``\ ed revision, only that one (else :class:`Changed`)."""
        async with self.db.session() as session:
            query = delete(FaqEntryRow).where(FaqEntryRow.id == entry_id)
            if isinstance(expect, int):
                query = query.where(FaqEntryRow.revision == expect)
            result = await session.execute(query)
            if isinstance(expect, int) and getattr(result, "rowcount", 0) != 1:
                raise Changed(f"FAQ entry {entry_id} changed after it was read")
            return await self._bump(session)

    async def changed_by(self, entry_id: str) -> str | None:
        """Who last wrote the override of ``entry_id`` (None: nobody, or forgotten)."""
        async with self.db.sessions() as session:
            return await session.scalar(
                select(FaqEntryRow.updated_by).where(FaqEntryRow.id == entry_id)
            )

    async def replace_all(self, overrides: "Sequence[Override]", member_id: str | None) -> str:
        """Replace every stored override with ``overrides`` in one transaction."""
        async with self.db.session() as session:
            await session.execute(delete(FaqEntryRow))
            await session.flush()
            for override in overrides:
                await self._write(session, override, member_id)
            return await self._bump(session)

    async def merge_in(self, overrides: "Sequence[Override]", member_id: str | None) -> str:
        """Add or replace the given overrides, keeping the others."""
        async with self.db.session() as session:
            for override in overrides:
                await self._write(session, override, member_id)
            return await self._bump(session)

    # -- unanswered questions ---------------------------------------------------------------

    async def record(self, text: str, member_id: str, room_id: str, lang: str | None) -> int | None:
        """Record a question; None when the member already has it or too many open ones."""
        async with self.db.session() as session:
            open_rows = (
                await session.scalars(
                    select(UnansweredRow.text).where(
                        UnansweredRow.member_id == member_id,
                        UnansweredRow.answered_at.is_(None),
                    )
                )
            ).all()
            if text in open_rows or len(open_rows) >= MAX_OPEN_PER_MEMBER:
                return None
            row = UnansweredRow(
                text=text,
                member_id=member_id,
                room_id=room_id,
                asked_at=self.db.clock.now(),
                lang=lang,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def recent(self, limit: int, *, include_answered: bool = False) -> list[Unanswered]:
        """The most recent questions, newest first (open ones only by default)."""
        query = select(UnansweredRow).order_by(UnansweredRow.id.desc()).limit(limit)
        if not include_answered:
            query = query.where(UnansweredRow.answered_at.is_(None))
        async with self.db.sessions() as session:
            return [Unanswered.of(r) for r in (await session.scalars(query)).all()]

    async def open_count(self) -> int:
        async with self.db.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(UnansweredRow)
                .where(UnansweredRow.answered_at.is_(None))
            )
            return int(count or 0)

    async def get(self, number: int) -> Unanswered | None:
        async with self.db.sessions() as session:
            row = await session.get(UnansweredRow, number)
            return Unanswered.of(row) if row is not None else None

    async def close(self, number: int, entry_id: str | None) -> None:
        """Mark a question handled: answered by ``entry_id``, or dismissed (None)."""
        async with self.db.session() as session:
            await session.execute(
                update(UnansweredRow)
                .where(UnansweredRow.id == number)
                .values(answered_entry=entry_id, answered_at=self.db.clock.now())
            )

    # -- privacy ------------------------------------------------------------------------------

    async def member_data(self, member_id: str) -> dict[str, Any]:
        """What the FAQ tables hold about a member, for ``!mydata``."""
        async with self.db.sessions() as session:
            rows = (
                await session.scalars(
                    select(UnansweredRow)
                    .where(UnansweredRow.member_id == member_id)
                    .order_by(UnansweredRow.id)
                )
            ).all()
            edited = (
                await session.scalars(
                    select(FaqEntryRow.id)
                    .where(FaqEntryRow.updated_by == member_id)
                    .order_by(FaqEntryRow.id)
                )
            ).all()
        data: dict[str, Any] = {
            "unanswered_questions": [
                {
                    "number": r.id,
                    "text": r.text,
                    "room": r.room_id,
                    "asked_at": r.asked_at.isoformat(),
                    "language": r.lang,
                    "answered_by_entry": r.answered_entry,
                }
                for r in rows
            ]
        }
        if edited:
            data["knowledge_base_entries_last_edited"] = list(edited)
        return data

    async def forget(self, member_id: str) -> int:
        """Delete the member's questions and unlink their name from edits; returns how many
        questions were deleted."""
        async with self.db.session() as session:
            result = await session.execute(
                delete(UnansweredRow).where(UnansweredRow.member_id == member_id)
            )
            await session.execute(
                update(FaqEntryRow)
                .where(FaqEntryRow.updated_by == member_id)
                .values(updated_by=None)
            )
            return int(getattr(result, "rowcount", 0) or 0)
