"""Air quality (UBA, OpenAQ): hourly readings that replace each other, and threshold episodes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedserver.air import COMPONENTS, DEFAULT_STALE_AFTER, NAMES
from feedserver.contract import Before, PlainKind
from feedserver.items import FeedInfo, Item

from .episodes import continue_episodes

EPISODE_MEMORY = timedelta(days=14)  # how far back an air episode's first announcement is looked up


@dataclass(frozen=True)
class Air(PlainKind):
    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """Episodes announced before are not announced again when the window slides past their start."""
        return continue_episodes(before.since(now - EPISODE_MEMORY), fresh)

    def current_data(self, feed, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """The latest reading per station and pollutant with its 48-hour series; stale once too old."""
        stale_after = timedelta(seconds=feed.options.get("stale_after", DEFAULT_STALE_AFTER))
        found, turns_stale = [], []
        for item in items:
            if item.data.get("kind") != "reading":
                continue
            measured = item.ends if isinstance(item.ends, datetime) else None
            stale = bool(item.data.get("stale")) or measured is None or at - measured > stale_after
            if not stale:
                turns_stale.append(measured + stale_after)
            found.append(_reading(item, measured, stale))
        order = {code: n for n, code in enumerate(COMPONENTS)}
        found.sort(key=lambda r: (r["station"] or "", order.get(r["component"], len(order)), r["component"]))
        return {"readings": found}, min(turns_stale, default=None)

    def has_current(self, feed, items: Sequence[Item], at: datetime) -> bool:
        """A reading that is not stale."""
        readings, _ = self.current_data(feed, items, at)
        return any(not reading["stale"] for reading in readings["readings"])


def _reading(item: Item, measured: datetime | None, stale: bool) -> dict:
    data = item.data
    thresholds = data.get("thresholds")
    return {
        "component": data.get("component") or item.category or "",
        "station": data.get("station"),
        "station_name": data.get("station_name"),
        "value": data.get("value"),
        "unit": data.get("unit"),
        "measured_at": measured,
        "level": data.get("level"),
        "stale": stale,
        "thresholds": {"info": thresholds.get("info"), "alert": thresholds.get("alert")}
        if thresholds
        else None,
        "series": [
            {"at": datetime.fromisoformat(end), "value": value}
            for end, value in data.get("series") or []
            if isinstance(value, int | float)
        ],
    }


KIND = Air(
    "air",
    churning=True,
    view="air",
    topic="air",
    topic_labels={"de": "Luftqualität", "en": "Air quality"},
    category_labels=NAMES,
    empty_labels={"de": "keine aktuellen Messwerte", "en": "no recent readings"},
)
