"""Kind-specific current data for /api/v1/feeds/{id}: next pickups, air readings, delays, alerts in force.

Each builder returns the fields to add and the moment they stop being true without new data (or None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..air import COMPONENTS, DEFAULT_STALE_AFTER
from ..config import FeedSettings
from ..items import Item

Extra = tuple[dict, datetime | None]
NOT_PICKUPS = ("reading", "notice")


def kind_data(feed: FeedSettings, items: Sequence[Item], at: datetime) -> Extra:
    """The current data a feed of this kind offers beyond its items."""
    builder = BUILDERS.get(feed.kind)
    return builder(feed, items, at) if builder else ({}, None)


def next_pickups(feed: FeedSettings, items: Sequence[Item], at: datetime) -> Extra:
    """The next collection day per waste category, from today (local time) on; true until midnight."""
    zone = ZoneInfo(feed.timezone)
    today = at.astimezone(zone).date()
    upcoming = sorted(
        (_local_day(item.starts, zone), item.id, item)
        for item in items
        if item.starts is not None and item.category is not None and item.data.get("kind") not in NOT_PICKUPS
    )
    first: dict[str, tuple[date, Item]] = {}
    for day, _, item in upcoming:
        if day >= today:
            first.setdefault(item.category, (day, item))
    pickups = [
        {
            "category": category,
            "label": item.data.get("label"),
            "date": day,
            "title": item.title,
            "item_id": item.id,
        }
        for category, (day, item) in sorted(first.items(), key=lambda pair: (pair[1][0], pair[0]))
    ]
    midnight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return {"next_pickups": pickups}, midnight


def readings(feed: FeedSettings, items: Sequence[Item], at: datetime) -> Extra:
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


def transit(feed: FeedSettings, items: Sequence[Item], at: datetime) -> Extra:
    """Current delays and cancellations, earliest departure first, plus the service alerts in force."""
    delays = [
        {
            "item_id": item.id,
            "type": item.data.get("type"),
            "title": item.title,
            "line": item.data.get("line"),
            "stop_id": item.data.get("stop_id"),
            "stop_name": item.data.get("stop_name"),
            "delay_minutes": item.data.get("delay_minutes"),
            "scheduled": item.starts,
            "trip_id": item.data.get("trip_id"),
        }
        for item in sorted(items, key=lambda i: (_moment(i.starts) or i.published, i.id))
        if item.data.get("type") in ("delay", "cancellation")
    ]
    in_force, until = _in_force([i for i in items if i.data.get("type") == "alert"], at)
    return {"delays": delays, "alerts": in_force}, until


def alerts(feed: FeedSettings, items: Sequence[Item], at: datetime) -> Extra:
    """Alerts in force: not expired and not an all-clear, newest first."""
    warnings = [i for i in items if str(i.data.get("msg_type") or "alert").lower() != "cancel"]
    in_force, until = _in_force(warnings, at)
    return {"alerts": in_force}, until


def _in_force(items: Sequence[Item], at: datetime) -> tuple[list[dict], datetime | None]:
    current = [i for i in items if _moment(i.ends) is None or _moment(i.ends) > at]
    current.sort(key=lambda i: (-i.published.timestamp(), i.id))
    ends = [_moment(i.ends) for i in current if _moment(i.ends) is not None]
    return [_alert(i) for i in current], min(ends, default=None)


def _alert(item: Item) -> dict:
    data = item.data
    return {
        "item_id": item.id,
        "title": item.title,
        "severity": _text(data.get("severity")),
        "urgency": _text(data.get("urgency")),
        "certainty": _text(data.get("certainty")),
        "event": _text(data.get("event") or data.get("effect")),
        "area": item.area,
        "starts": item.starts,
        "ends": item.ends,
        "url": item.url,
        "published": item.published,
    }


def _text(value) -> str | None:
    return None if value is None else str(value)


def _local_day(value: date | datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


def _moment(value: date | datetime | None) -> datetime | None:
    """A date or date-time as an aware instant (a date counts until its end, UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)


BUILDERS = {"waste": next_pickups, "air": readings, "transit": transit, "alerts": alerts}
