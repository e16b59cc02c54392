"""The review desk: one-time sign-in links and browser sessions, stored as token hashes.

A branch of its own (``casestudies_desk``) so it never collides with the next numbered
case-study migration.

Revision ID: casestudies_desk_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "casestudies_desk_0001"
down_revision = None
branch_labels = ("casestudies_desk",)
depends_on = "casestudies_0001"


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("member_name", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("room_name", sa.String(255), nullable=False),
        sa.Column("room_direct", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "casestudy_desk_links",
        *_columns(),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_casestudy_desk_links"),
    )
    op.create_table(
        "casestudy_desk_sessions",
        *_columns(),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_casestudy_desk_sessions"),
    )


def downgrade() -> None:
    op.drop_table("casestudy_desk_sessions")
    op.drop_table("casestudy_desk_links")
