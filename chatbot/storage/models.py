"""Core tables: members, dialogues in progress, adapter state.

Feature modules declare their own tables on the same :class:`Base` and ship migrations.
All datetimes are stored in UTC (``UtcDateTime`` re-attaches the zone that SQLite drops).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class MemberRow(Base):
    """A member's preferences; the id is platform-scoped (``discord:1234``)."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lang: Mapped[str | None] = mapped_column(String(35), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: where a member linked on several platforms wants reminders (a platform name);
    #: None: the platform they last spoke to the bot on
    remind_via: Mapped[str | None] = mapped_column(String(32), nullable=True)


class MemberLinkRow(Base):
    """One account of a member who linked accounts on several platforms (``!link``).

    ``person_id`` is the member's key: the id of the account that asked for the code; that
    account's :class:`MemberRow` holds the member's preferences, and features key their rows
    by it.  At most one account per platform (unique), so two instances racing to link the
    same account never both succeed: the account id is the primary key."""

    __tablename__ = "member_links"
    __table_args__ = (UniqueConstraint("person_id", "platform"),)

    account_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(255), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: when this account last spoke to the bot (kept coarse: written when it changes hands)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LinkCodeRow(Base):
    """A one-time code for ``!link``: stored hashed, valid ten minutes, used once."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(255), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class LinkAttemptRow(Base):
    """A wrong ``!link CODE`` (rate limit: a few per account per window, on every instance)."""

    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(255), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class DialogRow(Base):
    """One dialogue in progress for a member in a room; survives restarts."""

    __tablename__ = "dialogs"

    member_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[str] = mapped_column(Text, default="{}")
    reviewing: Mapped[int] = mapped_column(Integer, default=0)
    return_to_review: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StateRow(Base):
    """Small durable values owned by adapters and workers (sync tokens, device ids)."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
