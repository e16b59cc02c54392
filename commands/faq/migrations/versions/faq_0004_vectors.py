"""Stored embeddings of the knowledge base's texts (one row per model and text).

Revision ID: faq_0004_vectors
Revises: faq_0003_revision
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "faq_0004_vectors"
down_revision = "faq_0003_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_vectors",
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("model", "key"),
    )


def downgrade() -> None:
    op.drop_table("faq_vectors")
