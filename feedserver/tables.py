"""SQLAlchemy table definitions (the schema Alembic migrations create) and the column types they use."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


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

feeds = Table(
    "feeds",
    metadata,
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

items = Table(
    "items",
    metadata,
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

renditions = Table(
    "renditions",
    metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("format", String(16), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("media_type", String(80), nullable=False),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime),
)
