"""SQLAlchemy table definitions (the schema Alembic migrations create), the column types they use, and the
one mapper from a result row to the dataclass the storage modules hand out; one module per side of the house.

Every table is defined on `metadata` when this package is imported, so Alembic and create_all see them all."""

from __future__ import annotations

from .desk import (
    announcement_approvals,
    announcement_versions,
    announcements,
    desk_audit,
    desk_login_throttle,
    desk_sessions,
    desk_tokens,
    desk_user_offices,
    desk_users,
)
from .feeds import feeds, items, renditions, stats_daily
from .push import (
    ap_actors,
    ap_followers,
    ap_notes,
    channel_cursors,
    channel_feeds,
    channel_posts,
    push_jobs,
    replies,
    webpush_subscriptions,
    websub_subscriptions,
)
from .types import DateOrDateTime, UtcDateTime, from_row, metadata, serial_id, table

__all__ = [
    "DateOrDateTime",
    "UtcDateTime",
    "announcement_approvals",
    "announcement_versions",
    "announcements",
    "ap_actors",
    "ap_followers",
    "ap_notes",
    "channel_cursors",
    "channel_feeds",
    "channel_posts",
    "desk_audit",
    "desk_login_throttle",
    "desk_sessions",
    "desk_tokens",
    "desk_user_offices",
    "desk_users",
    "feeds",
    "from_row",
    "items",
    "metadata",
    "push_jobs",
    "renditions",
    "replies",
    "serial_id",
    "stats_daily",
    "table",
    "webpush_subscriptions",
    "websub_subscriptions",
]
