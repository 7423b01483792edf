"""Days, times and numbers as the widgets print them (iframe page, widget.js and the kinds alike)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import i18n
from .i18n import N_

# German names of the zones' abbreviations (MEZ for CET ...); English keeps the tz database's. Pages, widgets
# and widget.js (which is handed this table) all name a zone through zone_abbreviation's rule.
GERMAN_ZONES = {"CET": "MEZ", "CEST": "MESZ", "WET": "WEZ", "WEST": "WESZ", "EET": "OEZ", "EEST": "OESZ"}
# TRANSLATORS: a CLDR date pattern (EEE short weekday, dd day, MM month), e.g. Mon 23/11
DAY = N_("EEE dd/MM")
# The weekdays as short words of their own, Monday first (widget.js's days, the waste kind's moved pickups).
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def day_text(value: date, lang: str) -> str:
    """A day as 'Mo., 23.11.' or 'Mon 23/11' (what widget.js prints with Intl for de-DE / en-GB)."""
    return i18n.day_text(value, lang, DAY)


def zone_abbreviation(local: datetime, lang: str) -> str:
    """The abbreviation of a local time's zone in the language: MEZ/MESZ in German, CET/CEST in English."""
    abbreviation = local.tzname() or ""
    return GERMAN_ZONES.get(abbreviation, abbreviation) if lang == "de" else abbreviation


def moment_text(value: datetime, lang: str, zone: ZoneInfo) -> str:
    """A moment as day, clock time and zone in the feed's time zone: 'Mo., 23.11., 14:05 MEZ'."""
    local = value.astimezone(zone)
    return f"{day_text(local.date(), lang)}, {local:%H:%M} {zone_abbreviation(local, lang)}".strip()


def clock_text(value: datetime, zone: ZoneInfo) -> str:
    """Clock time in the feed's time zone: '14:05'."""
    return f"{value.astimezone(zone):%H:%M}"


def number_text(value: float, lang: str) -> str:
    """A measured value with at most one decimal, with a decimal comma in German."""
    text = f"{value:.1f}".removesuffix(".0")
    return text.replace(".", ",") if lang == "de" else text
