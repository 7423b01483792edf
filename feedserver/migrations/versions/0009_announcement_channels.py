"""The channels an announcement version chose in the desk (issue 19): a JSON list of [channels.NAME], or NULL
for every channel its feed posts to (what versions written before the choice existed meant).

Revision ID: 0009_announcement_channels
Revises: 0008_replies
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_announcement_channels"
down_revision = "0008_replies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("announcement_versions", sa.Column("channels", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("announcement_versions") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("channels")
