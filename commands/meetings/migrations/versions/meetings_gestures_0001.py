"""Meetings: the reactions that gave RSVPs, so taking one back withdraws its answer.

A branch of its own (``meetings_gestures``) so it never collides with the next numbered
meetings migration.

Revision ID: meetings_gestures_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "meetings_gestures_0001"
down_revision = None
branch_labels = ("meetings_gestures",)
depends_on = "meetings_0001"


def upgrade() -> None:
    op.create_table(
        "meeting_rsvp_gestures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("gesture", sa.String(255), nullable=False, unique=True),
        sa.Column("meeting_id", sa.Integer(), nullable=False, index=True),
        sa.Column("member_id", sa.String(255), nullable=False, index=True),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meeting_rsvp_gestures")
