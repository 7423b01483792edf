"""Channels to the city's own accounts (issue 19): which items went to which account, as which post.

Revision ID: 0006_channels
Revises: 0005_sessions
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0006_channels"
down_revision = "0005_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_feeds",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("synced_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "channel_posts",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.String(36), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(128)),
        sa.Column("remote_url", sa.String(2048)),
        sa.Column("sent_text", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("crisis", sa.Boolean, nullable=False),
        sa.Column("queued_at", UtcDateTime, nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_channel_posts_queued", "channel_posts", ["channel", "feed_id", "queued_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_posts_queued", "channel_posts")
    op.drop_table("channel_posts")
    op.drop_table("channel_feeds")
