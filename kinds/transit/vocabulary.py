"""The transit vocabulary: the SMS lines for delays and cancellations, shared by all transit sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from feedserver.i18n import N_, known, say_all
from feedserver.items import FeedInfo, Item, make_item

WORDS = {"line": N_("Line"), "trip": N_("Trip"), "from": N_("from"), "cancelled": N_("cancelled")}


def _words(language: str) -> dict[str, str]:
    return say_all(known(language), WORDS)


def line_label(line: str | None, language: str, trip_id: str | None = None) -> str:
    """'Linie 5' for a bare line name, 'IC 2315' as it is, 'Fahrt 1234' when the line is unknown."""
    words = _words(language)
    if not line:
        return f"{words['trip']} {trip_id}" if trip_id else words["trip"]
    return f"{words['line']} {line}" if not any(c.isspace() for c in line) else line


def _head_and_place(language, line, direction, stop, at, trip_id) -> tuple[str, str]:
    head = line_label(line, language, trip_id) + (f" → {direction}" if direction else "")
    words = _words(language)
    place = f" {words['from']} {stop}" if stop else ""
    return head, place + (f" {at:%H:%M}" if at else "")


def delay_title(language, line, direction, minutes, stop, at: datetime | None, trip_id=None) -> str:
    """The SMS line of a delay: 'Linie 5 → Hbf: +12 min ab Rathaus 14:32'."""
    head, place = _head_and_place(language, line, direction, stop, at, trip_id)
    return f"{head}: +{minutes} min{place}"


def cancel_title(language, line, direction, stop, at: datetime | None, trip_id=None) -> str:
    """The SMS line of a cancellation: 'Linie 5 → Hbf: fällt aus ab Rathaus 14:32'."""
    head, place = _head_and_place(language, line, direction, stop, at, trip_id)
    return f"{head}: {_words(language)['cancelled']}{place}"


HISTORY_KEPT = timedelta(hours=3)  # a passed trip's delay stays in the feeds this long

# The source contract's constants, alike for every transit source (each module re-exports them).
MASS_DELETION_GUARD = False  # departures come and go every minute (see feedserver/guard.py)
KEEP_GONE = HISTORY_KEPT  # a passed trip leaves the current view but stays in the feeds this long
FILTERS = ("line", "stop", "min_delay", "type", "near")


@dataclass(frozen=True)
class Departure:
    """One trip at one stop as a delay or cancellation item tells of it."""

    trip_id: str
    line: str | None
    route_id: str | None
    direction: str | None
    stop_id: str | None
    stop_name: str | None
    at: datetime | None  # the scheduled time at the stop, in the network's zone
    delay: int | None  # seconds; None for a cancellation


def departure_item(feed: FeedInfo, key: str, kind: str, trip: Departure, published: datetime, **data) -> Item:
    """The item of a delay or a cancellation ("delay" or "cancellation"): the SMS line and the data every
    transit source gives, then `data`."""
    language = feed.language
    minutes = trip.delay // 60 if trip.delay is not None else None
    if kind == "delay":
        title = delay_title(
            language, trip.line, trip.direction, minutes, trip.stop_name, trip.at, trip.trip_id
        )
    else:
        title = cancel_title(language, trip.line, trip.direction, trip.stop_name, trip.at, trip.trip_id)
    return make_item(
        feed.id,
        key,
        title=title,
        published=published,
        updated=published,
        category=kind,
        area=trip.line,
        starts=trip.at,
        data={
            "type": kind,
            "line": trip.line,
            "route_id": trip.route_id,
            "stop_id": trip.stop_id,
            "stop_name": trip.stop_name,
            "delay_minutes": minutes,
            "delay_seconds": trip.delay,
            "trip_id": trip.trip_id,
            **data,
        },
    )
