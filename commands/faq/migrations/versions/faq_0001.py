"""FAQ tables: knowledge-base overrides edited in chat, questions the bot could not answer.

Revision ID: faq_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "faq_0001"
down_revision = None
branch_labels = ("faq",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("alternates", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(35), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
    )
    op.create_table(
        "faq_unanswered",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("asked_at", UtcDateTime(), nullable=False),
        sa.Column("lang", sa.String(35), nullable=True),
        sa.Column("answered_entry", sa.String(100), nullable=True),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_faq_unanswered"),
    )
    op.create_index("ix_faq_unanswered_member_id", "faq_unanswered", ["member_id"])
    op.create_index("ix_faq_unanswered_asked_at", "faq_unanswered", ["asked_at"])


def downgrade() -> None:
    op.drop_index("ix_faq_unanswered_asked_at", "faq_unanswered")
    op.drop_index("ix_faq_unanswered_member_id", "faq_unanswered")
    op.drop_table("faq_unanswered")
    op.drop_table("faq_entries")
