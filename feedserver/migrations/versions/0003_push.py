"""Push and social: WebSub subscriptions, the delivery queue, ActivityPub actors/followers/notes, statistics.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(2048), nullable=False),
        sa.Column("callback", sa.String(2048), nullable=False),
        sa.Column("feed_id", sa.String(64)),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("secret", sa.String(200)),
        sa.Column("lease_seconds", sa.Integer, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_etag", sa.String(80)),
        sa.UniqueConstraint("topic", "callback", name="uq_websub_topic_callback"),
    )
    op.create_index("ix_websub_feed", "websub_subscriptions", ["feed_id"])
    op.create_table(
        "push_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("feed_id", sa.String(64)),
        sa.Column("subscription_id", sa.Integer),
        sa.Column("target", sa.String(2048)),
        sa.Column("body", sa.LargeBinary),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("locked_until", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_push_jobs_due", "push_jobs", ["due_at"])
    op.create_table(
        "ap_actors",
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("private_key_pem", sa.Text, nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("synced_at", UtcDateTime),
    )
    op.create_table(
        "ap_followers",
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("actor", sa.String(2048), primary_key=True),
        sa.Column("inbox", sa.String(2048), nullable=False),
        sa.Column("shared_inbox", sa.String(2048)),
        sa.Column("followed_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "ap_notes",
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.String(36), primary_key=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("crisis", sa.Boolean, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime),
    )
    op.create_index("ix_ap_notes_feed_published", "ap_notes", ["feed_id", "published_at"])
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(16), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("not_modified", sa.Integer, nullable=False),
        sa.Column("subscribers", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("stats_daily")
    op.drop_index("ix_ap_notes_feed_published", "ap_notes")
    op.drop_table("ap_notes")
    op.drop_table("ap_followers")
    op.drop_table("ap_actors")
    op.drop_index("ix_push_jobs_due", "push_jobs")
    op.drop_table("push_jobs")
    op.drop_index("ix_websub_feed", "websub_subscriptions")
    op.drop_table("websub_subscriptions")
