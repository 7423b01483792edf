"""The widgets' words, waste-category colours and date formats, in German and English.

static/widget.js carries a copy of TEXT and CATEGORY_COLOURS (tests/test_widgets.py keeps the two equal),
so the iframe page and the script embed say and look the same.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from kinds.air.vocabulary import NAMES as POLLUTANTS

TEXT = {
    "de": {
        "latest": "Neueste Meldungen",
        "pickups": "Nächste Abholtermine",
        "air": "Aktuelle Luftqualität",
        "delays": "Aktuelle Verspätungen",
        "alerts": "Warnungen",
        "crisis": "Wichtige Mitteilung",
        "none": "Derzeit keine Meldungen.",
        "no_pickups": "Keine kommenden Abholtermine.",
        "no_readings": "Keine aktuellen Messwerte.",
        "no_delays": "Derzeit keine Verspätungen.",
        "no_alerts": "Derzeit keine Warnungen.",
        "line": "Linie",
        "stop": "Haltestelle",
        "scheduled": "Plan",
        "delay": "Verspätung",
        "cancelled": "fällt aus",
        "until": "bis",
        "minutes": "+{n} min",
        "level_none": "unter den Schwellenwerten",
        "level_info": "Informationsschwelle überschritten",
        "level_alert": "Alarmschwelle überschritten",
        "level_unknown": "kein Schwellenwert festgelegt",
        "stale": "veraltet",
        "measured": "gemessen",
        "chart": "Verlauf der letzten 48 Stunden",
        "chart_desc": "{name} an {station}: {count} Stundenwerte, niedrigster {low}, höchster {high}, "
        "zuletzt {last} {unit} um {time}.",
        "table": "Messwerte als Tabelle",
        "hour": "Stunde bis",
        "value": "Wert",
        "updated": "Stand",
        "source": "Quelle",
        "more": "Alle Meldungen",
        "new_tab": "(öffnet in neuem Tab)",
        "error": "Die Daten konnten nicht geladen werden.",
        "pending": "Noch keine Daten abgerufen.",
        "loading": "Wird geladen …",
    },
    "en": {
        "latest": "Latest messages",
        "pickups": "Next collections",
        "air": "Current air quality",
        "delays": "Current delays",
        "alerts": "Warnings",
        "crisis": "Important notice",
        "none": "No messages at the moment.",
        "no_pickups": "No upcoming collections.",
        "no_readings": "No recent readings.",
        "no_delays": "No delays at the moment.",
        "no_alerts": "No warnings at the moment.",
        "line": "Line",
        "stop": "Stop",
        "scheduled": "Scheduled",
        "delay": "Delay",
        "cancelled": "cancelled",
        "until": "until",
        "minutes": "+{n} min",
        "level_none": "below the thresholds",
        "level_info": "information threshold exceeded",
        "level_alert": "alert threshold exceeded",
        "level_unknown": "no threshold set",
        "stale": "out of date",
        "measured": "measured",
        "chart": "The last 48 hours",
        "chart_desc": "{name} at {station}: {count} hourly values, lowest {low}, highest {high}, "
        "latest {last} {unit} at {time}.",
        "table": "Readings as a table",
        "hour": "Hour ending",
        "value": "Value",
        "updated": "As of",
        "source": "Source",
        "more": "All messages",
        "new_tab": "(opens in a new tab)",
        "error": "The data could not be loaded.",
        "pending": "No data fetched yet.",
        "loading": "Loading …",
    },
}

CATEGORY_LABELS = {
    "de": {
        "organic": "Bioabfall",
        "paper": "Papier",
        "packaging": "Verpackungen",
        "residual": "Restmüll",
        "glass": "Glas",
        "garden": "Grünschnitt",
        "bulky": "Sperrmüll",
        "hazardous": "Schadstoffe",
        "christmas-tree": "Weihnachtsbaum",
        "other": "Sonstiges",
    },
    "en": {
        "organic": "Organic",
        "paper": "Paper",
        "packaging": "Packaging",
        "residual": "Residual waste",
        "glass": "Glass",
        "garden": "Garden waste",
        "bulky": "Bulky waste",
        "hazardous": "Hazardous waste",
        "christmas-tree": "Christmas tree",
        "other": "Other",
    },
}

# (background, text) of each waste category's label chip: the bin colours people know, every pair at
# least 4.5:1 (tests check it) and always with the category's name, never the colour alone.
CATEGORY_COLOURS = {
    "organic": ("#6b4423", "#ffffff"),
    "paper": ("#1f4e9a", "#ffffff"),
    "packaging": ("#ffd500", "#1a1a1a"),
    "residual": ("#3b3b3b", "#ffffff"),
    "glass": ("#0e6a6a", "#ffffff"),
    "garden": ("#2e6b1f", "#ffffff"),
    "bulky": ("#6a3d9a", "#ffffff"),
    "hazardous": ("#b3261e", "#ffffff"),
    "christmas-tree": ("#14532d", "#ffffff"),
    "other": ("#5c5c5c", "#ffffff"),
}

WEEKDAYS = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def words(lang: str) -> dict[str, str]:
    """The widget's words in this language."""
    return TEXT[lang]


def category_label(category: str | None, lang: str, provider_label: str | None = None) -> str:
    """A waste category's name; the provider's own name for categories outside the vocabulary."""
    known = CATEGORY_LABELS[lang].get(category or "")
    return known or provider_label or category or CATEGORY_LABELS[lang]["other"]


def category_class(category: str | None) -> str:
    """The CSS class suffix of a category chip (unknown categories look like 'other')."""
    return category if category in CATEGORY_COLOURS else "other"


def pollutant(component: str, lang: str) -> str:
    """A pollutant's name (Ozon, Nitrogen dioxide ...)."""
    return POLLUTANTS[lang].get(component, component.upper())


def day_text(value: date, lang: str) -> str:
    """A day as 'Mo., 23.11.' or 'Mon 23/11' (what widget.js prints with Intl for de-DE / en-GB)."""
    weekday = WEEKDAYS[lang][value.weekday()]
    if lang == "de":
        return f"{weekday}., {value:%d.%m.}"
    return f"{weekday} {value:%d/%m}"


def moment_text(value: datetime, lang: str, zone: ZoneInfo) -> str:
    """A moment as day and clock time in the feed's time zone: 'Mo., 23.11., 14:05'."""
    local = value.astimezone(zone)
    return f"{day_text(local.date(), lang)}, {local:%H:%M}"


def clock_text(value: datetime, zone: ZoneInfo) -> str:
    """Clock time in the feed's time zone: '14:05'."""
    return f"{value.astimezone(zone):%H:%M}"


def number_text(value: float, lang: str) -> str:
    """A measured value with at most one decimal, with a decimal comma in German."""
    text = f"{value:.1f}".removesuffix(".0")
    return text.replace(".", ",") if lang == "de" else text
