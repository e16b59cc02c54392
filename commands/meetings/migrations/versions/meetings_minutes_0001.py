"""Meetings: where the minutes are (shown with past meetings on the public page).

A branch of its own (``meetings_minutes``) so it never collides with the next numbered
meetings migration.

Revision ID: meetings_minutes_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "meetings_minutes_0001"
down_revision = None
branch_labels = ("meetings_minutes",)
depends_on = "meetings_0001"


def upgrade() -> None:
    op.add_column("meetings", sa.Column("minutes_link", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("minutes_link")
