"""What the catalogue and a feed page show of one feed: its status in words, its topic, its place and the ways
to follow it. The topic, its label and the words for "nothing current" come from the feed's kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from ..config import FeedSettings, Settings
from ..contract import PlainKind
from ..push.ap_documents import host as fediverse_host
from ..registry import load_kind
from ..renditions import formats_of
from ..runtime import Runtime
from ..sanitize import fold
from ..store import FeedState
from .page_text import FORMAT_LABELS, page_words

READER_FORMATS = ("rss", "atom", "json")


@dataclass(frozen=True)
class Entry:
    """One feed as the pages show it."""

    feed: FeedSettings
    state: FeedState | None
    status: str  # pending, stale, empty (nothing upcoming or in force) or ok
    status_text: str  # the kind's words for "empty" (the other statuses have the page's words)
    topic: str
    topic_label: str
    formats: list[tuple[str, str, str]]  # (format, label, absolute URL)
    webcal: str | None  # the calendar as webcal:// for feeds offered as iCalendar
    fediverse: str | None  # @feed@host where ActivityPub is on
    widget: str  # the embed builder with this feed chosen

    def category_label(self, category: str | None, lang: str) -> str:
        """An item category's name in the page's language (the desk's crisis notices sit on any feed)."""
        label = _kind(self.feed).category_label(category, lang)
        return page_words(lang)["crisis"] if label == "crisis" else label

    @property
    def reader_formats(self) -> list[tuple[str, str, str]]:
        """The formats a feed reader takes (RSS, Atom, JSON Feed)."""
        return [f for f in self.formats if f[0] in READER_FORMATS]

    @property
    def map_url(self) -> str | None:
        """The URL of the GeoJSON rendition (places on a map), if the feed has one."""
        return next((url for fmt, _, url in self.formats if fmt == "geojson"), None)

    @property
    def calendar_url(self) -> str | None:
        """The https URL of the iCalendar rendition, if the feed has one."""
        return next((url for fmt, _, url in self.formats if fmt == "ics"), None)


def _kind(feed: FeedSettings):
    """The feed's kind; a plugin kind without the pages' attributes gets PlainKind's."""
    kind = load_kind(feed.kind)
    return kind if hasattr(kind, "topic_label") else PlainKind(feed.kind)


def entry(rt: Runtime, feed: FeedSettings, state: FeedState | None, lang: str, at: datetime) -> Entry:
    """The feed as the pages show it, now."""
    settings = rt.settings
    base = settings.server.base_url.rstrip("/")
    kind = _kind(feed)
    offered = formats_of(feed)
    formats = [(fmt, FORMAT_LABELS.get(fmt, fmt), f"{base}/feeds/{feed.id}.{fmt}") for fmt in offered]
    status = _status(rt, feed, kind, state, at)
    return Entry(
        feed=feed,
        state=state,
        status=status,
        status_text=kind.empty_label(lang) if status == "empty" else "",
        topic=kind.topic,
        topic_label=kind.topic_label(lang),
        formats=formats,
        webcal=_webcal(base, feed.id) if "ics" in offered else None,
        fediverse=f"@{feed.id}@{fediverse_host(settings)}" if settings.push.activitypub else None,
        widget=url_for("pages.catalogue", w_feed=feed.id, lang=lang, _anchor="embed"),
    )


def _status(rt: Runtime, feed: FeedSettings, kind, state: FeedState | None, at: datetime) -> str:
    if state is None or state.last_success is None:
        return "stale" if state is not None and state.stale_since else "pending"
    if state.stale_since:
        return "stale"
    return "ok" if kind.has_current(feed, rt.store.current_items(feed.id), at) else "empty"


def _webcal(base: str, feed_id: str) -> str:
    return f"webcal://{base.split('://', 1)[1]}/feeds/{feed_id}.ics"


def entries(rt: Runtime, lang: str, at: datetime) -> list[Entry]:
    """Every feed in config order."""
    states = rt.store.feed_states()
    return [entry(rt, feed, states.get(feed.id), lang, at) for feed in rt.settings.feeds.values()]


def places(settings: Settings) -> list[str]:
    """The places feeds name, each once, in alphabetical order."""
    named = {fold(f.place): f.place for f in settings.feeds.values() if f.place}
    return sorted(named.values(), key=fold)


def in_place(found: Iterable[Entry], place: str) -> list[Entry]:
    """The entries of feeds about this place (case and accents do not matter)."""
    wanted = fold(place.strip())
    return [e for e in found if e.feed.place and fold(e.feed.place) == wanted]


def by_topic(found: Sequence[Entry]) -> list[tuple[str, str, list[Entry]]]:
    """(topic, label, entries) groups, in the order their first feed appears in the config."""
    groups: dict[str, tuple[str, list[Entry]]] = {}
    for e in found:
        groups.setdefault(e.topic, (e.topic_label, []))[1].append(e)
    return [(topic, label, members) for topic, (label, members) in groups.items()]
