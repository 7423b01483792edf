"""Air quality (UBA, OpenAQ): hourly readings that replace each other, and threshold episodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from feedserver.contract import Before, PlainKind
from feedserver.filters import ChoiceFilter, data_choice, data_minimum
from feedserver.i18n import N_
from feedserver.items import READING, FeedInfo, Item

from .._widget import widget_parts
from .api import READINGS
from .chart import TEXTS, Chart, chart_of, pollutant
from .episodes import continue_episodes
from .vocabulary import COMPONENTS, DEFAULT_STALE_AFTER, NAMES

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
            if item.data.get("kind") != READING:
                continue
            measured = item.ends if isinstance(item.ends, datetime) else None
            stale = bool(item.data.get("stale")) or measured is None or at - measured > stale_after
            if not stale:
                turns_stale.append(measured + stale_after)
            found.append(_reading(item, measured, stale))
        order = {code: n for n, code in enumerate(COMPONENTS)}
        found.sort(key=lambda r: (r["station"] or "", order.get(r["component"], len(order)), r["component"]))
        return {"readings": found}, min(turns_stale, default=None)

    def widget_context(self, data: Mapping, lang: str, zone: ZoneInfo) -> dict:
        """Pollutant names, the band of each reading and its chart."""
        return {
            "charts": [chart_of(r, lang, zone) for r in data.get("readings", [])],
            "pollutant": lambda c: pollutant(c, lang),
            "band": band,
        }

    def chart(self, data: Mapping, key: tuple[str, str], lang: str, zone: ZoneInfo) -> Chart | None:
        """The 48-hour chart of the reading of station and pollutant `key`."""
        readings = data.get("readings", [])
        reading = next((r for r in readings if (r["station"], r["component"]) == key), None)
        return chart_of(reading, lang, zone) if reading else None

    def has_current(self, feed, items: Sequence[Item], at: datetime) -> bool:
        """A reading that is not stale."""
        readings, _ = self.current_data(feed, items, at)
        return any(not reading["stale"] for reading in readings["readings"])


def band(reading: dict) -> str:
    """The air-quality band of a reading: alert, info, none (below the thresholds) or unknown."""
    if reading.get("level") in ("info", "alert"):
        return reading["level"]
    thresholds = reading.get("thresholds") or {}
    return "none" if any(v is not None for v in thresholds.values()) else "unknown"


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


FILTERS = {
    "component": ChoiceFilter(
        lambda i: (i.data.get("component") or i.category,), help="Air feeds: the pollutant."
    ),
    "station": data_choice(
        "station", "station_name", help="Air feeds: the station's code (e.g. DEBE034) or name."
    ),
    "min_value": data_minimum("value", 100000, "Air feeds: only readings of at least this value (µg/m³)."),
}
KIND = Air(
    "air",
    located=True,  # readings carry their station's place (when the upstream gives it): a .geojson map
    churning=True,
    view="air",
    filters=FILTERS,
    api_fields={"readings": READINGS},
    widget_options={"filters_entries": True},  # its filters apply to the readings, not through items
    widget_height=460,
    **widget_parts(__file__, TEXTS, pollutants=NAMES),
    topic="air",
    topic_name=N_("Air quality"),
    category_names=NAMES,
    empty_text=N_("no recent readings"),
)
