"""Waste collection dates from any RFC 5545 calendar (AbfallPlus/abfall.io exports, city websites)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.items import FeedInfo, Item
from feedserver.sanitize import fold
from kinds.waste.vocabulary import WasteOptions, WasteSource, by_day

KIND = "waste"
TITLE = "iCalendar waste calendar"
FILTERS = ("category", "area")
ACCEPTED_TYPES = (
    "text/calendar",
    "text/plain",
    "application/octet-stream",
    "application/ics",
    "text/x-vcalendar",
    "application/calendar",
)

WINDOW_BACK = timedelta(days=30)  # recurrences are expanded only inside this window around the fetch
WINDOW_AHEAD = timedelta(days=400)
MAX_OCCURRENCES = 1000  # per recurring event inside the window
MAX_RULE_STEPS = 200_000  # estimated iterations a rule may need before we refuse it as a bomb
PERIOD_DAYS = {"YEARLY": 365, "MONTHLY": 28, "WEEKLY": 7, "DAILY": 1}


class Options(WasteOptions):
    url = Url(required=True)


OPTIONS = Options


class Source(WasteSource):
    def __init__(self, feed: FeedInfo, url: str, **waste):
        super().__init__(feed, **waste)
        self.url = url

    def fetch(self, http: Http) -> Payload:
        """Download the calendar (conditional GET: a 304 means nothing changed)."""
        return http.get(self.url, conditional=True, expect=ACCEPTED_TYPES)

    def parse(self, payload: Payload) -> list[Item]:
        """One Item per collection day and waste type; raise ParseError on anything that is not a calendar."""
        calendar = parse_calendar(payload.body)
        zone = ZoneInfo(self.timezone)
        return by_day(self._item(event, zone) for event in occurrences(calendar, payload.fetched_at))

    def _item(self, event, zone: ZoneInfo) -> Item | None:
        label = str(event.get("SUMMARY", "")).strip()
        start = event.get("DTSTART")
        if not label or start is None:
            return None
        day = local_day(start.dt, zone)
        place = str(event.get("LOCATION", "")).strip() or None
        note = str(event.get("DESCRIPTION", ""))
        return self.pickup(f"{day.isoformat()}|{fold(label)}", label, day, note=note, at=place, place=place)


def parse_calendar(body: bytes) -> icalendar.Calendar:
    """Parse RFC 5545 bytes (CRLF or LF, BOM tolerated); ParseError unless it is a VCALENDAR."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t")
    if not text.upper().startswith("BEGIN:VCALENDAR"):
        raise ParseError("not an iCalendar document (no BEGIN:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise ParseError(f"invalid iCalendar data: {exc}") from exc
    if calendar.name != "VCALENDAR":
        raise ParseError(f"expected VCALENDAR, found {calendar.name}")
    return calendar


def occurrences(calendar: icalendar.Calendar, now: datetime):
    """Every single event, with recurring series expanded only inside the window around `now`."""
    recurring = {str(e.get("UID")) for e in calendar.walk("VEVENT") if e.get("RRULE") or e.get("RDATE")}
    for event in calendar.walk("VEVENT"):
        if str(event.get("UID")) not in recurring:
            yield event
    if not recurring:
        return
    series = icalendar.Calendar()
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE" or (
            component.name == "VEVENT"
            and str(component.get("UID")) in recurring
            and not _is_bomb(component, now)
        ):
            series.add_component(component)
    counts: dict[str, int] = {}
    start, end = (now - WINDOW_BACK).date(), (now + WINDOW_AHEAD).date()
    try:
        expanded = recurring_ical_events.of(series, skip_bad_series=True).between(start, end)
    except (ValueError, recurring_ical_events.InvalidCalendar) as exc:
        raise ParseError(f"cannot expand recurring events: {exc}") from exc
    for event in expanded:
        uid = str(event.get("UID"))
        counts[uid] = counts.get(uid, 0) + 1
        if counts[uid] <= MAX_OCCURRENCES:
            yield event


def _is_bomb(event, now: datetime) -> bool:
    """True for rules whose expansion up to the window's end would take absurdly many steps."""
    rule = event.get("RRULE")
    if not rule:
        return False
    freq = (rule.get("FREQ") or [""])[0]
    if freq not in PERIOD_DAYS:
        return True  # sub-daily rules make no sense for collection days and explode in size
    start = event.get("DTSTART")
    first = local_day(start.dt, ZoneInfo("UTC")) if start else now.date()
    interval = int((rule.get("INTERVAL") or [1])[0])
    span_days = max(0, ((now + WINDOW_AHEAD).date() - first).days)
    steps = span_days / (PERIOD_DAYS[freq] * max(interval, 1))
    for part in ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"):
        steps *= max(1, len(rule.get(part) or []))
    return steps > MAX_RULE_STEPS


def local_day(value: date | datetime, zone: ZoneInfo) -> date:
    """The calendar day of a DTSTART: dates as they are, floating times as local, aware times converted."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.date()
        return value.astimezone(zone).date()
    return value
