"""Hourly air quality of one OpenAQ v3 location (government networks worldwide), with threshold alerts."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from marshmallow import fields
from marshmallow.validate import Range

from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Secret, Url
from feedserver.items import FeedInfo, Item
from kinds.air.vocabulary import FILTERS as FILTERS
from kinds.air.vocabulary import KEEP_GONE as KEEP_GONE
from kinds.air.vocabulary import MASS_DELETION_GUARD as MASS_DELETION_GUARD
from kinds.air.vocabulary import VOCABULARY as VOCABULARY
from kinds.air.vocabulary import (
    WINDOW,
    AirOptions,
    AirSource,
    Reading,
    Station,
    normalize_component,
    to_micrograms,
)

KIND = "air"  # FILTERS, VOCABULARY, KEEP_GONE and MASS_DELETION_GUARD: the air kind's, imported
TITLE = "OpenAQ location"
BASE_URL = "https://api.openaq.org"
PAGE_LIMIT = 1000  # one page holds 48 hourly values even from sensors that report every few minutes
HOUR = timedelta(hours=1)


class Options(AirOptions):
    location_id = fields.Integer(required=True, validate=Range(min=1))
    api_key = Secret(load_default=None)
    base_url = Url(load_default=BASE_URL)


OPTIONS = Options


class Source(AirSource):
    def __init__(
        self, feed: FeedInfo, location_id: int, api_key: str | None = None, base_url: str = BASE_URL, **air
    ):
        """`air`: the options of every air source (AirOptions: components, thresholds, ...)."""
        super().__init__(feed, **air)
        self.location_id = int(location_id)
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")

    def fetch(self, http: Http) -> Payload:
        """The location (for its sensors), plus each wanted sensor's measurements of the last 48 hours.

        Every request is conditional, and the window is of whole hours (to the end of the current one) so
        its query repeats within the hour; a 304 reuses the remembered body (readings are judged against
        the time of the fetch).
        """
        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        location = http.get(f"{self.base_url}/v3/locations/{self.location_id}", headers=headers, reuse=True)
        sensors = sensor_ids(location_record(load_json(location), self.location_id))
        hour = location.fetched_at.replace(minute=0, second=0, microsecond=0)
        window = {
            "datetime_from": _iso(hour - WINDOW),
            "datetime_to": _iso(hour + HOUR),  # nothing is measured after now: the same readings
            "limit": str(PAGE_LIMIT),
        }
        related = {}
        for component in self.components:
            if component not in sensors:
                raise OptionError("components", component, sorted(sensors))
            url = f"{self.base_url}/v3/sensors/{sensors[component]}/measurements"
            related[component] = http.get(url, params=window, headers=headers, reuse=True)
        return replace(location, related=related)

    def parse(self, payload: Payload) -> list[Item]:
        """Threshold events and the latest reading per component, in µg/m³; ParseError on odd shapes."""
        record = location_record(load_json(payload), self.location_id)
        code = str(record.get("id", self.location_id))
        station = Station(code=code, name=str(record.get("name") or code), **place_of(record))
        if not payload.related:
            raise ParseError("no sensor measurements came with the location")
        measured = (
            pair for response in payload.related.values() for pair in measurements(load_json(response))
        )
        return self.build(station, measured, payload.fetched_at)


def place_of(location: dict) -> dict:
    """The location's `coordinates` as Station's lat and lon (nothing when absent or out of range)."""
    where = location.get("coordinates")
    if not isinstance(where, dict):
        return {}
    lat, lon = where.get("latitude"), where.get("longitude")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    return (
        {"lat": float(lat), "lon": float(lon)} if numbers and -90 <= lat <= 90 and -180 <= lon <= 180 else {}
    )


def load_json(payload: Payload) -> dict:
    """The response as a JSON object with a `results` list; ParseError for HTML pages and other shapes."""
    try:
        document = json.loads(payload.text())
    except ValueError as exc:
        raise ParseError(f"OpenAQ response is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise ParseError("OpenAQ response has no 'results' list")
    return document


def location_record(document: dict, location_id: int) -> dict:
    """The one location of a /v3/locations/{id} response; OptionError when the API found none."""
    results = document["results"]
    if not results:
        raise OptionError("location_id", str(location_id))
    if not isinstance(results[0], dict):
        raise ParseError("OpenAQ location is not an object")
    return results[0]


def sensor_ids(location: dict) -> dict[str, int]:
    """Component code -> sensor id, for the pollutants among the location's sensors (first sensor wins)."""
    sensors = location.get("sensors")
    if not isinstance(sensors, list):
        raise ParseError("OpenAQ location has no 'sensors' list")
    found: dict[str, int] = {}
    for sensor in sensors:
        name = _parameter(sensor).get("name")
        try:
            found.setdefault(normalize_component(str(name)), int(sensor["id"]))
        except ValueError:
            continue  # parameters that are not pollutants with thresholds (temperature, NO, NOx, ...)
        except (KeyError, TypeError) as exc:
            raise ParseError(f"OpenAQ sensor without an id: {sensor!r}") from exc
    return found


def measurements(document: dict) -> Iterator[tuple[str, Reading]]:
    """(component code, Reading in µg/m³) of a /v3/sensors/{id}/measurements response."""
    for result in document["results"]:
        parameter = _parameter(result)
        try:
            component = normalize_component(str(parameter.get("name")))
        except ValueError:
            continue
        value = result.get("value")
        if value is None:
            continue  # an hour without a valid value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ParseError(f"OpenAQ value is not a number: {value!r}")
        start, end = _period(result)
        micrograms = to_micrograms(float(value), str(parameter.get("units", "")), component)
        yield component, Reading(start=start, end=end, value=round(micrograms, 3))


def _parameter(record) -> dict:
    parameter = record.get("parameter") if isinstance(record, dict) else None
    if not isinstance(parameter, dict):
        raise ParseError(f"OpenAQ record without a parameter: {str(record)[:80]}")
    return parameter


def _period(result: dict) -> tuple[datetime, datetime]:
    period = result.get("period")
    if not isinstance(period, dict):
        raise ParseError("OpenAQ measurement without a period")
    start = _utc(period.get("datetimeFrom"))
    end = _utc(period.get("datetimeTo")) if period.get("datetimeTo") else start + HOUR
    return start, end


def _utc(moment) -> datetime:
    text = moment.get("utc") if isinstance(moment, dict) else None
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"OpenAQ time is not ISO 8601: {moment!r}") from exc
    # the field is named "utc": a value without an offset is UTC, not local time
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
