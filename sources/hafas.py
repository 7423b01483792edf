"""Delays and cancellations on a stop's departure board, from HAFAS-based APIs.

Fetches the transport.rest / hafas-rest-api shape (FPTF: `GET {base_url}/stops/{stop}/departures`; v5 answers
a list, v6 `{"departures": [...], "realtimeDataUpdatedAt": ...}`). The raw HAFAS "mgate" JSON (StationBoard:
`svcResL[0].res` or the bare `res` with `common` and `jnyL`) is parsed too, recognised by its shape, for
mirrors or proxies that pass it through. One item per departure at least `min_delay` minutes late and one
per cancelled departure; the key is trip id + planned time, so a growing delay updates the same item.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from feedserver.errors import ParseError, UpstreamError
from feedserver.fetch import Http, Payload
from feedserver.fields import Interval, TimeZone, Url
from feedserver.items import FeedInfo, Item
from kinds.transit.vocabulary import FILTERS as FILTERS
from kinds.transit.vocabulary import KEEP_GONE as KEEP_GONE
from kinds.transit.vocabulary import MASS_DELETION_GUARD as MASS_DELETION_GUARD
from kinds.transit.vocabulary import Departure, departure_item

KIND = "transit"  # FILTERS, KEEP_GONE and MASS_DELETION_GUARD: the transit kind's, imported
TITLE = "HAFAS departure board delays"
VOCABULARY = {"type": ("delay", "cancellation")}
JSON_TYPES = ("application/json", "text/json", "text/plain")
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


class Options(Schema):
    base_url = Url(required=True)
    stop = fields.String(load_default=None)
    min_delay = fields.Integer(load_default=5, validate=validate.Range(min=0, max=24 * 60))
    duration = fields.Integer(load_default=60, validate=validate.Range(min=1, max=24 * 60))
    timezone = TimeZone(load_default=None)
    stale_after = Interval(minimum=0, maximum=86400, load_default=90)


OPTIONS = Options


class Source:
    def __init__(
        self,
        feed: FeedInfo,
        base_url: str,
        stop: str | None = None,
        min_delay: int = 5,
        duration: int = 60,
        timezone: str | None = None,
        stale_after: int = 90,
    ):
        self.feed = feed
        self.stale_after = stale_after  # seconds beyond the polling interval; judged by the core
        self.base_url = base_url
        self.stop = stop
        self.min_delay = min_delay
        self.duration = duration
        self.zone = ZoneInfo(timezone or feed.timezone)  # HAFAS mgate times are local to the instance

    @property
    def url(self) -> str:
        """`{base_url}/stops/{stop}/departures`, or base_url itself when no stop is set."""
        if not self.stop:
            return self.base_url
        return f"{self.base_url.rstrip('/')}/stops/{quote(self.stop, safe='')}/departures"

    def fetch(self, http: Http) -> Payload:
        """Download the departure board for the next `duration` minutes (conditional, see data_age)."""
        # a 304 reuses the remembered board: its age, judged against the time of this fetch, still counts
        return http.get(self.url, params={"duration": str(self.duration)}, expect=JSON_TYPES, reuse=True)

    def data_age(self, payload: Payload) -> float | None:
        """Seconds the realtime data had aged when fetched (realtimeDataUpdatedAt or planrtTS), if given."""
        document = _load(payload)
        res = _mgate_result(document)
        stamp = res.get("planrtTS") if res is not None else _fptf_departures(document)[1]
        try:
            return payload.fetched_at.timestamp() - int(stamp) if stamp else None
        except (TypeError, ValueError):
            return None  # the time is only a hint; parse() judges the board itself

    def parse(self, payload: Payload) -> list[Item]:
        """Delay and cancellation items; ParseError for anything that is not a departure board."""
        document = _load(payload)
        res = _mgate_result(document)
        try:
            if res is not None:
                found = list(self._mgate_items(res, payload.fetched_at))
            else:
                found = list(self._fptf_items(document, payload.fetched_at))
        except SHAPE_ERRORS as exc:
            raise ParseError(f"unexpected departure board shape: {type(exc).__name__}: {exc}") from exc
        items = {item.id: item for item in found if item is not None}
        return sorted(items.values(), key=lambda i: (i.starts, i.key))

    def _fptf_items(self, document, fetched_at: datetime):
        departures, updated = _fptf_departures(document)
        published = datetime.fromtimestamp(updated, UTC) if isinstance(updated, int | float) else fetched_at
        for departure in departures:
            planned = self._when(departure.get("plannedWhen"))
            when = self._when(departure.get("when"))
            delay = departure.get("delay")
            if planned is None and when is not None and isinstance(delay, int | float):
                planned = when - timedelta(seconds=delay)  # older FPTF had no plannedWhen
            if planned is None:
                raise ParseError(f"departure {departure.get('tripId')!r} without plannedWhen")
            if not isinstance(delay, int | float):
                delay = (when - planned).total_seconds() if when is not None else None
            line = departure.get("line") or {}
            stop = departure.get("stop") or {}
            yield self._item(
                trip_id=str(departure.get("tripId") or f"{line.get('id')}|{line.get('fahrtNr')}"),
                planned=planned,
                delay=None if delay is None else int(delay),
                cancelled=departure.get("cancelled") is True,
                line=(line.get("name") or "").strip() or None,
                route_id=line.get("id"),
                direction=departure.get("direction") or (departure.get("destination") or {}).get("name"),
                stop=(stop.get("id"), stop.get("name"), _rest_place(stop.get("location"))),
                published=published,
            )

    def _mgate_items(self, res: dict, fetched_at: datetime):
        common = res.get("common") or {}
        places, products = common.get("locL") or [], common.get("prodL") or []
        prefix = "a" if res.get("type") == "ARR" else "d"
        stamp = res.get("planrtTS")
        published = datetime.fromtimestamp(int(stamp), UTC) if stamp else fetched_at
        for journey in res["jnyL"]:
            stop_event = journey["stbStop"]
            day = datetime.strptime(journey["date"], "%Y%m%d").date()
            offset = stop_event.get(f"{prefix}TZOffset")
            planned = mgate_time(day, stop_event[f"{prefix}TimeS"], self.zone, offset)
            real = stop_event.get(f"{prefix}TimeR")
            expected = mgate_time(day, real, self.zone, offset) if real else None
            product = products[journey.get("prodX", stop_event.get(f"{prefix}ProdX", 0))]
            place = places[stop_event["locX"]]
            yield self._item(
                trip_id=journey["jid"],
                planned=planned,
                delay=int((expected - planned).total_seconds()) if expected else None,
                cancelled=bool(stop_event.get(f"{prefix}Cncl") or journey.get("isCncl")),
                line=_product_name(product),
                route_id=(product.get("prodCtx") or {}).get("lineId") or product.get("pid"),
                direction=journey.get("dirTxt"),
                stop=(place.get("extId"), place.get("name"), _mgate_place(place.get("crd"))),
                published=published,
            )

    def _when(self, value) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def _item(self, *, trip_id, planned, delay, cancelled, line, route_id, direction, stop, published):
        if cancelled:
            kind = "cancellation"
        elif delay is not None and delay >= self.min_delay * 60:
            kind = "delay"
        else:
            return None
        stop_id, stop_name, where = stop
        shown_delay = delay if kind == "delay" else None  # a cancelled departure has no delay to tell
        at = planned.astimezone(self.zone)
        departure = Departure(trip_id, line, route_id, direction, stop_id, stop_name, at, shown_delay)
        return departure_item(
            self.feed,
            f"{kind}|{trip_id}|{planned.isoformat()}",
            kind,
            departure,
            published,
            header_timestamp=int(published.timestamp()),
            header_time=published.astimezone(UTC).isoformat(),
            **where,
        )


def _rest_place(location) -> dict[str, float]:
    """A db-rest/transport.rest stop's `location` as item data `lat`, `lon` (nothing when absent)."""
    if not isinstance(location, dict):
        return {}
    return _checked(location.get("latitude"), location.get("longitude"))


def _mgate_place(crd) -> dict[str, float]:
    """A HAFAS mgate location's `crd` (microdegrees, x east, y north) as item data `lat`, `lon`."""
    if not isinstance(crd, dict) or not all(isinstance(crd.get(k), int) for k in ("x", "y")):
        return {}
    return _checked(crd["y"] / 1e6, crd["x"] / 1e6)


def _checked(lat, lon) -> dict[str, float]:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    return (
        {"lat": float(lat), "lon": float(lon)} if numbers and -90 <= lat <= 90 and -180 <= lon <= 180 else {}
    )


def _load(payload: Payload):
    try:
        return json.loads(payload.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"departure board is not JSON: {exc}") from exc


def _mgate_result(document) -> dict | None:
    """The StationBoard result of a raw mgate answer (wrapped or bare), or None for other shapes."""
    if isinstance(document, dict) and isinstance(document.get("svcResL"), list):
        if not document["svcResL"]:
            raise ParseError("HAFAS answer without svcResL entries")
        service = document["svcResL"][0]
        if service.get("err", "OK") != "OK":
            raise UpstreamError(f"HAFAS error {service.get('err')}: {service.get('errTxt', '')}".strip())
        document = service.get("res")
    if isinstance(document, dict) and isinstance(document.get("jnyL"), list) and "common" in document:
        return document
    return None


def _fptf_departures(document) -> tuple[list[dict], object]:
    """(departures, realtimeDataUpdatedAt) from a v5 list or a v6 wrapper; ParseError otherwise."""
    if isinstance(document, list):
        departures, updated = document, None
    elif isinstance(document, dict):
        departures = document.get("departures", document.get("arrivals"))
        updated = document.get("realtimeDataUpdatedAt")
    else:
        departures = None
    if not isinstance(departures, list) or not all(isinstance(d, dict) for d in departures):
        raise ParseError(
            "not a departure board (expected a list of departures or a {departures: [...]} object)"
        )
    return departures, updated


def _product_name(product: dict) -> str | None:
    context = product.get("prodCtx") or {}
    return (product.get("name") or context.get("name") or "").strip() or None


def mgate_time(day: date, text: str, zone: ZoneInfo, offset_minutes: int | None = None) -> datetime:
    """HAFAS 'HHMMSS' or 'DDHHMMSS' (DD = days after `day`) as an aware local time."""
    if len(text) not in (6, 8) or not text.isdigit():
        raise ValueError(f"bad HAFAS time {text!r}")
    days = int(text[:-6] or 0)
    hours, minutes, seconds = int(text[-6:-4]), int(text[-4:-2]), int(text[-2:])
    wall = datetime(day.year, day.month, day.day) + timedelta(
        days=days, hours=hours, minutes=minutes, seconds=seconds
    )
    if offset_minutes is not None:
        return wall.replace(tzinfo=timezone(timedelta(minutes=int(offset_minutes))))
    return wall.replace(tzinfo=zone)
