"""Static GTFS (a zip of CSV files) reduced to what delay messages need: names and scheduled times.

Loaded by streaming the CSV rows (the zip may hold millions of stop_times) into compact structures, and
cached per content hash so a feed polled every minute parses its schedule only when the zip changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedserver.errors import ParseError

REQUIRED_FILES = ("routes.txt", "stops.txt", "trips.txt")
NO_TIME = -1  # stop_times rows may leave arrival/departure empty between timepoints
FIELDS_PER_STOP = 4  # stop_sequence, stop index, arrival seconds, departure seconds
CACHE_SIZE = 2  # the current zip and the one before it, while a poll switches over

_cache: OrderedDict[str, StaticFeed] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Route:
    """A line: short name ("5", "S1"), long name, GTFS route_type."""

    short_name: str
    long_name: str
    route_type: int | None


@dataclass(frozen=True)
class Trip:
    """One scheduled run of a route."""

    route_id: str
    headsign: str
    short_name: str


@dataclass
class StaticFeed:
    """Names and schedules of one static GTFS zip; stop_times are flat int arrays per trip."""

    timezone: str | None = None
    routes: dict[str, Route] = field(default_factory=dict)
    trips: dict[str, Trip] = field(default_factory=dict)
    stop_ids: list[str] = field(default_factory=list)
    stop_names: list[str] = field(default_factory=list)
    stop_index: dict[str, int] = field(default_factory=dict)
    stop_times: dict[str, array] = field(default_factory=dict)
    stop_places: dict[str, tuple[float, float]] = field(default_factory=dict)  # stops.txt stop_lat, stop_lon

    def stop_name(self, stop_id: str) -> str | None:
        """The stop's name from stops.txt, or None when the stop is unknown."""
        index = self.stop_index.get(stop_id)
        return self.stop_names[index] if index is not None else None

    def stop_place(self, stop_id: str) -> dict[str, float]:
        """The stop's place as item data (`lat`, `lon`), or nothing when stops.txt gives none."""
        place = self.stop_places.get(stop_id)
        return {"lat": place[0], "lon": place[1]} if place else {}

    def schedule(self, trip_id: str) -> list[tuple[int, str, int, int]]:
        """The trip's stops as (stop_sequence, stop_id, arrival s, departure s), ordered by sequence."""
        flat = self.stop_times.get(trip_id)
        if flat is None:
            return []
        return [
            (flat[i], self.stop_ids[flat[i + 1]], flat[i + 2], flat[i + 3])
            for i in range(0, len(flat), FIELDS_PER_STOP)
        ]

    def _intern_stop(self, stop_id: str, name: str) -> int:
        index = self.stop_index.get(stop_id)
        if index is None:
            index = self.stop_index[stop_id] = len(self.stop_ids)
            self.stop_ids.append(stop_id)
            self.stop_names.append(name)
        return index


def load_static(body: bytes) -> StaticFeed:
    """The parsed feed of a GTFS zip, from the cache when the same bytes were loaded before."""
    digest = hashlib.sha256(body).hexdigest()
    with _cache_lock:
        if digest in _cache:
            _cache.move_to_end(digest)
            return _cache[digest]
    feed = read_static(body)
    with _cache_lock:
        _cache[digest] = feed
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return feed


def read_static(body: bytes) -> StaticFeed:
    """Read a GTFS zip; ParseError when it is not a zip or lacks routes, stops or trips."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise ParseError(f"static GTFS is not a zip file: {exc}") from exc
    with archive:
        members = _members_by_name(archive)
        missing = [name for name in REQUIRED_FILES if name not in members]
        if missing:
            raise ParseError(f"static GTFS lacks {', '.join(missing)}")
        feed = StaticFeed()
        try:
            if "agency.txt" in members:
                feed.timezone = _agency_timezone(_rows(archive, members["agency.txt"]))
            _read_routes(feed, _rows(archive, members["routes.txt"]))
            _read_stops(feed, _rows(archive, members["stops.txt"]))
            _read_trips(feed, _rows(archive, members["trips.txt"]))
            if "stop_times.txt" in members:
                _read_stop_times(feed, _rows(archive, members["stop_times.txt"]))
        except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, EOFError) as exc:
            raise ParseError(f"broken static GTFS: {exc}") from exc
    return feed


def _members_by_name(archive: zipfile.ZipFile) -> dict[str, str]:
    # some publishers zip the folder, so files sit one level down ("gtfs/stops.txt")
    members: dict[str, str] = {}
    for name in archive.namelist():
        members.setdefault(name.rsplit("/", 1)[-1].lower(), name)
    return members


def _rows(archive: zipfile.ZipFile, member: str) -> Iterator[dict[str, int] | list[str]]:
    """Yield the header as {column: index} first, then every row as a list of strings."""
    with archive.open(member) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        header = next(reader, [])
        yield {name.strip(): index for index, name in enumerate(header)}
        yield from reader


def _column_getter(header: dict[str, int], name: str):
    index = header.get(name)
    if index is None:
        return lambda row: ""
    return lambda row: row[index].strip() if index < len(row) else ""


def _agency_timezone(rows) -> str | None:
    header = next(rows)
    zone = _column_getter(header, "agency_timezone")
    for row in rows:
        name = zone(row)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name  # the spec requires one zone for all agencies of a feed
    return None


def _read_routes(feed: StaticFeed, rows) -> None:
    header = next(rows)
    route_id, short, long_ = (
        _column_getter(header, c) for c in ("route_id", "route_short_name", "route_long_name")
    )
    route_type = _column_getter(header, "route_type")
    for row in rows:
        kind = route_type(row)
        feed.routes[route_id(row)] = Route(short(row), long_(row), int(kind) if kind.isdigit() else None)


def _read_stops(feed: StaticFeed, rows) -> None:
    header = next(rows)
    stop_id, name = _column_getter(header, "stop_id"), _column_getter(header, "stop_name")
    lat, lon = _column_getter(header, "stop_lat"), _column_getter(header, "stop_lon")
    for row in rows:
        if stop_id(row):
            feed._intern_stop(stop_id(row), name(row) or stop_id(row))
            place = _place(lat(row), lon(row))
            if place:
                feed.stop_places[stop_id(row)] = place


def _place(lat: str | None, lon: str | None) -> tuple[float, float] | None:
    """A stop's (latitude, longitude) in WGS 84, or None when either is missing or out of range."""
    try:
        latitude, longitude = float(lat or "nan"), float(lon or "nan")
    except ValueError:
        return None
    return (latitude, longitude) if -90 <= latitude <= 90 and -180 <= longitude <= 180 else None


def _read_trips(feed: StaticFeed, rows) -> None:
    header = next(rows)
    trip_id, route_id = _column_getter(header, "trip_id"), _column_getter(header, "route_id")
    headsign, short = _column_getter(header, "trip_headsign"), _column_getter(header, "trip_short_name")
    for row in rows:
        feed.trips[trip_id(row)] = Trip(route_id(row), headsign(row), short(row))


def _read_stop_times(feed: StaticFeed, rows) -> None:
    header = next(rows)
    try:
        trip_col, stop_col, seq_col = header["trip_id"], header["stop_id"], header["stop_sequence"]
    except KeyError as exc:
        raise ParseError(f"stop_times.txt lacks the column {exc}") from exc
    arrival_col, departure_col = header.get("arrival_time"), header.get("departure_time")
    width = max(trip_col, stop_col, seq_col, arrival_col or 0, departure_col or 0) + 1
    stop_times, intern = feed.stop_times, feed._intern_stop
    for row in rows:  # the hot loop of the loader: plain indexing, cached time parsing
        if len(row) < width or not row[seq_col].strip().isdigit():
            continue
        arrives = gtfs_seconds(row[arrival_col]) if arrival_col is not None else NO_TIME
        departs = gtfs_seconds(row[departure_col]) if departure_col is not None else NO_TIME
        arrives = departs if arrives == NO_TIME else arrives
        departs = arrives if departs == NO_TIME else departs
        flat = stop_times.get(row[trip_col])
        if flat is None:
            flat = stop_times[row[trip_col]] = array("i")
        stop = row[stop_col].strip()
        flat.extend((int(row[seq_col]), intern(stop, stop), arrives, departs))
    for trip, flat in stop_times.items():
        stop_times[trip] = _sorted_by_sequence(flat)


def _sorted_by_sequence(flat: array) -> array:
    sequences = flat[::FIELDS_PER_STOP]
    if all(a < b for a, b in zip(sequences, sequences[1:], strict=False)):
        return flat
    groups = sorted(flat[i : i + FIELDS_PER_STOP] for i in range(0, len(flat), FIELDS_PER_STOP))
    return array("i", (value for group in groups for value in group))


def gtfs_seconds(text: str) -> int:
    """'25:38:00' -> 92280 seconds after the service day's reference; NO_TIME for an empty or bad value."""
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return NO_TIME
    hours, minutes, seconds = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds


def service_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The reference of GTFS times: noon minus 12 h of the service day (one hour off midnight on DST days)."""
    noon = datetime.combine(day, time(12), tzinfo=zone)
    # Python subtracts in wall-clock time for aware datetimes, which would land on midnight: go through UTC
    return noon.astimezone(UTC) - timedelta(hours=12)


@dataclass(frozen=True)
class Context:
    """What every entity of one parse needs: schedule, zone, header time, language."""

    static: StaticFeed | None
    zone: ZoneInfo
    header: int | None
    published: datetime
    language: str

    def stop_name(self, stop_id: str) -> str:
        return (self.static.stop_name(stop_id) if self.static else None) or stop_id

    def stop_place(self, stop_id: str | None) -> dict[str, float]:
        """The stop's `lat` and `lon` for the item's data (nothing without a static feed or a place)."""
        return self.static.stop_place(stop_id) if self.static and stop_id else {}

    def route_name(self, route_id: str | None) -> str | None:
        """The name riders know for a route: its short name, else its long one, else the id itself."""
        route = self.static.routes.get(route_id) if self.static and route_id else None
        return (route.short_name or route.long_name if route else None) or route_id

    def header_data(self) -> dict:
        if self.header is None:
            return {"header_timestamp": None, "header_time": None}
        return {"header_timestamp": self.header, "header_time": self.published.isoformat()}
