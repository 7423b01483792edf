"""Desk access (issue 16): server-side /admin sessions and the login throttle shared by every process.

Revision ID: 0005_sessions
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0005_sessions"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sid_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("revoked_at", UtcDateTime),
    )
    op.create_index("ix_desk_sessions_user", "desk_sessions", ["user_id"])
    op.create_table(
        "desk_login_throttle",
        sa.Column("key_sha256", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", UtcDateTime),
        sa.Column("lockouts", sa.Integer, nullable=False),
        sa.Column("locked_until", UtcDateTime),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_desk_login_throttle_seen", "desk_login_throttle", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_desk_login_throttle_seen", "desk_login_throttle")
    op.drop_table("desk_login_throttle")
    op.drop_index("ix_desk_sessions_user", "desk_sessions")
    op.drop_table("desk_sessions")
