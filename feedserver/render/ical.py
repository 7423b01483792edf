"""iCalendar output (RFC 5545 and RFC 7986): every dated item as a VEVENT a calendar app can subscribe to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from feedserver.i18n import N_, known, say
from feedserver.items import Item
from feedserver.render.meta import FeedMeta

MIN_REFRESH = timedelta(hours=1)  # calendar apps poll rarely; asking them for more often is pointless
DEFAULT_DURATION = timedelta(hours=1)  # timed items without an end
UID_DOMAIN = "feedserver"
ATTRIBUTION = N_("Source: {attribution}")
LICENCE = N_("Licence: {licence}")

# C0 and C1 control characters except tab and newline: RFC 5545 TEXT cannot carry them, and some apps choke.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# URIs are not escaped by the library, so any control character or line break would break the line structure.
_URI_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def render_ical(meta: FeedMeta, items: Sequence[Item], *, alarm: time | None = None) -> bytes:
    """The feed as iCalendar bytes; items without a start are left out, the same data gives the same bytes."""
    zone = ZoneInfo(meta.timezone)
    dated = [item for item in items if item.starts is not None]
    dated.sort(key=lambda item: (start_instant(item, zone), event_uid(item)))
    calendar = calendar_header(meta)
    calendar.add_component(timezone_definition(meta, zone, dated))
    for item in dated:
        calendar.add_component(build_event(item, meta, zone, alarm))
    return calendar.to_ical()


def calendar_header(meta: FeedMeta) -> icalendar.Calendar:
    """The VCALENDAR with its RFC 5545 and RFC 7986 properties and the de-facto X-WR-* ones."""
    refresh = max(timedelta(seconds=meta.ttl_seconds), MIN_REFRESH)
    description = "\n\n".join(part for part in (clean_text(meta.description), credit(meta)) if part)
    calendar = icalendar.Calendar()
    calendar.add("PRODID", f"-//feedserver//{clean_text(meta.id)}//{meta.language.upper()}")
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    # The library's calendar_name/description setters leave X-WR-* unescaped, so add them as TEXT explicitly.
    calendar.add("NAME", clean_text(meta.title))
    calendar.add("X-WR-CALNAME", icalendar.vText(clean_text(meta.title)))
    if description:
        calendar.add("DESCRIPTION", description)
        calendar.add("X-WR-CALDESC", icalendar.vText(description))
    calendar.add("X-WR-TIMEZONE", meta.timezone)
    calendar.add("REFRESH-INTERVAL", icalendar.vDuration(refresh), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(refresh))
    calendar.uid = f"{clean_text(meta.id)}@{UID_DOMAIN}"
    calendar.last_modified = meta.updated.astimezone(UTC)
    calendar.source = clean_uri(meta.self_url)
    if meta.home_url:
        calendar.url = clean_uri(meta.home_url)
    return calendar


def timezone_definition(meta: FeedMeta, zone: ZoneInfo, items: Sequence[Item]) -> icalendar.Timezone:
    """A VTIMEZONE for the feed's zone with transitions only for the years the items span."""
    years = [start_instant(i, zone).year for i in items] + [end_instant(i, zone).year for i in items]
    first, last = (min(years), max(years)) if years else (meta.updated.year, meta.updated.year)
    return icalendar.Timezone.from_tzinfo(
        zone, tzid=meta.timezone, first_date=date(first, 1, 1), last_date=date(last + 1, 1, 1)
    )


def build_event(item: Item, meta: FeedMeta, zone: ZoneInfo, alarm: time | None) -> icalendar.Event:
    """One VEVENT for a dated item."""
    start, end = event_span(item, zone)
    cancelled = bool(item.data.get("cancelled"))
    place = item.data.get("place") or item.area
    description = "\n\n".join(part for part in (clean_text(item.summary), credit(meta)) if part)
    event = icalendar.Event.new(
        uid=event_uid(item),
        sequence=event_sequence(item),
        stamp=(item.updated or item.published).astimezone(UTC),  # not the render time: same data, same bytes
        start=start,
        end=end,
        summary=clean_text(str(item.data.get("label") or item.title)),
        description=description or None,
        categories=[clean_text(str(item.category))] if item.category else (),
        location=clean_text(str(place)) if place else None,
        url=clean_uri(item.url) if item.url else None,
        transparency="TRANSPARENT" if item.all_day else None,
        status="CANCELLED" if cancelled else None,
    )
    if alarm is not None and not cancelled:
        event.add_component(display_alarm(clean_text(item.title), reminder_trigger(item, zone, alarm)))
    return event


def display_alarm(text: str, trigger: timedelta | datetime) -> icalendar.Alarm:
    """A DISPLAY VALARM; an absolute trigger is marked VALUE=DATE-TIME, which the library leaves out."""
    alarm = icalendar.Alarm.new_display(text, trigger)
    if isinstance(trigger, datetime):
        alarm["TRIGGER"].params["VALUE"] = "DATE-TIME"
    return alarm


def event_span(item: Item, zone: ZoneInfo) -> tuple[date, date] | tuple[datetime, datetime]:
    """DTSTART and DTEND: whole days for all-day items, local times in the feed's zone otherwise."""
    if item.all_day:
        # An all-day `ends` is read as the last day of the event, so DTEND (exclusive) is the day after it.
        last = item.ends if type(item.ends) is date and item.ends > item.starts else item.starts
        return item.starts, last + timedelta(days=1)
    start = item.starts.astimezone(zone)
    if isinstance(item.ends, datetime) and item.ends > item.starts:
        return start, item.ends.astimezone(zone)
    # Add the hour in UTC so a start just before a DST change does not end at a local time that never exists.
    return start, (item.starts.astimezone(UTC) + DEFAULT_DURATION).astimezone(zone)


def start_instant(item: Item, zone: ZoneInfo) -> datetime:
    """The item's start as an aware datetime (local midnight for all-day items), for sorting."""
    if item.all_day:
        return datetime.combine(item.starts, time(), tzinfo=zone)
    return item.starts.astimezone(UTC)


def end_instant(item: Item, zone: ZoneInfo) -> datetime:
    """The item's end as an aware datetime, for sizing the VTIMEZONE."""
    end = event_span(item, zone)[1]
    return end if isinstance(end, datetime) else datetime.combine(end, time(), tzinfo=zone)


def event_uid(item: Item) -> str:
    """The VEVENT's UID: the upstream's own UID when the source kept it, else one derived from the item id."""
    upstream = item.data.get("uid")
    return clean_text(str(upstream)) if upstream else f"{item.id}@{UID_DOMAIN}"


def event_sequence(item: Item) -> int:
    """The revision counter calendar apps use to replace an event; 0 when the source has none or nonsense."""
    try:
        return max(0, int(item.data.get("sequence", 0)))
    except (TypeError, ValueError):
        return 0


def reminder_trigger(item: Item, zone: ZoneInfo, at: time) -> timedelta | datetime:
    """When the reminder fires: `at` local time on the day before the item, relative to its start."""
    at = at.replace(tzinfo=None, microsecond=0)
    if item.all_day:
        # DTSTART is a floating midnight, so plain wall-clock arithmetic is exact here.
        return datetime.combine(item.starts - timedelta(days=1), at) - datetime.combine(item.starts, time())
    local_start = item.starts.astimezone(zone)
    reminder = datetime.combine(local_start.date() - timedelta(days=1), at, tzinfo=zone)
    # RFC 5545 durations count days nominally (same local time) but hours exactly, so step back whole days
    # on the wall clock and measure the rest in real time; this stays right across a DST change.
    days = 1 if local_start.time() >= at else 0
    anchor = datetime.combine(local_start.date() - timedelta(days=days), local_start.timetz())
    rest = anchor.astimezone(UTC) - reminder.astimezone(UTC)
    if timedelta(0) <= rest < timedelta(days=1):
        return -(timedelta(days=days) + rest)
    return reminder.astimezone(UTC)  # no single duration names this instant; an absolute trigger does


def credit(meta: FeedMeta) -> str:
    """The attribution and licence line the data licence asks for, in the feed's language."""
    language = known(meta.language)
    parts = []
    if meta.attribution:
        parts.append(say(language, ATTRIBUTION).format(attribution=clean_text(meta.attribution)))
    if meta.licence:
        licence = clean_text(meta.licence)
        if meta.licence_url:
            licence = f"{licence} ({clean_uri(meta.licence_url)})"
        parts.append(say(language, LICENCE).format(licence=licence))
    return ", ".join(parts)


def clean_text(text: str) -> str:
    """Text with line breaks normalised to \\n and control characters other than tab and newline removed."""
    return _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def clean_uri(uri: str) -> str:
    """A URI without control characters or line breaks, which the library would write out unescaped."""
    return _URI_UNSAFE.sub("", uri).strip()
