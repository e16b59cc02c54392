"""FAQ overrides: a revision per entry, so an edit based on an older one is refused.

Revision ID: faq_0003_revision
Revises: faq_0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "faq_0003_revision"
down_revision = "faq_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "faq_entries",
        sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("faq_entries") as batch:
        batch.drop_column("revision")
