"""Web Push subscriptions (issue 19): a browser's push address per feed, with the filters it asked for.

Revision ID: 0007_webpush
Revises: 0006_channels
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0007_webpush"
down_revision = "0006_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webpush_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("feed_id", sa.String(64), nullable=False),
        sa.Column("endpoint_sha256", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.String(128), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("filters", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("feed_id", "endpoint_sha256", name="uq_webpush_feed_endpoint"),
    )


def downgrade() -> None:
    op.drop_table("webpush_subscriptions")
