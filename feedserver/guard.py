"""The mass-deletion guard: a fetch that would drop most of a feed's current items is held, not applied.

A waste calendar that suddenly lists 2 pickups instead of 40 is far more often a broken export, a wrong
district or a half-migrated portal than a city that stopped collecting rubbish. Such a fetch is recorded as
a failure (the feed turns stale and keeps its last good items) until an operator accepts it with
`feedserver fetch --accept-deletions FEED_ID`.

Sources whose items come and go by nature (departures, readings, alerts) switch the guard off with a module
constant `MASS_DELETION_GUARD = False`; a source without the constant is guarded unless its kind churns (the
editorial desk's announcements are withdrawn by people, not lost by a broken export). Only items that still
matter count: a past pickup that leaves the upstream calendar is expected, an upcoming one is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from .errors import FeedserverError
from .fetch import FetchSettings
from .items import NOTICE, READING, Item
from .registry import load_kind, load_source

DERIVED_KINDS = (NOTICE, READING)  # items the core derives from others; they follow their source items


class MassDeletion(FeedserverError):
    """A fetch would remove most of a feed's current items; held until an operator accepts it."""


def guarded(source_kind: str) -> bool:
    """True when the source's feeds are protected by the guard: its constant, else unless its kind churns."""
    module = load_source(source_kind)
    return bool(getattr(module, "MASS_DELETION_GUARD", not load_kind(module.KIND).churning))


def check_deletions(
    feed_id: str, current: Sequence[Item], fetched: Sequence[Item], limits: FetchSettings, now: datetime
) -> None:
    """Raise MassDeletion when `fetched` would drop too many of the feed's current, still relevant items."""
    relevant = [i for i in current if i.data.get("kind") not in DERIVED_KINDS and _matters(i, now)]
    kept = {item.id for item in fetched}
    dropped = sum(1 for item in relevant if item.id not in kept)
    if dropped < limits.deletion_guard_min or dropped <= limits.deletion_guard_ratio * len(relevant):
        return
    share = round(100 * dropped / len(relevant))
    raise MassDeletion(
        f"held: this fetch would remove {dropped} of {len(relevant)} current items ({share} %), so it was "
        f"not applied and the last good items stay online; if the upstream really changed, accept it with "
        f"`feedserver fetch --accept-deletions {feed_id}`"
    )


def _matters(item: Item, now: datetime) -> bool:
    """Undated items always matter; dated ones until they are over."""
    moment = item.ends or item.starts
    if moment is None:
        return True
    if isinstance(moment, datetime):
        return moment >= now
    return moment >= _local_day(now)


def _local_day(now: datetime) -> date:
    # All-day items are local days; a day's slack keeps a pickup "today" relevant in every time zone.
    return date.fromordinal(now.date().toordinal() - 1)
