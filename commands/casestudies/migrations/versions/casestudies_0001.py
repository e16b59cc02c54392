"""Case-study tables: the studies and their revisions.

Revision ID: casestudies_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "casestudies_0001"
down_revision = None
branch_labels = ("casestudies",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "case_studies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(255), nullable=True),
        sa.Column("member_name", sa.String(255), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("library_type", sa.String(20), nullable=False),
        sa.Column("projects", sa.String(300), nullable=False),
        sa.Column("activities", sa.String(300), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_studies"),
    )
    op.create_index("ix_case_studies_member_id", "case_studies", ["member_id"])
    op.create_index("ix_case_studies_state", "case_studies", ["state"])
    op.create_index("ix_case_studies_country", "case_studies", ["country"])
    op.create_table(
        "case_study_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(255), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("old_state", sa.String(20), nullable=True),
        sa.Column("new_state", sa.String(20), nullable=False),
        sa.Column("old_values", sa.Text(), nullable=True),
        sa.Column("new_values", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_study_revisions"),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["case_studies.id"],
            name="fk_case_study_revisions_study_id_case_studies",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_case_study_revisions_study_id", "case_study_revisions", ["study_id"])


def downgrade() -> None:
    op.drop_index("ix_case_study_revisions_study_id", "case_study_revisions")
    op.drop_table("case_study_revisions")
    op.drop_index("ix_case_studies_country", "case_studies")
    op.drop_index("ix_case_studies_state", "case_studies")
    op.drop_index("ix_case_studies_member_id", "case_studies")
    op.drop_table("case_studies")
