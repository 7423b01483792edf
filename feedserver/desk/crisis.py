"""Crisis announcements: approved desk messages that go on top of every feed they target, in every format."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from sources.announcements import announcement_item, published_record

from ..items import Item
from .records import crisis_candidates
from .rules import targets_feed, visible

EVENT_LENGTH = timedelta(hours=1)  # a crisis without end or expiry shows as a one-hour calendar event


@dataclass(frozen=True)
class CrisisView:
    """The crisis items a feed shows now, and when that set changes next (a publication or an expiry)."""

    items: list[Item]
    next_change: datetime | None


def crisis_view(engine: Engine, feed_id: str, now: datetime, as_events: bool = False) -> CrisisView:
    """Crisis items targeting this feed, newest first; as calendar events (with a start) when `as_events`."""
    from ..pipeline import normalize  # the pipeline imports output, which imports this module

    with engine.connect() as connection:
        candidates = crisis_candidates(connection, now)
    shown, changes = [], []
    for announcement in candidates:
        version = announcement.published
        if version is None or not targets_feed(version, feed_id):
            continue
        if visible(version, now):
            shown.append(announcement_item(announcement.feed_id, published_record(announcement.id, version)))
        changes += [t for t in (version.publish_at, version.expires) if t is not None and t > now]
    shown.sort(key=lambda item: (item.published, item.id), reverse=True)
    items = normalize([_as_event(item) for item in shown] if as_events else shown, reduce_markup=False)
    return CrisisView(items, min(changes, default=None))


def on_top(crisis: list[Item], items: list[Item]) -> list[Item]:
    """Crisis items first, then the feed's own items without them (the home feed has them already)."""
    ids = {item.id for item in crisis}
    return crisis + [item for item in items if item.id not in ids]


def _as_event(item: Item) -> Item:
    """A calendar needs a start: the crisis runs from its publication to its expiry unless it has its own."""
    if item.starts is not None:
        return item
    expires = item.data.get("expires")
    ends = datetime.fromisoformat(expires) if expires else item.published + EVENT_LENGTH
    return replace(item, starts=item.published, ends=ends)
