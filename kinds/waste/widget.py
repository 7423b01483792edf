"""The waste view of the widget: its words, the categories' names and the colours of their chips."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

TEXTS = {
    "de": {"pickups": "Nächste Abholtermine", "no_pickups": "Keine kommenden Abholtermine."},
    "en": {"pickups": "Next collections", "no_pickups": "No upcoming collections."},
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


def category_label(category: str | None, lang: str, provider_label: str | None = None) -> str:
    """A waste category's name; the provider's own name for categories outside the vocabulary."""
    known = CATEGORY_LABELS[lang].get(category or "")
    return known or provider_label or category or CATEGORY_LABELS[lang]["other"]


def category_class(category: str | None) -> str:
    """The CSS class suffix of a category chip (unknown categories look like 'other')."""
    return category if category in CATEGORY_COLOURS else "other"


def widget_context(data: Mapping, lang: str, zone: ZoneInfo) -> dict:
    """The template's helpers for the category chips."""
    return {
        "category_label": lambda c, label=None: category_label(c, lang, label),
        "category_class": category_class,
    }
