"""Output formats: one renderer per format, chosen by the URL's extension from one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..items import Item
from .geojson import render_geojson
from .ical import render_ical
from .jsonfeed import render_jsonfeed
from .meta import FeedMeta
from .rss_atom import render_atom, render_rss


@dataclass(frozen=True)
class Format:
    """One output format: its URL extension, exact media type and renderer."""

    name: str
    media_type: str
    render: Callable[[FeedMeta, Sequence[Item]], bytes]
    dated_only: bool = False  # only for feeds whose items are dated events
    located_only: bool = False  # only for feeds whose items have places (a kind that says `located`)


FORMATS: dict[str, Format] = {
    "rss": Format("rss", "application/rss+xml; charset=utf-8", render_rss),
    "atom": Format("atom", "application/atom+xml; charset=utf-8", render_atom),
    "json": Format("json", "application/feed+json; charset=utf-8", render_jsonfeed),
    "ics": Format("ics", "text/calendar; charset=utf-8", render_ical, dated_only=True),
    "geojson": Format("geojson", "application/geo+json", render_geojson, located_only=True),
}

__all__ = ["FORMATS", "FeedMeta", "Format"]
