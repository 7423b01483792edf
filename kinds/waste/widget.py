"""The waste view of the widget: its words, the categories' names and the colours of their chips."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from feedserver.i18n import N_, NC_, say

TEXTS = {"pickups": N_("Next collections"), "no_pickups": N_("No upcoming collections.")}

# The chips' short names ("Organic"); the pages name the categories as the vocabulary does ("Organic waste").
CATEGORY_LABELS = {
    "organic": N_("Organic"),
    "paper": N_("Paper"),
    "packaging": N_("Packaging"),
    "residual": N_("Residual waste"),
    "glass": N_("Glass"),
    "garden": NC_("waste chip", "Garden waste"),
    "bulky": N_("Bulky waste"),
    "hazardous": N_("Hazardous waste"),
    "christmas-tree": N_("Christmas tree"),
    "other": NC_("waste category", "Other"),
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
    known = CATEGORY_LABELS.get(category or "")
    if known:
        return say(lang, known)
    return provider_label or category or say(lang, CATEGORY_LABELS["other"])


def category_class(category: str | None) -> str:
    """The CSS class suffix of a category chip (unknown categories look like 'other')."""
    return category if category in CATEGORY_COLOURS else "other"


def widget_context(data: Mapping, lang: str, zone: ZoneInfo) -> dict:
    """The template's helpers for the category chips."""
    return {
        "category_label": lambda c, label=None: category_label(c, lang, label),
        "category_class": category_class,
    }
