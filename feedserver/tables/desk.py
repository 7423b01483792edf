"""The editorial desk's tables: people, offices, tokens, announcements and their versions, audit, sessions."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text

from .types import UtcDateTime, serial_id, table

# --- editorial desk (issue 6): people, offices, API tokens, announcements with immutable versions ---------
# SQL on these tables lives in feedserver/desk/records.py, the desk's storage module.

desk_users = table(
    "desk_users",
    serial_id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # author | approver | admin
    Column("password_hash", Text),  # werkzeug.security hash; NULL until `feedserver users password`
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
)

desk_user_offices = table(
    "desk_user_offices",
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True),
    Column("office", String(64), primary_key=True),
)

desk_tokens = table(
    "desk_tokens",
    serial_id(),
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),  # the token itself is never stored
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

announcements = table(
    "announcements",
    serial_id(),
    Column("feed_id", String(64), nullable=False),
    Column("created_by", Integer, ForeignKey("desk_users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("withdrawn_at", UtcDateTime),
    Column("withdrawn_by", Integer, ForeignKey("desk_users.id")),
    Index("ix_announcements_feed", "feed_id"),
)

announcement_versions = table(
    "announcement_versions",
    Column("announcement_id", Integer, ForeignKey("announcements.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("link", Text),
    Column("starts", UtcDateTime),
    Column("ends", UtcDateTime),
    Column("publish_at", UtcDateTime, nullable=False),
    Column("expires", UtcDateTime),
    Column("crisis", Boolean, nullable=False, default=False),
    Column("targets", Text, nullable=False, default="[]"),  # JSON list of feed ids; ["*"] = every feed
    Column("channels", Text),  # JSON list of [channels.NAME] chosen; NULL: every channel of the feed
    Column("author_id", Integer, ForeignKey("desk_users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

announcement_approvals = table(
    "announcement_approvals",
    Column("announcement_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("approver_id", Integer, ForeignKey("desk_users.id"), nullable=False),
    Column("approved_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["announcement_id", "version"],
        ["announcement_versions.announcement_id", "announcement_versions.version"],
    ),
)

desk_audit = table(
    "desk_audit",
    serial_id(),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("desk_users.id")),  # NULL for the command line
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("announcement_id", Integer),
    Column("version", Integer),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_desk_audit_announcement", "announcement_id"),
)


# --- desk access (issue 16): /admin sessions and the login throttle, in the database for every process ------
# SQL on these tables lives in feedserver/desk/access_records.py.

desk_sessions = table(
    "desk_sessions",
    serial_id(),  # what the user's session list shows
    Column("sid_sha256", String(64), nullable=False, unique=True),  # the cookie's random id is never stored
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("address", String(64), nullable=False, default=""),  # client address at login
    Column("agent", String(100), nullable=False, default=""),  # "Firefox, Linux": a summary, not the header
    Column("revoked_at", UtcDateTime),  # logout, ended from the list, expired, new password, user disabled
    Index("ix_desk_sessions_user", "user_id"),
)

desk_login_throttle = table(
    "desk_login_throttle",
    Column("key_sha256", String(64), primary_key=True),  # of "name:<login name>" or "address:<client>"
    Column("failures", Integer, nullable=False, default=0),  # in the window that began at window_start
    Column("window_start", UtcDateTime),
    Column("lockouts", Integer, nullable=False, default=0),  # lock-outs so far: each lasts twice the last
    Column("locked_until", UtcDateTime),
    Column("seen_at", UtcDateTime, nullable=False),  # the last counted attempt; quiet keys are purged
    Index("ix_desk_login_throttle_seen", "seen_at"),
)
