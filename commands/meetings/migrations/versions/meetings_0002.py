"""Meetings published as platform scheduled events; where an RSVP came from.

Revision ID: meetings_0002
Revises: meetings_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "meetings_0002"
down_revision = "meetings_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_platform_events",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "meeting_id", "platform", "scope", name="pk_meeting_platform_events"
        ),
    )
    op.create_index("ix_meeting_platform_events_event_id", "meeting_platform_events", ["event_id"])
    op.add_column("meeting_rsvps", sa.Column("source", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting_rsvps") as batch:
        batch.drop_column("source")
    op.drop_index("ix_meeting_platform_events_event_id", "meeting_platform_events")
    op.drop_table("meeting_platform_events")
