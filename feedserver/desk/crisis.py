"""Crisis announcements: approved desk messages that go on top of every feed they target, in every format."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from ..contract import OnTop
from ..items import Item
from ..notices import announcement_item, published_record
from ..pipeline import normalize
from .records import crisis_candidates
from .rules import targets_feed, visible

EVENT_LENGTH = timedelta(hours=1)  # a crisis without end or expiry shows as a one-hour calendar event


class CrisisNotices:
    """The desk's overlay: approved crisis notices on top of every feed they target."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def on_top(self, feed_id: str, now: datetime, as_events: bool = False) -> OnTop:
        """The crisis notices this feed shows now."""
        return crisis_view(self.engine, feed_id, now, as_events)


def crisis_view(engine: Engine, feed_id: str, now: datetime, as_events: bool = False) -> OnTop:
    """Crisis items targeting this feed, newest first; as calendar events (with a start) when `as_events`."""
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
    return OnTop(items, min(changes, default=None))


def _as_event(item: Item) -> Item:
    """A calendar needs a start: the crisis runs from its publication to its expiry unless it has its own."""
    if item.starts is not None:
        return item
    expires = item.data.get("expires")
    ends = datetime.fromisoformat(expires) if expires else item.published + EVENT_LENGTH
    return replace(item, starts=item.published, ends=ends)
