"""Crisis notices on top of a feed's API items, as they are on top of its feeds, widgets and pushes.

The overlay (the desk's approved crisis notices) is asked once and its answer kept in the cache until it
changes: publication drops the entry whenever it renders the feed (a crisis approved, corrected or
withdrawn), and the entry expires by itself when the next notice falls due or an old one expires. So a
request costs one cache lookup, not a query of the desk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from ... import api_schemas as schemas
from ...renditions import overlay_key
from ...runtime import Runtime

LONGEST_SECONDS = 3600  # without a known next change the entry is asked again after an hour at the latest
ITEM = schemas.ItemSchema()


@dataclass(frozen=True)
class Notices:
    """The crisis notices of a feed as the API shows them (dumped, so any cache can keep them)."""

    documents: tuple[dict, ...] = ()
    ids: frozenset[str] = frozenset()
    next_change: datetime | None = None

    @property
    def version(self) -> str:
        """A short digest of what is shown, for cache keys and ETags."""
        if not self.documents:
            return "-"
        text = "|".join(f"{d['id']}@{d['updated'] or d['published']}" for d in self.documents)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def notices(runtime: Runtime, feed_id: str, at: datetime) -> Notices:
    """The crisis notices on top of this feed now, from the cache when still valid."""
    key = overlay_key(feed_id)
    kept = runtime.cache.get(key)
    if isinstance(kept, Notices) and (kept.next_change is None or kept.next_change > at):
        return kept
    found = runtime.overlay.on_top(feed_id, at)
    documents = tuple({**ITEM.dump(item), "crisis": True} for item in found.items)
    fresh = Notices(documents, frozenset(item.id for item in found.items), found.next_change)
    seconds = LONGEST_SECONDS
    if found.next_change is not None:
        seconds = max(1, min(seconds, int((found.next_change - at).total_seconds()) + 1))
    runtime.cache.set(key, fresh, timeout=seconds)
    return fresh
