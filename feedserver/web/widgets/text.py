"""The widgets' own words (English msgids, German in the gettext catalog); each kind adds those of its view
(Kind.widget_texts, looked up in the kind's own catalog first).

widget.js gets the same words from feedserver/web/widgets/assets.py, so the iframe page and the script embed
say the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...i18n import N_, say_all

WORDS = {
    "latest": N_("Latest messages"),
    "crisis": N_("Important notice"),
    "none": N_("No messages at the moment."),
    "updated": N_("As of"),
    "source": N_("Source"),
    "more": N_("All messages"),
    "new_tab": N_("(opens in a new tab)"),
    "error": N_("The data could not be loaded."),
    "pending": N_("No data fetched yet."),
    "loading": N_("Loading …"),
}


def words(lang: str, kinds: Iterable = ()) -> dict[str, str]:
    """The widget's words in this language, with those of the views of `kinds`."""
    merged = say_all(lang, WORDS)
    for kind in kinds:
        merged.update(say_all(lang, kind.widget_texts, kind.translations))
    return merged
