"""What a widget shows: its options from the query string, and the feed's data narrowed by its filters.

The iframe page and the chart read this directly; widget.js gets the same data from the JSON API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ...config import FeedSettings
from ...filters import FilterError, Selection, parse_selection
from ...items import READING, Item, in_language
from ...registry import load_kind
from ...renditions import accepted_filters, has_expired
from ...runtime import Runtime
from ..api.kinds import kind_data

LANGUAGES = ("de", "en")
MODES = ("compact", "full")
THEMES = ("auto", "light", "dark")
VIEWS = ("auto", "latest")
MAX_ITEMS = 20
DEFAULT_ITEMS = 5
OPTION_NAMES = ("lang", "items", "mode", "theme", "view")


class OptionError(ValueError):
    """A widget option or filter the server refuses; `parameter` is a known name or None."""

    def __init__(self, parameter: str | None, detail: str, valid: tuple[str, ...] = ()):
        super().__init__(detail)
        self.parameter, self.detail, self.valid = parameter, detail, valid


@dataclass(frozen=True)
class WidgetOptions:
    """How a widget looks: language, number of entries, density, colour theme, view and feed filters."""

    lang: str
    items: int = DEFAULT_ITEMS
    mode: str = "compact"
    theme: str = "auto"
    view: str = "auto"
    filters: Mapping[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """The options as query parameters (filters last), for links to the page and its charts."""
        return {
            "lang": self.lang,
            "items": str(self.items),
            "mode": self.mode,
            "theme": self.theme,
            "view": self.view,
            **dict(sorted(self.filters.items())),
        }


@dataclass
class WidgetData:
    """Everything one widget renders, already narrowed by its filters and limited to its size."""

    feed: FeedSettings
    options: WidgetOptions
    view: str
    zone: ZoneInfo
    messages: list[Item]
    data: dict  # the kind's current data (Kind.current_data), each list cut to the widget's size
    crisis: list[Item]
    valid_until: datetime | None


def parse_options(args: Mapping[str, list[str]], feed: FeedSettings) -> WidgetOptions:
    """Options from the query string (each at most once); every other parameter is a feed filter."""
    single = {}
    for name, values in args.items():
        if name in OPTION_NAMES and len(values) != 1:
            raise OptionError(name, f"{name} may be given once.")
        single[name] = ",".join(values)
    lang = _choice(single, "lang", LANGUAGES, feed.language if feed.language in LANGUAGES else "de")
    return WidgetOptions(
        lang=lang,
        items=_count(single.get("items")),
        mode=_choice(single, "mode", MODES, "compact"),
        theme=_choice(single, "theme", THEMES, "auto"),
        view=_choice(single, "view", VIEWS, "auto"),
        filters={k: v for k, v in single.items() if k not in OPTION_NAMES},
    )


def _choice(values: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    chosen = values.get(name, default)
    if chosen not in allowed:
        raise OptionError(name, f"{name} must be one of: {', '.join(allowed)}.", allowed)
    return chosen


def _count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_ITEMS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ITEMS:
        raise OptionError("items", f"items must be a whole number from 1 to {MAX_ITEMS}.")
    return int(raw)


def selection_of(feed: FeedSettings, filters: Mapping[str, str], items: list[Item]) -> Selection:
    """The feed filters of a widget, checked like those of its feed URLs."""
    try:
        return parse_selection(filters, accepted_filters(feed), items)
    except FilterError as exc:
        # The parameter's name is the client's input: say only which names this feed knows.
        known = tuple(accepted_filters(feed))
        raise OptionError(None, f"Invalid filter: {exc.problem}.", tuple(exc.valid) or known) from None


def view_of(feed: FeedSettings, options: WidgetOptions) -> str:
    """latest, or the view of the feed's kind."""
    return "latest" if options.view == "latest" else load_kind(feed.kind).view


def widget_data(rt: Runtime, feed: FeedSettings, options: WidgetOptions, at: datetime) -> WidgetData:
    """The feed's current data for one widget: filtered, limited, with the crisis notices in force."""
    items = rt.store.current_items(feed.id)
    selection = selection_of(feed, options.filters, items)
    chosen = [i for i in selection.apply(accepted_filters(feed), items) if not has_expired(i, at)]
    chosen = [in_language(i, options.lang) for i in chosen]  # a CAP alert's info block in the widget's lang
    extra, valid_until = kind_data(feed, chosen, at)
    crisis = rt.overlay.on_top(feed.id, at)
    crisis_ids = {i.id for i in crisis.items}
    limit = options.items
    return WidgetData(
        feed=feed,
        options=options,
        view=view_of(feed, options),
        zone=ZoneInfo(feed.timezone),
        messages=_latest([i for i in chosen if i.id not in crisis_ids], at)[:limit],
        data={key: value[:limit] if isinstance(value, list) else value for key, value in extra.items()},
        crisis=crisis.items,
        valid_until=min((t for t in (valid_until, crisis.next_change) if t is not None), default=None),
    )


def _latest(items: list[Item], at: datetime) -> list[Item]:
    """Messages already published, newest first (as the JSON API lists them, without future reminders)."""
    shown = [i for i in items if i.data.get("kind") != READING and i.published <= at]
    shown.sort(key=lambda i: (-i.published.timestamp(), i.id))
    return shown
