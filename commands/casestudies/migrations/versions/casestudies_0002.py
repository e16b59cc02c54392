"""Case-study revisions: the actor's name, and one revision per number.

Before state changes were conditional updates, two organisers acting at once could both write
revision N.  The duplicates are renumbered after the others, in the order they were written,
and the study's revision set to its last number; then a unique index keeps it so.

Revision ID: casestudies_0002
Revises: casestudies_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "casestudies_0002"
down_revision = "casestudies_0001"
branch_labels = None
depends_on = None


def _renumber(conn: sa.Connection) -> None:
    revisions = sa.table(
        "case_study_revisions",
        sa.column("id", sa.Integer()),
        sa.column("study_id", sa.Integer()),
        sa.column("number", sa.Integer()),
    )
    studies = sa.table("case_studies", sa.column("id", sa.Integer()), sa.column("revision"))
    doubled = conn.execute(
        sa.select(revisions.c.study_id)
        .group_by(revisions.c.study_id, revisions.c.number)
        .having(sa.func.count() > 1)
    ).scalars()
    for study_id in sorted(set(doubled)):
        ids = conn.execute(
            sa.select(revisions.c.id)
            .where(revisions.c.study_id == study_id)
            .order_by(revisions.c.number, revisions.c.id)
        ).scalars()
        number = 0
        for number, row_id in enumerate(ids, start=1):
            conn.execute(sa.update(revisions).where(revisions.c.id == row_id).values(number=number))
        conn.execute(sa.update(studies).where(studies.c.id == study_id).values(revision=number))


def upgrade() -> None:
    op.add_column("case_study_revisions", sa.Column("actor_name", sa.String(255), nullable=True))
    _renumber(op.get_bind())
    op.create_index(
        "uq_case_study_revisions_study_number",
        "case_study_revisions",
        ["study_id", "number"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_case_study_revisions_study_number", "case_study_revisions")
    with op.batch_alter_table("case_study_revisions") as batch:
        batch.drop_column("actor_name")
