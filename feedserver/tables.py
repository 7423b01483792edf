"""SQLAlchemy table definitions (the schema Alembic migrations create), the column types they use, and the
one mapper from a result row to the dataclass the storage modules hand out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

T = TypeVar("T")


def from_row(cls: type[T], row: Mapping[str, Any], **values: Any) -> T:
    """A dataclass from a result row: each field from the column of its name, unless `values` gives it
    (a converted or renamed column); a field neither has keeps its default. Other columns are ignored."""
    columns = {f.name: row[f.name] for f in fields(cls) if f.init and f.name not in values and f.name in row}
    return cls(**columns, **values)


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC out, stored as naive UTC (portable across SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class DateOrDateTime(TypeDecorator):
    """A date (all-day) or an aware datetime, stored as ISO text so the two stay distinguishable."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value.isoformat()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if "T" in value:
            return datetime.fromisoformat(value)
        return date.fromisoformat(value)


metadata = MetaData()


def _table(name: str, *columns_and_indexes) -> Table:
    """A table of this schema (in `metadata`, which Alembic and create_all read)."""
    return Table(name, metadata, *columns_and_indexes)


def serial_id() -> Column:
    """The integer primary key `id` the database numbers (a Column belongs to one table: one per call)."""
    return Column("id", Integer, primary_key=True, autoincrement=True)


feeds = _table(
    "feeds",
    Column("id", String(64), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("validators", Text, nullable=False, default="{}"),
    Column("last_attempt", UtcDateTime),
    Column("last_success", UtcDateTime),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0),
    Column("stale_since", UtcDateTime),
    Column("retry_at", UtcDateTime),
    Column("data_changed_at", UtcDateTime),
)

items = _table(
    "items",
    Column("feed_id", String(64), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("key", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("url", Text),
    Column("category", String(64)),
    Column("area", Text),
    Column("published", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime),
    Column("starts", DateOrDateTime),
    Column("ends", DateOrDateTime),
    Column("data", Text, nullable=False, default="{}"),
    Column("is_message", Boolean, nullable=False, default=True),
    Column("digest", String(64), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("gone_at", UtcDateTime),
    Index("ix_items_feed_published", "feed_id", "published"),
)

renditions = _table(
    "renditions",
    Column("feed_id", String(64), primary_key=True),
    Column("format", String(16), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("media_type", String(80), nullable=False),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime),
)


# --- editorial desk (issue 6): people, offices, API tokens, announcements with immutable versions ---------
# SQL on these tables lives in feedserver/desk/records.py, the desk's storage module.

desk_users = _table(
    "desk_users",
    serial_id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # author | approver | admin
    Column("password_hash", Text),  # werkzeug.security hash; NULL until `feedserver users password`
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
)

desk_user_offices = _table(
    "desk_user_offices",
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True),
    Column("office", String(64), primary_key=True),
)

desk_tokens = _table(
    "desk_tokens",
    serial_id(),
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),  # the token itself is never stored
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

announcements = _table(
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

announcement_versions = _table(
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

announcement_approvals = _table(
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

desk_audit = _table(
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

desk_sessions = _table(
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

desk_login_throttle = _table(
    "desk_login_throttle",
    Column("key_sha256", String(64), primary_key=True),  # of "name:<login name>" or "address:<client>"
    Column("failures", Integer, nullable=False, default=0),  # in the window that began at window_start
    Column("window_start", UtcDateTime),
    Column("lockouts", Integer, nullable=False, default=0),  # lock-outs so far: each lasts twice the last
    Column("locked_until", UtcDateTime),
    Column("seen_at", UtcDateTime, nullable=False),  # the last counted attempt; quiet keys are purged
    Index("ix_desk_login_throttle_seen", "seen_at"),
)

# --- push and social (issue 10): WebSub hub, ActivityPub actors, outbox queue, statistics -----------------
# SQL on these tables lives in feedserver/push/records.py and feedserver/push/stats.py.

websub_subscriptions = _table(
    "websub_subscriptions",
    serial_id(),
    Column("topic", String(2048), nullable=False),  # exactly as the subscriber sent it (it is echoed back)
    Column("callback", String(2048), nullable=False),
    Column("feed_id", String(64)),  # NULL for the catalogue topic
    Column("format", String(16), nullable=False),  # rss, atom, json, ics or html (the catalogue)
    Column("secret", String(200)),  # hub.secret for X-Hub-Signature; the spec caps it below 200 bytes
    Column("lease_seconds", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_etag", String(80)),  # the content last queued, so a republish of equal bytes sends nothing
    UniqueConstraint("topic", "callback", name="uq_websub_topic_callback"),
    Index("ix_websub_feed", "feed_id"),
)

push_jobs = _table(
    "push_jobs",
    serial_id(),
    Column("kind", String(32), nullable=False),  # event, websub-verify, websub-deliver, ap-deliver
    Column("feed_id", String(64)),
    Column("subscription_id", Integer),
    Column("target", String(2048)),  # callback or inbox URL
    Column("body", LargeBinary),
    Column("meta", Text, nullable=False, default="{}"),  # JSON: content type, topic, mode, ...
    Column("priority", Integer, nullable=False, default=1),  # 0 first: crisis items, Accepts
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_error", Text),
    Index("ix_push_jobs_due", "due_at"),
)

ap_actors = _table(
    "ap_actors",
    Column("feed_id", String(64), primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("synced_at", UtcDateTime),  # first look at the feed's items: they are the backlog, not news
)

ap_followers = _table(
    "ap_followers",
    Column("feed_id", String(64), primary_key=True),
    Column("actor", String(2048), primary_key=True),
    Column("inbox", String(2048), nullable=False),
    Column("shared_inbox", String(2048)),
    Column("followed_at", UtcDateTime, nullable=False),
)

ap_notes = _table(
    "ap_notes",
    Column("feed_id", String(64), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("note", Text, nullable=False),  # the Note JSON as announced, so Delete and GET match it
    Column("crisis", Boolean, nullable=False, default=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime),
    Index("ix_ap_notes_feed_published", "feed_id", "published_at"),
)

# --- channels to the city's own accounts (issue 19): what went where, so a correction edits the same post ---
channel_feeds = _table(
    "channel_feeds",
    Column("channel", String(64), primary_key=True),
    Column("feed_id", String(64), primary_key=True),
    Column("synced_at", UtcDateTime, nullable=False),  # the first look: items then were backlog, not news
)

channel_posts = _table(
    "channel_posts",
    Column("channel", String(64), primary_key=True),
    Column("feed_id", String(64), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("text", Text, nullable=False),  # the post as it should read now
    Column("language", String(8), nullable=False),
    Column("state", String(16), nullable=False),  # queued, sent, ...; see channel_records
    Column("remote_id", String(128)),  # the network's id of the post once sent
    Column("remote_url", String(2048)),
    Column("sent_text", Text),  # the text the network has, so an edit is sent only when they differ
    Column("error", Text),
    Column("crisis", Boolean, nullable=False, default=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("ix_channel_posts_queued", "channel", "feed_id", "queued_at"),
    Index("ix_channel_posts_remote", "channel", "remote_id"),  # which post a reply answers
)

# Web Push subscriptions: personal data (a browser's push address), kept only to deliver and deleted on
# unsubscribe or when the push service says the address is gone (404/410).
# How far each channel's replies were read (Mastodon: the newest notification id; Bluesky: its seen time).
channel_cursors = _table(
    "channel_cursors",
    Column("channel", String(64), primary_key=True),
    Column("cursor", String(256), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

webpush_subscriptions = _table(
    "webpush_subscriptions",
    serial_id(),
    Column("feed_id", String(64), nullable=False),
    Column("endpoint_sha256", String(64), nullable=False),  # one subscription per browser and feed
    Column("endpoint", Text, nullable=False),
    Column("p256dh", String(128), nullable=False),  # the browser's public key (RFC 8291)
    Column("auth", String(64), nullable=False),  # its auth secret: also what proves an unsubscribe is theirs
    Column("filters", Text, nullable=False, default="{}"),  # JSON: the same filters as a feed URL's query
    Column("language", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("feed_id", "endpoint_sha256", name="uq_webpush_feed_endpoint"),
)

# Citizens' replies to and mentions of the feed actors (issue 20): personal data, deleted after the
# retention time, on the author's Delete and on request (feedserver replies erase).
replies = _table(
    "replies",
    serial_id(),
    Column("feed_id", String(64), nullable=False),
    Column("office", String(64), nullable=False),
    Column("remote_id", String(2048), nullable=False),  # the citizen's Note
    Column("remote_id_sha256", String(64), nullable=False, unique=True),
    Column("actor", String(2048), nullable=False),  # its author
    Column("handle", String(300), nullable=False),  # @name@host, as staff see it
    Column("instance", String(253), nullable=False),  # the author's host: limits and blocks count by it
    Column("in_reply_to", String(2048)),  # our note it answers (None: a mention)
    Column("text", Text, nullable=False),  # plain text, reduced from the Note's HTML
    Column("received_at", UtcDateTime, nullable=False),
    Column("handled_at", UtcDateTime),
    Column("handled_by", String(64)),
    Column("answer", Text),
    Column("answer_id", String(2048)),
    Column("answered_at", UtcDateTime),
    Column("answered_by", String(64)),
    # An answer waiting for a second person's approval ([replies] answers_need_approval), and who gave it.
    Column("draft", Text),
    Column("draft_public", Boolean),
    Column("drafted_by", String(64)),
    Column("drafted_at", UtcDateTime),
    Column("approved_by", String(64)),
    # A reply to one of the city's posts on a channel (None: to a feed actor), and the channel's handle on
    # it: the Mastodon status id, the Bluesky post's at:// URI and CID (JSON) that an answer refers to.
    Column("channel", String(64)),
    Column("channel_ref", String(2048)),
    Index("ix_replies_office_received", "office", "received_at"),
    Index("ix_replies_actor", "actor"),
)

stats_daily = _table(
    "stats_daily",
    Column("day", Date, primary_key=True),
    Column("feed_id", String(64), primary_key=True),
    Column("format", String(16), primary_key=True),  # rss, atom, json, ics, or activitypub (followers)
    Column("requests", Integer, nullable=False, default=0),  # answered 200 or 304
    Column("not_modified", Integer, nullable=False, default=0),  # of which 304
    Column("subscribers", Integer),  # WebSub subscribers (ActivityPub followers) at the day's last count
)
