"""The one Item type every source returns, with stable ids derived from natural keys."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from .budget import spend

# Longest texts an item keeps (normalize cuts longer ones, with an ellipsis).
MAX_TITLE = 300
MAX_SUMMARY = 10_000
MAX_FIELD = 1000
# Upstream text is cut to this many times a field's limit before any pattern or sanitizer reads it: room for
# the markup and entities that making it plain removes, and a bound on the work that costs.
RAW_FACTOR = 4
MAX_RAW_TEXT = MAX_SUMMARY * RAW_FACTOR


# Roles an item may state in `data["kind"]` that the core acts on.
READING = "reading"  # a measured value the next one replaces: current data, not a message
NOTICE = "notice"  # derived from another item (a moved pickup's notice): it follows that item
# A key of `data` the core acts on: the channels ([channels.NAME]) an item chose, of those its feed posts to.
# Absent: every channel of the feed.
CHANNELS = "channels"


def item_id(feed_id: str, natural_key: str) -> str:
    """Stable id for an item: a UUID built from sha256(feed id, upstream natural key)."""
    digest = hashlib.sha256(f"{feed_id}\x1f{natural_key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=5))


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Item:
    """One message in a feed: the SMS line plus its details.

    `starts`/`ends` are a `date` for all-day events (a pickup day) and an aware `datetime` otherwise.
    `data` holds kind-specific values (colour, measured value, delay) as JSON-compatible scalars.
    """

    id: str
    key: str
    title: str
    published: datetime
    summary: str = ""
    url: str | None = None
    category: str | None = None
    area: str | None = None
    starts: date | datetime | None = None
    ends: date | datetime | None = None
    updated: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("published", "updated"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise ValueError(f"Item.{name} must be a timezone-aware datetime, got {value!r}")
        for name in ("starts", "ends"):
            value = getattr(self, name)
            if isinstance(value, datetime) and value.tzinfo is None:
                raise ValueError(f"Item.{name} must be a date or an aware datetime, got {value!r}")
        object.__setattr__(self, "data", _frozen(self.data))

    @property
    def all_day(self) -> bool:
        """True when the item is an all-day event (a date, not a time)."""
        return isinstance(self.starts, date) and not isinstance(self.starts, datetime)


def in_language(item: Item, language: str) -> Item:
    """The item with its texts in this language when `data["translations"]` has them (CAP info blocks)."""
    texts = (item.data.get("translations") or {}).get(language)
    if not texts:
        return item
    data = {**item.data, "event": texts.get("event") or item.data.get("event")}
    return replace(
        item,
        title=texts.get("title") or item.title,
        summary=texts.get("summary") or item.summary,
        area=texts.get("area") or item.area,
        data=data,
    )


def coordinates(item: Item) -> tuple[float, float] | None:
    """The item's place as (latitude, longitude), WGS 84, from `data["lat"]` and `data["lon"]`; else None."""
    lat, lon = item.data.get("lat"), item.data.get("lon")
    if isinstance(lat, bool) or isinstance(lon, bool) or not isinstance(lat, int | float):
        return None
    if not isinstance(lon, int | float) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None  # NaN fails both comparisons too
    return float(lat), float(lon)


def make_item(feed_id: str, key: str, **fields: Any) -> Item:
    """Build an Item whose id is derived from the feed id and the upstream natural key."""
    spend()  # between items, a parse that has used up the refresh's budget stops (feedserver.budget)
    return Item(id=item_id(feed_id, key), key=key, **fields)


@dataclass(frozen=True)
class FeedInfo:
    """What a source needs to know about the feed it serves (ids, language, local time zone)."""

    id: str
    title: str = ""
    language: str = "de"
    timezone: str = "Europe/Berlin"
