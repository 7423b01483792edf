"""Editorial desk: users, offices, API tokens (hashes only), announcements, versions, approvals, audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "desk_user_offices",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("office", sa.String(64), primary_key=True),
    )
    op.create_table(
        "desk_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime),
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("feed_id", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("desk_users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("withdrawn_at", UtcDateTime),
        sa.Column("withdrawn_by", sa.Integer, sa.ForeignKey("desk_users.id")),
    )
    op.create_index("ix_announcements_feed", "announcements", ["feed_id"])
    op.create_table(
        "announcement_versions",
        sa.Column("announcement_id", sa.Integer, sa.ForeignKey("announcements.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("starts", UtcDateTime),
        sa.Column("ends", UtcDateTime),
        sa.Column("publish_at", UtcDateTime, nullable=False),
        sa.Column("expires", UtcDateTime),
        sa.Column("crisis", sa.Boolean, nullable=False),
        sa.Column("targets", sa.Text, nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("desk_users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "announcement_approvals",
        sa.Column("announcement_id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("approver_id", sa.Integer, sa.ForeignKey("desk_users.id"), nullable=False),
        sa.Column("approved_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id", "version"],
            ["announcement_versions.announcement_id", "announcement_versions.version"],
        ),
    )
    op.create_table(
        "desk_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("desk_users.id")),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("announcement_id", sa.Integer),
        sa.Column("version", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_desk_audit_announcement", "desk_audit", ["announcement_id"])


def downgrade() -> None:
    op.drop_index("ix_desk_audit_announcement", "desk_audit")
    op.drop_table("desk_audit")
    op.drop_table("announcement_approvals")
    op.drop_table("announcement_versions")
    op.drop_index("ix_announcements_feed", "announcements")
    op.drop_table("announcements")
    op.drop_table("desk_tokens")
    op.drop_table("desk_user_offices")
    op.drop_table("desk_users")
