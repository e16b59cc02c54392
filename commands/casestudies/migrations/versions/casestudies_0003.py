"""Case studies: the language each was written in (issue 19).

A BCP 47 tag, the contributor's message language when they started the study (their
``!lang``, else their app's, else the room's, else the bot's).  Studies stored before this
have none: nobody recorded it, and guessing would put a wrong value into every export.

Revision ID: casestudies_0003
Revises: casestudies_0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "casestudies_0003"
down_revision = "casestudies_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_studies", sa.Column("written_in", sa.String(35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_studies") as batch:
        batch.drop_column("written_in")
