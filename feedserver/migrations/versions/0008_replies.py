"""Citizens' replies to the feed actors (issue 20), read and answered by the feed's office.

Revision ID: 0008_replies
Revises: 0007_webpush
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from feedserver.tables import UtcDateTime

revision = "0008_replies"
down_revision = "0007_webpush"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("feed_id", sa.String(64), nullable=False),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("remote_id", sa.String(2048), nullable=False),
        sa.Column("remote_id_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("actor", sa.String(2048), nullable=False),
        sa.Column("handle", sa.String(300), nullable=False),
        sa.Column("instance", sa.String(253), nullable=False),
        sa.Column("in_reply_to", sa.String(2048)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("handled_at", UtcDateTime),
        sa.Column("handled_by", sa.String(64)),
        sa.Column("answer", sa.Text),
        sa.Column("answer_id", sa.String(2048)),
        sa.Column("answered_at", UtcDateTime),
        sa.Column("answered_by", sa.String(64)),
    )
    op.create_index("ix_replies_office_received", "replies", ["office", "received_at"])
    op.create_index("ix_replies_actor", "replies", ["actor"])


def downgrade() -> None:
    op.drop_index("ix_replies_actor", "replies")
    op.drop_index("ix_replies_office_received", "replies")
    op.drop_table("replies")
