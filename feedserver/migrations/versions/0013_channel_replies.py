"""Citizens' replies to the city's posts on its Mastodon and Bluesky accounts (issue 20), and how far each
channel's replies were read.

Revision ID: 0013_channel_replies
Revises: 0012_answer_approval
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0013_channel_replies"
down_revision = "0012_answer_approval"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("replies") as batch:
        batch.add_column(sa.Column("channel", sa.String(64)))
        batch.add_column(sa.Column("channel_ref", sa.String(2048)))
    op.create_table(
        "channel_cursors",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.String(256), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_channel_posts_remote", "channel_posts", ["channel", "remote_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_posts_remote", "channel_posts")
    op.drop_table("channel_cursors")
    with op.batch_alter_table("replies") as batch:
        batch.drop_column("channel_ref")
        batch.drop_column("channel")
