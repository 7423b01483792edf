"""GTFS-Realtime service alerts as items: the header in the feed's language, valid over the active periods."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from google.transit import gtfs_realtime_pb2 as rt

from feedserver.errors import ParseError
from feedserver.items import Item, make_item
from kinds.transit.vocabulary import line_label

from ._gtfs_static import Context


def alert_item(feed_id: str, entity_id: str, alert, context: Context) -> Item:
    """One item per service alert, valid over its active periods."""
    if not entity_id:
        raise ParseError("alert entity without an id")
    header = translated(alert.header_text, context.language)
    routes, stops, trips = _informed(alert)
    lines = [context.route_name(r) for r in routes]
    effect = rt.Alert.Effect.Name(alert.effect) if alert.HasField("effect") else None
    cause = rt.Alert.Cause.Name(alert.cause) if alert.HasField("cause") else None
    title = header or (effect or "ALERT").replace("_", " ").capitalize()
    starts, ends = _validity(alert.active_period, context.zone)
    return make_item(
        feed_id,
        f"alert|{entity_id}",
        title=f"{line_label(lines[0], context.language)}: {title}" if len(lines) == 1 else title,
        summary=translated(alert.description_text, context.language),
        url=translated(alert.url, context.language) or None,
        published=context.published,
        updated=context.published,
        category="alert",
        area=", ".join(lines) or None,
        starts=starts,
        ends=ends,
        data={
            "type": "alert",
            "line": ", ".join(lines) or None,
            "route_id": ", ".join(routes) or None,
            "stop_id": ", ".join(stops) or None,
            "stop_name": ", ".join(context.stop_name(s) for s in stops) or None,
            "trip_id": ", ".join(trips) or None,
            "delay_minutes": None,
            "cause": cause,
            "effect": effect,
            "severity": rt.Alert.SeverityLevel.Name(alert.severity_level)
            if alert.HasField("severity_level")
            else None,
            **context.header_data(),
        },
    )


def _informed(alert) -> tuple[list[str], list[str], list[str]]:
    routes, stops, trips = {}, {}, {}
    for entity in alert.informed_entity:
        for found, value in (
            (routes, entity.route_id or entity.trip.route_id),
            (stops, entity.stop_id),
            (trips, entity.trip.trip_id),
        ):
            if value:
                found[value] = None  # dicts keep first-seen order without duplicates
    return list(routes), list(stops), list(trips)


def _validity(periods, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Earliest start and latest end of the active periods; None where a period is open on that side."""
    starts = [p.start if p.HasField("start") else 0 for p in periods]
    ends = [p.end if p.HasField("end") else 0 for p in periods]
    start = None if not starts or 0 in starts else datetime.fromtimestamp(min(starts), zone)
    end = None if not ends or 0 in ends else datetime.fromtimestamp(max(ends), zone)
    return start, end


def translated(text, language: str) -> str:
    """The translation for the feed's language, else an untagged one, else the first."""
    options = list(text.translation)
    for wanted in (lambda t: t.language.lower().split("-")[0] == language, lambda t: not t.language):
        for translation in options:
            if wanted(translation):
                return translation.text.strip()
    return options[0].text.strip() if options else ""
