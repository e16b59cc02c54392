"""Alembic environment: always run on the connection the bot hands over."""

from __future__ import annotations

from alembic import context

from chatbot.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the bot always passes its connection
    raise RuntimeError("run migrations with `chatbot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
