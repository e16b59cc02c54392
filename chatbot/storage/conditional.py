"""Writes that hold only while the row is as it was read (optimistic concurrency).

Two members acting on one object at once each read it, check it, then write it.  A row lock
(``SELECT … FOR UPDATE``) serialises that on PostgreSQL but does nothing on SQLite, whose
driver runs the reads before a transaction's first write outside any transaction: both
checks pass and both writes land.  :func:`update_if` puts the check into the write —
``UPDATE … WHERE <key> AND state = :read AND revision = :read`` — and says whether it hit the
row, so exactly one of the racers changes it and the others change nothing and can be told
what happened.  :func:`upsert` is the same idea for rows keyed by who wrote them (one answer
per member), where the last write wins but a second insert must not fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from chatbot.base.errors import ChatbotError, UserError
from chatbot.base.i18n import Msg

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import DeclarativeBase


T = TypeVar("T")

#: how often :func:`retrying` runs a transaction whose row changed under it
ATTEMPTS = 5


class Changed(ChatbotError):
    """The row was changed (or deleted) by someone else between reading and writing it."""


async def retrying(attempt: Callable[[], Awaitable[T]], *, busy: str | Msg) -> T:
    """Run ``attempt`` (one whole transaction: read, check, conditional write) again while
    it raises :class:`Changed`; after :data:`ATTEMPTS` tries, a :class:`UserError` saying
    ``busy`` (the object is being changed by others right now)."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await attempt()
        except Changed:
            continue
    try:
        return await attempt()
    except Changed:
        raise UserError(busy) from None


async def update_if(
    session: AsyncSession,
    row: DeclarativeBase,
    expected: Mapping[str, Any],
    values: Mapping[str, Any],
) -> bool:
    """Set ``values`` on ``row`` in the database only if its columns still hold ``expected``;
    False (and nothing written) when they don't.  On success ``row`` shows the new values
    without being marked changed.  ``row`` must have no unsaved changes of its own."""
    mapper = inspect(row).mapper
    model = mapper.class_
    keys = mapper.primary_key_from_instance(row)
    conditions = [column == key for column, key in zip(mapper.primary_key, keys, strict=True)]
    conditions += [getattr(model, name) == value for name, value in expected.items()]
    result = await session.execute(
        update(model)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    keys: Sequence[str],
    *,
    replace: bool = True,
) -> bool:
    """Insert a row, or (``replace``) update the one with the same ``keys`` to ``values``,
    in one statement (``INSERT … ON CONFLICT``), so two at once never collide on the key.
    With ``replace=False`` an existing row is left alone.  True when a row was written."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(model).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(model).values(**values)
    if replace:
        changes = {name: statement.excluded[name] for name in values if name not in keys}
        statement = statement.on_conflict_do_update(index_elements=keys, set_=changes)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))
