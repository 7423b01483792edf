"""An office's answers to citizens may need a second person's approval (issue 20): they wait as drafts.

Revision ID: 0012_answer_approval
Revises: 0009_announcement_channels
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0012_answer_approval"
down_revision = "0009_announcement_channels"
branch_labels = None
depends_on = None

COLUMNS = ("draft", "draft_public", "drafted_by", "drafted_at", "approved_by")


def upgrade() -> None:
    with op.batch_alter_table("replies") as batch:
        batch.add_column(sa.Column("draft", sa.Text))
        batch.add_column(sa.Column("draft_public", sa.Boolean))
        batch.add_column(sa.Column("drafted_by", sa.String(64)))
        batch.add_column(sa.Column("drafted_at", UtcDateTime))
        batch.add_column(sa.Column("approved_by", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("replies") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
