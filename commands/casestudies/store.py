"""Case studies in the database: one row per study, and every change as a revision.

``case_studies`` holds the current values (``data``, JSON) plus copies of the fields people
search by (title, country, library type, projects, activities, a lower-cased text).
``case_study_revisions`` keeps, for every change after submission, who made it, when, the
state before and after, and the old and new values of the fields that changed: nothing is
overwritten without a trace.  The review room lives in the core ``state`` table.

Every change is a conditional update on the state and revision it was read in
(:func:`~chatbot.storage.conditional.update_if`), numbered revision + 1: of two organisers
acting at once exactly one moves the study, the other's transaction changes nothing
(:class:`~chatbot.storage.conditional.Changed`, tried again on fresh data by the caller, and
then refused with who got there first), and the history has no repeated number (a unique
index backs this).
"""

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, _p, verbatim
from chatbot.messages.events import Plain
from chatbot.storage.conditional import Changed, update_if
from chatbot.storage.models import Base, UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.storage import Database

REVIEW_ROOM_KEY = "casestudies.review_room"

SUBMITTED = "submitted"
IN_REVIEW = "in_review"
ACCEPTED = "accepted"
REJECTED = "rejected"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
STATES = (SUBMITTED, IN_REVIEW, ACCEPTED, REJECTED, PUBLISHED, WITHDRAWN)
#: states whose study is deleted (not detached) when its submitter says ``!forgetme``
UNPUBLISHED = (SUBMITTED, IN_REVIEW, ACCEPTED, REJECTED, WITHDRAWN)

#: (action, from states, to state, organisers only)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "withdraw": ((SUBMITTED,), WITHDRAWN, False),
    "claim": ((SUBMITTED,), IN_REVIEW, True),
    "accept": ((IN_REVIEW,), ACCEPTED, True),
    "reject": ((IN_REVIEW,), REJECTED, True),
    "revise": ((REJECTED, SUBMITTED), SUBMITTED, False),  # edit while pending, or resubmit
    "publish": ((ACCEPTED,), PUBLISHED, True),
    "unpublish": ((PUBLISHED,), ACCEPTED, True),
}


class CaseStudyRow(Base):
    __tablename__ = "case_studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    member_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    data: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    library_type: Mapped[str] = mapped_column(String(20))
    projects: Mapped[str] = mapped_column(String(300))  # ";wikipedia;wikidata;"
    activities: Mapped[str] = mapped_column(String(300))
    search_text: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: the language the study was written in (BCP 47), None when not recorded (older ones)
    written_in: Mapped[str | None] = mapped_column(String(35), nullable=True)


class CaseStudyRevisionRow(Base):
    __tablename__ = "case_study_revisions"
    __table_args__ = (
        Index("uq_case_study_revisions_study_number", "study_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    study_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("case_studies.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: the actor's display name then, to say who got there first
    actor_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    old_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    new_state: Mapped[str] = mapped_column(String(20))
    old_values: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of changed fields
    new_values: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Study(msgspec.Struct, frozen=True):
    id: int
    member_id: str | None
    member_name: str | None
    state: str
    record: dict[str, Any]
    reviewer_id: str | None
    reason: str | None
    revision: int
    created_at: datetime
    updated_at: datetime
    written_in: str | None = None

    @classmethod
    def of(cls, row: CaseStudyRow) -> "Study":
        return cls(
            row.id,
            row.member_id,
            row.member_name,
            row.state,
            json.loads(row.data),
            row.reviewer_id,
            row.reason,
            row.revision,
            row.created_at,
            row.updated_at,
            row.written_in,
        )


class Revision(msgspec.Struct, frozen=True):
    number: int
    action: str
    actor_id: str | None
    at: datetime
    old_state: str | None
    new_state: str
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    note: str | None
    #: the actor's display name when the revision was made (None for older revisions)
    actor_name: str | None = None

    @classmethod
    def of(cls, row: CaseStudyRevisionRow) -> "Revision":
        return cls(
            row.number,
            row.action,
            row.actor_id,
            row.at,
            row.old_state,
            row.new_state,
            json.loads(row.old_values) if row.old_values else None,
            json.loads(row.new_values) if row.new_values else None,
            row.note,
            row.actor_name,
        )


def _tags(values: Any) -> str:
    return ";" + ";".join(values or []) + ";"


def _columns(record: dict[str, Any]) -> dict[str, Any]:
    """The row's columns that hold ``record``: the JSON and the searchable copies."""
    searchable = (
        record.get("title"),
        record.get("institution"),
        record.get("summary"),
        record.get("lessons"),
        record.get("activities_other"),
    )
    return {
        "data": json.dumps(record, ensure_ascii=False, sort_keys=True),
        "title": str(record["title"])[:200],
        "country": str(record["country"]),
        "library_type": str(record["library_type"]),
        "projects": _tags(record.get("projects")),
        "activities": _tags(record.get("activities")),
        "search_text": " ".join(str(v) for v in searchable if v).casefold(),
    }


def _fill(row: CaseStudyRow, record: dict[str, Any]) -> None:
    for name, value in _columns(record).items():
        setattr(row, name, value)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


class CaseStudyStore:
    def __init__(self, db: "Database") -> None:
        self.db = db

    @staticmethod
    def _history(
        session: "AsyncSession",
        study_id: int,
        number: int,
        action: str,
        actor: tuple[str | None, str | None],
        now: datetime,
        states: tuple[str | None, str],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        note: str | None = None,
    ) -> None:
        """Add revision ``number``: ``actor`` is (member id, display name), ``states`` (old,
        new)."""
        session.add(
            CaseStudyRevisionRow(
                study_id=study_id,
                number=number,
                action=action,
                actor_id=actor[0],
                actor_name=actor[1],
                at=now,
                old_state=states[0],
                new_state=states[1],
                old_values=json.dumps(old, ensure_ascii=False) if old is not None else None,
                new_values=json.dumps(new, ensure_ascii=False) if new is not None else None,
                note=note,
            )
        )

    async def submit(
        self,
        session: "AsyncSession",
        member_id: str,
        member_name: str,
        record: dict[str, Any],
        now: datetime,
        *,
        written_in: str | None = None,
    ) -> CaseStudyRow:
        """A new study in ``submitted`` with its first revision (all values new), written
        in language ``written_in`` (a BCP 47 tag)."""
        row = CaseStudyRow(
            member_id=member_id,
            member_name=member_name,
            state=SUBMITTED,
            revision=1,
            created_at=now,
            updated_at=now,
            written_in=written_in,
        )
        _fill(row, record)
        session.add(row)
        await session.flush()
        actor = (member_id, member_name)
        self._history(session, row.id, 1, "submit", actor, now, (None, SUBMITTED), None, record)
        return row

    async def get(self, study_id: int) -> Study | None:
        async with self.db.sessions() as session:
            row = await session.get(CaseStudyRow, study_id)
            return Study.of(row) if row is not None else None

    async def load(self, session: "AsyncSession", study_id: int) -> CaseStudyRow:
        row = await session.get(CaseStudyRow, study_id, with_for_update=True)
        if row is None:
            raise UserError(_("There is no case study #{id}.", id=str(study_id)))
        return row

    async def move(
        self,
        session: "AsyncSession",
        row: CaseStudyRow,
        action: str,
        actor: str,
        now: datetime,
        *,
        actor_name: str | None = None,
        note: str | None = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        """Apply a state move from :data:`TRANSITIONS` (and, for ``revise``, new values) by
        member ``actor`` (``actor_name`` is how they are called).  Refused with a
        :class:`UserError` saying why when the study's state does not allow it; raises
        :class:`Changed` when the study changed since ``row`` was read (nothing is written:
        read it again and retry)."""
        sources, target, _organiser = TRANSITIONS[action]
        if row.state not in sources:
            raise UserError(await self.refusal(session, row, action, actor, now))
        old_state, revision = row.state, row.revision
        values: dict[str, Any] = {"state": target, "revision": revision + 1, "updated_at": now}
        old_values: dict[str, Any] | None = None
        new_values: dict[str, Any] | None = None
        if record is not None:
            old_values, new_values = _diff(json.loads(row.data), record)
            values.update(_columns(record))
        if action == "claim":
            values["reviewer_id"] = actor
        if action == "reject":
            values["reason"] = note
        elif action == "revise":
            values["reason"] = None
        if not await update_if(session, row, {"state": old_state, "revision": revision}, values):
            raise Changed(f"case study #{row.id} changed after it was read")
        self._history(
            session,
            row.id,
            revision + 1,
            action,
            (actor, actor_name),
            now,
            (old_state, target),
            old_values,
            new_values,
            note,
        )

    async def refusal(
        self, session: "AsyncSession", row: CaseStudyRow, action: str, actor: str, now: datetime
    ) -> Msg:
        """Why ``action`` can't be done now.  When the last change left a state where it
        could have been (someone got there first), say who did what and when."""
        sources = TRANSITIONS[action][0]
        state = state_label(row.state)
        allowed = (
            state_label(sources[0])
            if len(sources) == 1
            else _("{a} or {b}", a=state_label(sources[0]), b=state_label(sources[1]))
        )
        past = _PAST[action]
        last = await session.scalar(
            select(CaseStudyRevisionRow)
            .where(CaseStudyRevisionRow.study_id == row.id)
            .order_by(CaseStudyRevisionRow.number.desc())
            .limit(1)
        )
        if last is None or last.old_state not in sources:
            return _(
                "Case study #{id} is {state}; it can only be {past} when it is {allowed}.",
                id=str(row.id),
                state=state,
                past=past,
                allowed=allowed,
            )
        ago = now - last.at
        when = (
            _("a moment ago")
            if ago < RECENT
            else _(
                "on {date} at {time} UTC",
                date=last.at.strftime("%Y-%m-%d"),
                time=last.at.strftime("%H:%M"),
            )
        )
        did = _DID[last.action]
        if last.actor_id == actor:
            return _(
                "You already {did} case study #{id} {when}; it is now {state}, and it can only "
                "be {past} when it is {allowed}.",
                did=did,
                id=str(row.id),
                when=when,
                state=state,
                past=past,
                allowed=allowed,
            )
        name = last.actor_name or (last.actor_id or "").partition(":")[2]
        who = Plain(name) if name else _("Someone")
        return _(
            "{who} already {did} case study #{id} {when}; it is now {state}, and it can only "
            "be {past} when it is {allowed}.",
            who=who,
            did=did,
            id=str(row.id),
            when=when,
            state=state,
            past=past,
            allowed=allowed,
        )

    async def revisions(self, study_id: int) -> list[Revision]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(CaseStudyRevisionRow)
                .where(CaseStudyRevisionRow.study_id == study_id)
                .order_by(CaseStudyRevisionRow.number)
            )
            return [Revision.of(r) for r in rows]

    async def of_member(self, member_id: str) -> list[Study]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(CaseStudyRow)
                .where(CaseStudyRow.member_id == member_id)
                .order_by(CaseStudyRow.id)
            )
            return [Study.of(r) for r in rows]

    async def in_states(self, states: tuple[str, ...]) -> list[Study]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(CaseStudyRow).where(CaseStudyRow.state.in_(states)).order_by(CaseStudyRow.id)
            )
            return [Study.of(r) for r in rows]

    async def search(
        self,
        text: str,
        states: tuple[str, ...],
        *,
        country: str | None = None,
        activity: str | None = None,
        project: str | None = None,
    ) -> list[Study]:
        query = select(CaseStudyRow).where(CaseStudyRow.state.in_(states))
        if country:
            query = query.where(CaseStudyRow.country == country)
        if activity:
            query = query.where(CaseStudyRow.activities.contains(f";{activity};", autoescape=True))
        if project:
            query = query.where(CaseStudyRow.projects.contains(f";{project};", autoescape=True))
        for word in text.casefold().split():
            query = query.where(CaseStudyRow.search_text.contains(word, autoescape=True))
        async with self.db.sessions() as session:
            rows = await session.scalars(query.order_by(CaseStudyRow.id).limit(50))
            return [Study.of(r) for r in rows]

    async def member_data(self, member_id: str) -> list[dict[str, Any]]:
        return [
            {
                "id": s.id,
                "state": s.state,
                "revision": s.revision,
                "created_at": s.created_at.isoformat(),
                "written_in": s.written_in,
                "rejection_reason": s.reason,
                "values": s.record,
            }
            for s in await self.of_member(member_id)
        ]

    async def forget(self, member_id: str, now: datetime) -> tuple[int, int]:
        """Delete the member's unpublished studies; detach name and contact from published
        ones (credit becomes "anonymous", the revisions lose who and contact).  Returns
        (deleted, detached)."""
        async with self.db.session() as session:
            rows = list(
                await session.scalars(
                    select(CaseStudyRow).where(CaseStudyRow.member_id == member_id)
                )
            )
            gone = [r.id for r in rows if r.state in UNPUBLISHED]
            if gone:
                await session.execute(
                    delete(CaseStudyRevisionRow).where(CaseStudyRevisionRow.study_id.in_(gone))
                )
                await session.execute(delete(CaseStudyRow).where(CaseStudyRow.id.in_(gone)))
            kept = [r for r in rows if r.state not in UNPUBLISHED]
            for row in kept:
                record = json.loads(row.data)
                record["credit"] = "anonymous"
                record["contact"] = None
                _fill(row, record)
                row.member_id = None
                row.member_name = None
                revisions = await session.scalars(
                    select(CaseStudyRevisionRow).where(CaseStudyRevisionRow.study_id == row.id)
                )
                for rev in revisions:
                    if rev.actor_id == member_id:
                        rev.actor_id = None
                        rev.actor_name = None
                    for attr in ("old_values", "new_values"):
                        raw = getattr(rev, attr)
                        if raw:
                            values = json.loads(raw)
                            for key in ("credit", "contact"):
                                if key in values and values[key] is not None:
                                    values[key] = "(removed)"
                            setattr(rev, attr, json.dumps(values, ensure_ascii=False))
                row.updated_at = now
            return len(gone), len(kept)

    async def review_room(self) -> dict[str, str] | None:
        raw = await self.db.get_state(REVIEW_ROOM_KEY)
        return json.loads(raw) if raw else None

    async def set_review_room(self, room: dict[str, str]) -> None:
        await self.db.set_state(REVIEW_ROOM_KEY, json.dumps(room))


#: how long ago a change is "a moment ago"
RECENT = timedelta(minutes=2)


#: what someone did (``{who} already {did} case study #3``)
_DID: dict[str, Msg] = {
    "withdraw": _p("someone did to a case study", "withdrew"),
    "claim": _p("someone did to a case study", "claimed"),
    "accept": _p("someone did to a case study", "accepted"),
    "reject": _p("someone did to a case study", "rejected"),
    "revise": _p("someone did to a case study", "revised"),
    "publish": _p("someone did to a case study", "published"),
    "unpublish": _p("someone did to a case study", "unpublished"),
    "submit": _p("someone did to a case study", "submitted"),
}
#: what can be done (``it can only be {past} when…``)
_PAST: dict[str, Msg] = {
    "withdraw": _p("a case study can only be", "withdrawn"),
    "claim": _p("a case study can only be", "claimed"),
    "accept": _p("a case study can only be", "accepted"),
    "reject": _p("a case study can only be", "rejected"),
    "revise": _p("a case study can only be", "revised"),
    "publish": _p("a case study can only be", "published"),
    "unpublish": _p("a case study can only be", "unpublished"),
    "submit": _p("a case study can only be", "submitted"),
}
#: each state as members read it
STATE_LABELS: dict[str, Msg] = {
    SUBMITTED: _p("case study state", "submitted"),
    IN_REVIEW: _p("case study state", "in review"),
    ACCEPTED: _p("case study state", "accepted"),
    REJECTED: _p("case study state", "rejected"),
    PUBLISHED: _p("case study state", "published"),
    WITHDRAWN: _p("case study state", "withdrawn"),
}


#: each action of a study's history as members read it: what happened to the study, said of
#: the study (``revised by alice``): the past participle agrees with "case study"
ACTION_LABELS: dict[str, Msg] = {
    "submit": _p("case study history", "submitted"),
    "withdraw": _p("case study history", "withdrawn"),
    "claim": _p("case study history", "taken for review"),
    "accept": _p("case study history", "accepted"),
    "reject": _p("case study history", "sent back for changes"),
    "revise": _p("case study history", "revised"),
    "publish": _p("case study history", "published"),
    "unpublish": _p("case study history", "unpublished"),
}


def action_label(action: str) -> Msg:
    """An action of the history in the reader's language (``revise`` → "revised")."""
    return ACTION_LABELS.get(action) or verbatim("{action}", action=action)


def state_label(state: str) -> Msg:
    """A state in the reader's language (``in_review`` → "in review")."""
    return STATE_LABELS.get(state) or verbatim("{state}", state=state.replace("_", " "))
