"""Alembic revisions of the meetings module."""
