"""The widgets' own words in German and English; each kind adds those of its view (Kind.widget_texts).

widget.js gets the same words from feedserver/web/widgets/script.py, so the iframe page and the script embed
say the same.
"""

from __future__ import annotations

from collections.abc import Iterable

TEXT = {
    "de": {
        "latest": "Neueste Meldungen",
        "crisis": "Wichtige Mitteilung",
        "none": "Derzeit keine Meldungen.",
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
        "crisis": "Important notice",
        "none": "No messages at the moment.",
        "updated": "As of",
        "source": "Source",
        "more": "All messages",
        "new_tab": "(opens in a new tab)",
        "error": "The data could not be loaded.",
        "pending": "No data fetched yet.",
        "loading": "Loading …",
    },
}


def words(lang: str, kinds: Iterable = ()) -> dict[str, str]:
    """The widget's words in this language, with those of the views of `kinds`."""
    merged = dict(TEXT[lang])
    for kind in kinds:
        merged.update(kind.widget_texts.get(lang, {}))
    return merged
