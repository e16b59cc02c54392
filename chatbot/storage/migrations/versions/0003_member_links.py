"""Members linked across platforms: their accounts, one-time link codes, wrong attempts.

Revision ID: 0003_member_links
Revises: 0002_outbox
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatbot.storage.models import UtcDateTime

revision = "0003_member_links"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("remind_via", sa.String(32), nullable=True))
    op.create_table(
        "member_links",
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("person_id", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_member_links"),
        sa.UniqueConstraint("person_id", "platform", name="uq_member_links_person_id"),
    )
    op.create_index("ix_member_links_person_id", "member_links", ["person_id"])
    op.create_table(
        "link_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_link_codes"),
    )
    op.create_index("ix_link_codes_account_id", "link_codes", ["account_id"])
    op.create_index("ix_link_codes_created_at", "link_codes", ["created_at"])
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_link_attempts"),
    )
    op.create_index("ix_link_attempts_account_id", "link_attempts", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_link_attempts_account_id", "link_attempts")
    op.drop_table("link_attempts")
    op.drop_index("ix_link_codes_created_at", "link_codes")
    op.drop_index("ix_link_codes_account_id", "link_codes")
    op.drop_table("link_codes")
    op.drop_index("ix_member_links_person_id", "member_links")
    op.drop_table("member_links")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("remind_via")
