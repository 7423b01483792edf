"""Delays, cancellations and service alerts from any GTFS-Realtime feed, named through its static GTFS.

One item per trip that is expected at least `min_delay` minutes late at one of its remaining stops: the
largest delay over the stops not yet passed (at the header's time) is reported, at the first stop where it
is reached, because a rider further down the line cares about the delay there even while the vehicle is
still on time. The item's key is trip_id + service day, so a growing delay updates the same item.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as rt
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Interval, TimeZone, Url
from feedserver.items import FeedInfo, Item
from kinds.transit.vocabulary import FILTERS as FILTERS
from kinds.transit.vocabulary import KEEP_GONE as KEEP_GONE
from kinds.transit.vocabulary import MASS_DELETION_GUARD as MASS_DELETION_GUARD
from kinds.transit.vocabulary import Departure, departure_item

from ._gtfs_alerts import alert_item
from ._gtfs_static import Context, load_static, service_day_start

KIND = "transit"  # FILTERS, KEEP_GONE and MASS_DELETION_GUARD: the transit kind's, imported
TITLE = "GTFS-Realtime delays and alerts"
VOCABULARY = {"type": ("delay", "cancellation", "alert")}
PROTOBUF_TYPES = (
    "application/x-protobuf",
    "application/octet-stream",
    "application/protobuf",
    "application/vnd.google.protobuf",
    "application/x-google-protobuf",
    "binary/octet-stream",
)
ZIP_TYPES = (
    "application/zip",
    "application/x-zip-compressed",
    "application/x-zip",
    "application/octet-stream",
    "binary/octet-stream",
)
RT_PARTS = ("trip_updates", "alerts")  # keys of Payload.related holding realtime feeds

TRIP = rt.TripDescriptor
STOP = rt.TripUpdate.StopTimeUpdate


class Options(Schema):
    trip_updates_url = Url(load_default=None)
    alerts_url = Url(load_default=None)
    static_url = Url(load_default=None)
    min_delay = fields.Integer(load_default=5, validate=validate.Range(min=0, max=24 * 60))
    stale_after = Interval(minimum=0, maximum=86400, load_default=90)
    timezone = TimeZone(load_default=None)

    @validates_schema
    def _needs_a_feed(self, data, **kwargs):
        if not data.get("trip_updates_url") and not data.get("alerts_url"):
            raise ValidationError("set trip_updates_url, alerts_url or both", "trip_updates_url")


OPTIONS = Options


@dataclass(frozen=True)
class StopDelay:
    """What the realtime feed says about one stop of a trip (epoch seconds)."""

    stop_id: str
    scheduled: int | None
    predicted: int | None
    delay: int | None


class Source:
    def __init__(
        self,
        feed: FeedInfo,
        trip_updates_url=None,
        alerts_url=None,
        static_url=None,
        min_delay: int = 5,
        stale_after: int = 90,
        timezone: str | None = None,
    ):
        self.feed = feed
        self.trip_updates_url, self.alerts_url, self.static_url = trip_updates_url, alerts_url, static_url
        self.min_delay = min_delay
        self.stale_after = stale_after  # seconds beyond the polling interval; judged by the core
        self.timezone = timezone

    def fetch(self, http: Http) -> Payload:
        """Fetch the realtime feeds and the static zip into one Payload's `related`.

        Every request is conditional; a 304 reuses the remembered body (the static zip is then not even
        parsed again, see load_static). Unchanged realtime data is still judged by its age (data_age).
        """
        related: dict[str, Payload] = {}
        if self.static_url:
            related["static"] = http.get(self.static_url, expect=ZIP_TYPES, reuse=True)
        if self.trip_updates_url:
            related["trip_updates"] = http.get(self.trip_updates_url, expect=PROTOBUF_TYPES, reuse=True)
        if self.alerts_url:
            related["alerts"] = http.get(self.alerts_url, expect=PROTOBUF_TYPES, reuse=True)
        main = related.get("trip_updates") or related["alerts"]
        return replace(main, related=related)

    def data_age(self, payload: Payload) -> float | None:
        """Seconds the realtime data had aged when fetched (by its header timestamp), for the core."""
        return header_age(payload)

    def parse(self, payload: Payload) -> list[Item]:
        """Delay, cancellation and alert items; ParseError when a body is not a GTFS-RT FeedMessage."""
        messages = decode_feeds(payload)
        static = load_static(payload.related["static"].body) if "static" in payload.related else None
        zone = ZoneInfo(self.timezone or (static.timezone if static else None) or self.feed.timezone)
        items: dict[str, Item] = {}
        for message in messages:
            header = message.header.timestamp if message.header.HasField("timestamp") else None
            published = datetime.fromtimestamp(header, UTC) if header else payload.fetched_at
            context = Context(static, zone, header or None, published, self.feed.language)
            for entity in message.entity:
                item = self._entity_item(entity, context)
                if item is not None:
                    items[item.id] = item
        return sorted(items.values(), key=lambda i: i.key)

    def _entity_item(self, entity, context: Context) -> Item | None:
        if entity.is_deleted:
            return None
        if entity.HasField("trip_update"):
            return self._trip_item(entity.id, entity.trip_update, context)
        if entity.HasField("alert"):
            return alert_item(self.feed.id, entity.id, entity.alert, context)
        return None

    def _trip_item(self, entity_id: str, update, context: Context) -> Item | None:
        trip = update.trip
        relationship = trip.schedule_relationship
        if relationship == TRIP.DELETED:
            return None  # the spec asks consumers not to show deleted trips at all
        trip_id = trip.trip_id or entity_id
        schedule = context.static.schedule(trip.trip_id) if context.static else []
        day = service_day(trip, update, schedule, context)
        base = int(service_day_start(day, context.zone).timestamp())
        stops = stop_delays(update, schedule, base)
        info = trip_names(trip, schedule, stops, context)
        key = f"{trip_id}|{day:%Y%m%d}" + (f"|{trip.start_time}" if trip.start_time else "")
        if relationship == TRIP.CANCELED:
            first = stops[0] if stops else _scheduled_stop(schedule, 0, base)
            return self._item(f"cancellation|{key}", "cancellation", info, first, None, trip_id, day, context)
        worst = worst_remaining(stops, context.header)
        if worst is None and update.HasField("delay"):
            worst = _trip_level_delay(update.delay, schedule, base, context.header)
        if worst is None or worst.delay < self.min_delay * 60:
            return None
        return self._item(f"delay|{key}", "delay", info, worst, worst.delay, trip_id, day, context)

    def _item(self, key, kind, info, stop, delay, trip_id, day, context: Context) -> Item:
        line, route_id, direction = info
        stop_id = stop.stop_id if stop else None
        stop_name = context.stop_name(stop_id) if stop_id else None
        scheduled = stop.scheduled if stop else None
        at = datetime.fromtimestamp(scheduled, context.zone) if scheduled is not None else None
        departure = Departure(trip_id, line, route_id, direction, stop_id, stop_name, at, delay)
        return departure_item(
            self.feed,
            key,
            kind,
            departure,
            context.published,
            start_date=f"{day:%Y%m%d}",
            **context.header_data(),
            **context.stop_place(stop_id),
        )


def decode_feeds(payload: Payload) -> list:
    """The FeedMessages of a payload: its related realtime parts, else its own body."""
    parts = [payload.related[name] for name in RT_PARTS if name in payload.related]
    return [decode_feed(part.body) for part in parts or [payload]]


def decode_feed(body: bytes):
    """Decode one GTFS-RT FeedMessage; ParseError for anything else (HTML, JSON, garbage, empty)."""
    message = rt.FeedMessage()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise ParseError(f"not a GTFS-Realtime feed: {exc}") from exc
    if not message.HasField("header") or not message.header.gtfs_realtime_version:
        raise ParseError("not a GTFS-Realtime feed: no FeedHeader")
    return message


def header_age(payload: Payload) -> float | None:
    """Seconds between the oldest realtime header timestamp and the fetch; None when no header has one."""
    stamps = [m.header.timestamp for m in decode_feeds(payload) if m.header.timestamp]
    return payload.fetched_at.timestamp() - min(stamps) if stamps else None


def service_day(trip, update, schedule, context: Context) -> date:
    """The trip's service day: start_date, else the day putting a predicted time closest to the schedule."""
    if trip.start_date:
        try:
            return datetime.strptime(trip.start_date, "%Y%m%d").date()
        except ValueError as exc:
            raise ParseError(f"trip {trip.trip_id}: bad start_date {trip.start_date!r}") from exc
    reference = context.published.astimezone(context.zone).date()
    anchor = _first_timed_stop(update, schedule)
    if anchor is None:
        return reference  # without a time to compare, the header's local date is the best guess
    predicted, scheduled_seconds = anchor
    candidates = [reference + timedelta(days=offset) for offset in (-1, 0, 1)]
    return min(
        candidates,
        key=lambda d: abs(predicted - service_day_start(d, context.zone).timestamp() - scheduled_seconds),
    )


def _first_timed_stop(update, schedule) -> tuple[int, int] | None:
    by_sequence, by_stop = _schedule_index(schedule)
    for stu in update.stop_time_update:
        row = _match(stu, by_sequence, by_stop)
        for event, scheduled in ((stu.departure, 3), (stu.arrival, 2)):
            if row and event.time and row[scheduled] >= 0:
                return event.time - (event.delay if event.HasField("delay") else 0), row[scheduled]
    return None


def _schedule_index(schedule):
    by_sequence = {row[0]: row for row in schedule}
    by_stop: dict[str, tuple] = {}
    for row in schedule:
        by_stop.setdefault(row[1], row)
    return by_sequence, by_stop


def _match(stu, by_sequence, by_stop):
    if stu.HasField("stop_sequence"):
        return by_sequence.get(stu.stop_sequence)
    return by_stop.get(stu.stop_id)


def stop_delays(update, schedule, base: int) -> list[StopDelay]:
    """Per stop update: scheduled and predicted epoch and delay (departure preferred, as riders board)."""
    by_sequence, by_stop = _schedule_index(schedule)
    result = []
    for stu in update.stop_time_update:
        if stu.schedule_relationship in (STOP.SKIPPED, STOP.NO_DATA):
            continue
        row = _match(stu, by_sequence, by_stop)
        stop_id = stu.stop_id or (row[1] if row else "")
        event, column = (stu.departure, 3) if stu.HasField("departure") else (stu.arrival, 2)
        scheduled = base + row[column] if row and row[column] >= 0 else None
        if scheduled is None and event.scheduled_time:
            scheduled = event.scheduled_time
        delay = event.delay if event.HasField("delay") else None
        if delay is None and event.time and scheduled is not None:
            delay = event.time - scheduled
        predicted = event.time or (scheduled + delay if scheduled is not None and delay is not None else None)
        if scheduled is None and predicted is not None and delay is not None:
            scheduled = predicted - delay
        result.append(StopDelay(stop_id, scheduled, predicted, delay))
    return result


def worst_remaining(stops: list[StopDelay], now: int | None) -> StopDelay | None:
    """The first not-yet-passed stop with the largest known delay."""
    remaining = [
        s for s in stops if s.delay is not None and (now is None or s.predicted is None or s.predicted >= now)
    ]
    return max(remaining, key=lambda s: s.delay) if remaining else None


def _trip_level_delay(delay: int, schedule, base: int, now: int | None) -> StopDelay:
    # TripUpdate.delay applies to every stop without its own prediction: report the next scheduled stop
    for _, stop_id, _, departs in schedule:
        if departs >= 0 and (now is None or base + departs + delay >= now):
            return StopDelay(stop_id, base + departs, base + departs + delay, delay)
    return StopDelay("", None, None, delay)


def _scheduled_stop(schedule, index: int, base: int) -> StopDelay | None:
    if len(schedule) <= index:
        return None
    _, stop_id, _, departs = schedule[index]
    return StopDelay(stop_id, base + departs if departs >= 0 else None, None, None)


def trip_names(trip, schedule, stops, context: Context) -> tuple[str | None, str | None, str | None]:
    """(line label, route_id, direction) from the static feed, falling back to the realtime ids."""
    static_trip = context.static.trips.get(trip.trip_id) if context.static else None
    route_id = trip.route_id or (static_trip.route_id if static_trip else "") or None
    line = context.route_name(route_id)
    direction = static_trip.headsign if static_trip else ""
    last_stop = schedule[-1][1] if schedule else (stops[-1].stop_id if stops else "")
    return line, route_id, direction or (context.stop_name(last_stop) if last_stop else None)
