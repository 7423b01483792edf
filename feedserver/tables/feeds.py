"""The data's tables: feeds, their items, stored renditions, and the daily usage counts."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Index, Integer, LargeBinary, String, Text

from .types import DateOrDateTime, UtcDateTime, table

feeds = table(
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

items = table(
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

renditions = table(
    "renditions",
    Column("feed_id", String(64), primary_key=True),
    Column("format", String(16), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("media_type", String(80), nullable=False),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime),
)


stats_daily = table(
    "stats_daily",
    Column("day", Date, primary_key=True),
    Column("feed_id", String(64), primary_key=True),
    Column("format", String(16), primary_key=True),  # rss, atom, json, ics, or activitypub (followers)
    Column("requests", Integer, nullable=False, default=0),  # answered 200 or 304
    Column("not_modified", Integer, nullable=False, default=0),  # of which 304
    Column("subscribers", Integer),  # WebSub subscribers (ActivityPub followers) at the day's last count
)
