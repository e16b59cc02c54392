"""Alembic migrations of the FAQ module (its own branch, ``faq``)."""
