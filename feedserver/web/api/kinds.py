"""Kind-specific current data for /api/v1/feeds/{id}: next pickups, air readings, delays, alerts in force.

The feed's kind (a plugin, see contract.Kind) builds them: the fields to add and the moment they stop being
true without new data (or None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ...config import FeedSettings
from ...items import Item
from ...registry import load_kind

Extra = tuple[dict, datetime | None]


def kind_data(feed: FeedSettings, items: Sequence[Item], at: datetime) -> Extra:
    """The current data a feed of this kind offers beyond its items."""
    return load_kind(feed.kind).current_data(feed, items, at)


def has_current(feed: FeedSettings, items: Sequence[Item], at: datetime) -> bool:
    """True when the feed has something upcoming or in force (a kind without the test: any item)."""
    kind = load_kind(feed.kind)
    return kind.has_current(feed, items, at) if hasattr(kind, "has_current") else bool(items)
