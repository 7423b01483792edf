"""The catalogue's embed builder: a GET form (no script needed) answered with both snippets and a preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from html import escape
from urllib.parse import parse_qsl, urlencode

from flask import url_for

from ...config import FeedSettings
from ...i18n import N_, say_all
from ...registry import load_kind
from ...runtime import Runtime
from .model import (
    LANGUAGES,
    MAX_ITEMS,
    MODES,
    THEMES,
    VIEWS,
    OptionError,
    WidgetOptions,
    parse_options,
    selection_of,
    view_of,
)

FIELDS = ("w_feed", "w_lang", "w_items", "w_mode", "w_theme", "w_view", "w_filters")
MAX_FILTER_TEXT = 300
LATEST_HEIGHT = 340  # iframe heights in CSS pixels, compact mode: the latest messages; a kind says its own
DEFAULT_HEIGHT = 300
FULL_EXTRA = 160
WORDS = {
    "heading": N_("Embed a widget"),
    "intro": N_(
        "Show a feed on your own website: no cookies, no tracking, accessible. Choose a feed and its look, "
        "check the preview and copy one of the two snippets."
    ),
    "feed": N_("Feed"),
    "choose": N_("Please choose"),
    "lang": N_("Language"),
    "items": N_("Number of entries"),
    "mode": N_("Density"),
    "theme": N_("Colour scheme"),
    "view": N_("View"),
    "filters": N_("Filters (as in the feed URL, e.g. category=paper,organic)"),
    "show": N_("Show preview and code"),
    "preview": N_("Preview"),
    "iframe": N_("Embed with an iframe (works without JavaScript)"),
    "script": N_("Embed with a script (web component, colours adjustable with CSS)"),
    "copy": N_("Select the code and copy it (Ctrl+C or ⌘+C)."),
    "unknown_feed": N_("There is no such feed."),
}
# The names of the options' values in the form's choices.
VALUES = {
    "de": N_("German"),
    "en": N_("English"),
    "compact": N_("compact"),
    "full": N_("full"),
    "auto": N_("automatic"),
    "light": N_("light"),
    "dark": N_("dark"),
    "latest": N_("latest messages"),
}


@cache
def builder_words(lang: str) -> dict:
    """The builder's words in this language (the values' names under "values")."""
    return say_all(lang, WORDS) | {"values": say_all(lang, VALUES)}


@dataclass(frozen=True)
class Embed:
    """A widget the builder made: its preview address and the two snippets to copy."""

    feed: FeedSettings
    options: WidgetOptions
    preview_url: str
    iframe_snippet: str
    script_snippet: str
    height: int


@dataclass(frozen=True)
class Builder:
    """The builder's form: choices, the values entered, and the embed or the reason there is none."""

    feeds: list[FeedSettings]
    values: dict[str, str]
    embed: Embed | None
    error: str | None
    choices: dict[str, tuple[str, ...]]
    t: dict
    max_items: int = MAX_ITEMS
    error_lang: str | None = None  # "en" for an option's error, worded for programs (the widget API's)


def builder(rt: Runtime, args: Mapping[str, str], page_lang: str) -> Builder:
    """The builder for this request: empty until a feed is chosen, then an embed or an error."""
    values = {name: str(args.get(name, ""))[:MAX_FILTER_TEXT] for name in FIELDS}
    choices = {"lang": LANGUAGES, "mode": MODES, "theme": THEMES, "view": VIEWS}
    feeds = list(rt.settings.feeds.values())
    feed = rt.settings.feeds.get(values["w_feed"])
    embed, error, error_lang = None, None, None
    if values["w_feed"] and feed is None:
        error = builder_words(page_lang)["unknown_feed"]
    elif feed is not None:
        try:
            embed = _embed(rt, feed, values, page_lang)
        except OptionError as exc:
            error, error_lang = f"{exc.detail} {', '.join(exc.valid)}".strip(), "en"
    return Builder(feeds, values, embed, error, choices, builder_words(page_lang), error_lang=error_lang)


def _embed(rt: Runtime, feed: FeedSettings, values: Mapping[str, str], page_lang: str) -> Embed:
    raw = {
        "lang": values["w_lang"] or page_lang,
        "items": values["w_items"] or "5",
        "mode": values["w_mode"] or "compact",
        "theme": values["w_theme"] or "auto",
        "view": values["w_view"] or "auto",
    }
    filters = dict(parse_qsl(values["w_filters"].strip().lstrip("?"), keep_blank_values=True))
    if any(name in raw for name in filters):
        raise OptionError(None, "Options belong in their own fields, not among the filters.")
    options = parse_options({k: [v] for k, v in (raw | filters).items()}, feed)
    selection = selection_of(feed, options.filters, rt.store.current_items(feed.id))
    options = WidgetOptions(**(vars(options) | {"filters": canonical(selection.criteria)}))
    base = rt.settings.server.base_url.rstrip("/")
    query = urlencode(options.query(), safe=",")
    height = _height(feed, options) + (FULL_EXTRA if options.mode == "full" else 0)
    return Embed(
        feed=feed,
        options=options,
        preview_url=f"{url_for('widgets.widget_page', feed_id=feed.id)}?{query}",
        iframe_snippet=iframe_snippet(f"{base}/widgets/{feed.id}?{query}", feed.title, height),
        script_snippet=script_snippet(base, feed, options),
        height=height,
    )


def _height(feed: FeedSettings, options: WidgetOptions) -> int:
    """The iframe's height in compact mode: that of the latest messages or of the kind's view."""
    if view_of(feed, options) == "latest":
        return LATEST_HEIGHT
    return load_kind(feed.kind).widget_height or DEFAULT_HEIGHT


def canonical(criteria) -> dict[str, str]:
    """Parsed filters written back canonically (aliases resolved), so the script embed can match them."""
    written = {}
    for name, value in criteria:
        if isinstance(value, frozenset):
            written[name] = ",".join(sorted(value))
        else:
            written[name] = f"{value:g}"
    return written


def iframe_snippet(src: str, title: str, height: int) -> str:
    """The iframe embed: sandboxed without scripts, no referrer, lazy."""
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" height="{height}" '
        'style="width:100%;border:0;max-width:40em" loading="lazy" referrerpolicy="no-referrer" '
        'sandbox="allow-popups allow-popups-to-escape-sandbox"></iframe>'
    )


def script_snippet(base: str, feed: FeedSettings, options: WidgetOptions) -> str:
    """The script embed: widget.js once per page, then any number of <feedserver-widget> elements."""
    attributes = {
        "feed": feed.id,
        "lang": options.lang,
        "items": str(options.items),
        "mode": options.mode,
        "theme": options.theme,
        "tz": feed.timezone,
    }
    if options.view != "auto":
        attributes["view"] = options.view
    if options.filters:
        attributes["filter"] = urlencode(sorted(options.filters.items()), safe=",")
    written = " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items())
    return (
        f'<script src="{escape(base)}/widget.js" defer referrerpolicy="no-referrer"></script>\n'
        f"<feedserver-widget {written}></feedserver-widget>"
    )
