"""Near-misses of an entry edited in chat: questions its answer does not answer.

Revision ID: faq_0002
Revises: faq_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "faq_0002"
down_revision = "faq_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "faq_entries",
        sa.Column("near_misses", sa.Text(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    with op.batch_alter_table("faq_entries") as batch:
        batch.drop_column("near_misses")
