"""RSS 2.0 and Atom 1.0 with feedgen: Items -> bytes, deterministic for the same data."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from feedgen.feed import FeedGenerator

from ..items import Item
from .hub import add_hub_link
from .meta import FeedMeta

GENERATOR = ("feedserver", "0.1", "https://github.com/feedserver")


def render_rss(meta: FeedMeta, items: Sequence[Item]) -> bytes:
    """RSS 2.0 with atom:link rel=self, stable non-permalink guids and RFC 822 dates."""
    return _styled(_build(meta, items, "rss").rss_str(pretty=False), meta.stylesheet_url)


def render_atom(meta: FeedMeta, items: Sequence[Item]) -> bytes:
    """Atom 1.0 with rel=self, urn:uuid ids, rights and RFC 3339 dates."""
    return _styled(_build(meta, items, "atom").atom_str(pretty=False), meta.stylesheet_url)


def _styled(document: bytes, stylesheet_url: str | None) -> bytes:
    """The document with an xml-stylesheet instruction after its XML declaration (readers ignore it)."""
    if not stylesheet_url:
        return document
    href = escape(stylesheet_url, quote=True).encode()
    instruction = b'<?xml-stylesheet type="text/xsl" href="' + href + b'"?>\n'
    if not document.startswith(b"<?xml "):
        return instruction + document
    declaration, _, rest = document.partition(b"?>")
    return declaration + b"?>\n" + instruction + rest.lstrip(b"\n")


def _build(meta: FeedMeta, items: Sequence[Item], fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(meta.url_for("atom").split("?")[0] if fmt == "atom" else meta.home_url)
    fg.title(meta.title)
    fg.description(meta.description or meta.title)
    fg.language(meta.language)
    fg.link(href=meta.self_url, rel="self", type=_media(fmt))
    if meta.hub_url:
        add_hub_link(fg, meta.hub_url)  # WebSub discovery; before the alternate link, which RSS keeps
    fg.link(href=meta.home_url, rel="alternate", type="text/html")  # last link: feedgen's RSS <link>
    fg.author({"name": meta.attribution or meta.title, "uri": meta.base_url})
    fg.rights(meta.rights)
    fg.generator(*GENERATOR)
    fg.updated(meta.updated)  # the time of the last data change, never the render time
    fg.lastBuildDate(meta.updated)
    fg.ttl(max(1, meta.ttl_seconds // 60))
    for item in items:
        _add_entry(fg, meta, item, fmt)
    return fg


def _add_entry(fg: FeedGenerator, meta: FeedMeta, item: Item, fmt: str) -> None:
    entry = fg.add_entry(order="append")
    urn = f"urn:uuid:{item.id}"
    entry.id(urn)
    entry.guid(urn, permalink=False)
    entry.title(item.title)
    entry.link(href=item.url or meta.item_url(item.id), rel="alternate")
    entry.published(item.published)
    entry.updated(item.updated or item.published)
    if item.summary:
        # Readers take an RSS description for HTML (Atom's summary is type="text"): plain text goes in
        # escaped, so "<" stays a less-than sign and "&lt;" stays four characters.
        entry.summary(escape(item.summary, quote=False) if fmt == "rss" else item.summary)
    if item.category:
        entry.category(term=str(item.category), label=str(item.category))


def _media(fmt: str) -> str:
    return "application/atom+xml" if fmt == "atom" else "application/rss+xml"
