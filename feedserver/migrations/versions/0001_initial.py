"""Initial schema: feeds, items, renditions.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import DateOrDateTime, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("validators", sa.Text, nullable=False),
        sa.Column("last_attempt", UtcDateTime),
        sa.Column("last_success", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("stale_since", UtcDateTime),
        sa.Column("retry_at", UtcDateTime),
        sa.Column("data_changed_at", UtcDateTime),
    )
    op.create_table(
        "items",
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("category", sa.String(64)),
        sa.Column("area", sa.Text),
        sa.Column("published", UtcDateTime, nullable=False),
        sa.Column("updated", UtcDateTime),
        sa.Column("starts", DateOrDateTime),
        sa.Column("ends", DateOrDateTime),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("is_message", sa.Boolean, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("first_seen", UtcDateTime, nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
        sa.Column("gone_at", UtcDateTime),
    )
    op.create_index("ix_items_feed_published", "items", ["feed_id", "published"])
    op.create_table(
        "renditions",
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(16), primary_key=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("media_type", sa.String(80), nullable=False),
        sa.Column("last_modified", UtcDateTime, nullable=False),
        sa.Column("valid_until", UtcDateTime),
    )


def downgrade() -> None:
    op.drop_table("renditions")
    op.drop_index("ix_items_feed_published", "items")
    op.drop_table("items")
    op.drop_table("feeds")
