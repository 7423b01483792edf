"""Hourly ozone, NO2 and particulates of one Umweltbundesamt station (air data API v2), with alerts."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone

from marshmallow import fields
from marshmallow.validate import Length, OneOf

from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.items import FeedInfo, Item
from kinds.air.vocabulary import FILTERS as FILTERS
from kinds.air.vocabulary import KEEP_GONE as KEEP_GONE
from kinds.air.vocabulary import MASS_DELETION_GUARD as MASS_DELETION_GUARD
from kinds.air.vocabulary import UNIT, WINDOW, AirOptions, AirSource, Reading, Station, to_micrograms
from kinds.air.vocabulary import VOCABULARY as VOCABULARY

KIND = "air"  # FILTERS, VOCABULARY, KEEP_GONE and MASS_DELETION_GUARD: the air kind's, imported
TITLE = "Umweltbundesamt air quality station"
BASE_URL = "https://www.umweltbundesamt.de/api/air_data/v2"

COMPONENT_IDS = {"pm10": 1, "co": 2, "o3": 3, "so2": 4, "no2": 5, "pm2.5": 9}
COMPONENT_CODES = {number: code for code, number in COMPONENT_IDS.items()}
UPSTREAM_UNITS = {"co": "mg/m³"}  # /components/json: CO in mg/m³, every other pollutant in µg/m³
HOURLY_SCOPE = 2  # "1SMW", the 1-hour mean the EU thresholds are defined on
CET = timezone(timedelta(hours=1))  # UBA times are CET all year round: no daylight saving time
TIME_PATTERN = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})")
STATION_FIELDS = {"id": 0, "code": 1, "name": 2}  # positions as documented by the response's "indices"
INDEX_LABEL = re.compile(r"(\d+):.*-\s*station (id|code|name|longitude|latitude)\s*$", re.IGNORECASE)
MAX_LABEL = 200  # an index label is a few words ("2: string - station name"); cut before the pattern reads it


class Options(AirOptions):
    station = fields.String(required=True, validate=Length(min=1))
    base_url = Url(load_default=BASE_URL)
    # "airquality" fetches all components in one request, but its PM values are running 24-hour means
    endpoint = fields.String(load_default="measures", validate=OneOf(("measures", "airquality")))


OPTIONS = Options


class Source(AirSource):
    def __init__(
        self, feed: FeedInfo, station: str, base_url: str = BASE_URL, endpoint: str = "measures", **air
    ):
        """`air`: the options of every air source (AirOptions: components, thresholds, ...)."""
        super().__init__(feed, **air)
        self.station = str(station).strip()
        self.base_url = base_url.rstrip("/")
        self.endpoint = endpoint

    def fetch(self, http: Http) -> Payload:
        """The station list (to resolve the station), plus its readings of the last 48 hours as `related`.

        Every request is conditional (the readings' query names whole hours, so it repeats within an hour);
        a 304 reuses the remembered body, and the readings are judged against the time of this fetch.
        """
        lang = "de" if self.feed.language == "de" else "en"
        stations = http.get(
            f"{self.base_url}/stations/json", params={"use": "airquality", "lang": lang}, reuse=True
        )
        station_id, _ = find_station(load_json(stations), self.station)
        window = request_window(stations.fetched_at)
        if self.endpoint == "airquality":
            params = {"station": station_id, **window, "lang": lang}
            related = {"airquality": http.get(f"{self.base_url}/airquality/json", params=params, reuse=True)}
        else:
            related = {
                component: http.get(
                    f"{self.base_url}/measures/json",
                    params={
                        **window,
                        "station": station_id,
                        "component": str(COMPONENT_IDS[component]),
                        "scope": str(HOURLY_SCOPE),
                    },
                    reuse=True,
                )
                for component in self.components
            }
        return replace(stations, related=related)

    def parse(self, payload: Payload) -> list[Item]:
        """Threshold events and the latest reading per component; ParseError on any unexpected shape."""
        station_id, station = find_station(load_json(payload), self.station)
        if not payload.related:
            raise ParseError("no /measures/json or /airquality/json response came with the station list")
        measured = (
            pair
            for response in payload.related.values()
            for pair in measurements(load_json(response), station_id, station.code)
        )
        return self.build(station, measured, payload.fetched_at)


def uba_time_to_utc(text: str) -> datetime:
    """UBA's 'YYYY-MM-DD HH:MM:SS' in CET without daylight saving, hours up to 24:00 -> aware UTC."""
    match = TIME_PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ParseError(f"not a UBA time: {text!r}")
    hour, minute, second = int(match[2]), int(match[3]), int(match[4])
    if hour > 24 or minute > 59 or second > 59 or (hour == 24 and (minute or second)):
        raise ParseError(f"not a UBA time: {text!r}")
    try:
        day = date.fromisoformat(match[1])
    except ValueError as exc:
        raise ParseError(f"not a UBA time: {text!r}") from exc
    # hour 24 is midnight at the end of the day: adding hours handles it without a special case
    local = datetime.combine(day, time(0, minute, second), tzinfo=CET) + timedelta(hours=hour)
    return local.astimezone(UTC)


def uba_end_hour(moment: datetime) -> tuple[str, int]:
    """The UBA (date, hour 1..24) naming the hour in progress at `moment`: hours are named by their end."""
    hour_end = moment.astimezone(CET).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if hour_end.hour == 0:
        return (hour_end.date() - timedelta(days=1)).isoformat(), 24
    return hour_end.date().isoformat(), hour_end.hour


def request_window(now: datetime) -> dict[str, str]:
    """The date_from/time_from/date_to/time_to query of the 48 hours up to `now`."""
    date_from, time_from = uba_end_hour(now - WINDOW)
    date_to, time_to = uba_end_hour(now)
    return {"date_from": date_from, "time_from": str(time_from), "date_to": date_to, "time_to": str(time_to)}


def load_json(payload: Payload) -> dict:
    """The response as a JSON object with a `data` member; ParseError for HTML pages and other shapes."""
    try:
        document = json.loads(payload.text())
    except ValueError as exc:
        raise ParseError(f"UBA response is not JSON: {exc}") from exc
    if not isinstance(document, dict) or "data" not in document:
        raise ParseError("UBA response has no 'data' member")
    return document


def station_positions(indices) -> dict[str, int]:
    """Where id, code and name sit in a station row, read from the response's `indices` when present."""
    positions = dict(STATION_FIELDS)
    for label in indices if isinstance(indices, list) else ():
        match = INDEX_LABEL.match(str(label)[:MAX_LABEL])
        if match:
            positions[match[2].lower()] = int(match[1])
    return positions


def station_rows(document: dict) -> list[tuple[str, Station]]:
    """Every (station id, Station) of a /stations/json response."""
    rows = document["data"]
    if not isinstance(rows, dict):
        raise ParseError("/stations/json 'data' is not an object of stations")
    where = station_positions(document.get("indices"))
    stations = []
    for row in rows.values():
        if not isinstance(row, list) or len(row) <= max(where[key] for key in STATION_FIELDS):
            raise ParseError(f"/stations/json row of unexpected shape: {str(row)[:80]}")
        station_id, code, name = (str(row[where[key]] or "").strip() for key in ("id", "code", "name"))
        lat, lon = (
            _degrees(row, where.get(key), limit) for key, limit in (("latitude", 90), ("longitude", 180))
        )
        stations.append((station_id, Station(code=code, name=name or code, lat=lat, lon=lon)))
    return stations


def _degrees(row: list, position: int | None, limit: float) -> float | None:
    """A station's latitude or longitude from its row (None when the response has none or it is not one)."""
    if position is None or position >= len(row):
        return None
    try:
        value = float(str(row[position]))
    except ValueError:
        return None
    return value if -limit <= value <= limit else None  # NaN fails too


def find_station(document: dict, wanted: str) -> tuple[str, Station]:
    """The station whose numeric id or code (any case) is `wanted`; OptionError with suggestions otherwise."""
    rows = station_rows(document)
    for station_id, station in rows:
        if wanted == station_id or wanted.casefold() == station.code.casefold():
            return station_id, station
    labels = {f"{s.code} ({s.name})": s for _, s in rows}
    by_name = difflib.get_close_matches(wanted, [s.name for s in labels.values()], n=3, cutoff=0.6)
    by_code = difflib.get_close_matches(wanted.upper(), [s.code for s in labels.values()], n=3, cutoff=0.6)
    suggestions = [label for label, s in labels.items() if s.name in by_name or s.code in by_code]
    raise OptionError("station", wanted, suggestions[:5])


def measurements(document: dict, station_id: str, station_code: str = "") -> Iterator[tuple[str, Reading]]:
    """(component code, Reading) of a /measures/json or /airquality/json response, for one station."""
    data = document["data"]
    if data in ([], {}):
        return  # the API answers an empty list when the station has no values in the window
    if not isinstance(data, dict):
        raise ParseError("UBA 'data' is not an object of stations")
    # keyed by station id by default, by station code when the request asked for index=code
    hours = data.get(station_id, data.get(station_code, {}))
    if not isinstance(hours, dict):
        raise ParseError("UBA station data is not an object of start times")
    for start_text, entry in hours.items():
        start = uba_time_to_utc(start_text)
        if not isinstance(entry, list) or not entry:
            raise ParseError(f"UBA entry at {start_text} is not a list")
        if isinstance(entry[0], str):
            yield from _airquality_entry(start, entry)
        else:
            yield from _measures_entry(start, entry)


def _measures_entry(start: datetime, entry: list) -> Iterator[tuple[str, Reading]]:
    """[component id, scope id, value, date end, index]."""
    if len(entry) < 4:
        raise ParseError(f"/measures/json entry of unexpected shape: {entry!r}")
    component_id, scope, value, end_text = entry[:4]
    if _integer(scope) != HOURLY_SCOPE:
        return  # other averaging periods (8-hour, daily means) are not comparable with 1-hour thresholds
    reading = _reading(_integer(component_id), start, end_text, value)
    if reading:
        yield reading


def _airquality_entry(start: datetime, entry: list) -> Iterator[tuple[str, Reading]]:
    """[date end, index, incomplete, [component id, value, index, decimal index], ...]."""
    for part in entry[3:]:
        if not isinstance(part, list) or len(part) < 2:
            raise ParseError(f"/airquality/json component of unexpected shape: {part!r}")
        reading = _reading(_integer(part[0]), start, entry[0], part[1])
        if reading:
            yield reading


def _reading(component_id: int, start: datetime, end_text, value) -> tuple[str, Reading] | None:
    component = COMPONENT_CODES.get(component_id)
    if component is None or value is None:
        return None  # pollutants the air sources do not cover, or an hour without a valid value
    number = _number(value)
    micrograms = to_micrograms(number, UPSTREAM_UNITS.get(component, UNIT), component)
    return component, Reading(start=start, end=uba_time_to_utc(end_text), value=round(micrograms, 3))


def _integer(value) -> int:
    if isinstance(value, bool):
        raise ParseError(f"expected an id, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"expected an id, got {value!r}") from exc


def _number(value) -> float:
    if isinstance(value, bool):
        raise ParseError(f"expected a measured value, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"expected a measured value, got {value!r}") from exc
    if not math.isfinite(number):
        raise ParseError(f"expected a measured value, got {value!r}")
    return number
