"""JSON Feed 1.1: Items -> bytes, with licence and attribution in a `_feedserver` extension."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from ..items import Item
from .meta import FeedMeta

VERSION = "https://jsonfeed.org/version/1.1"


def render_jsonfeed(meta: FeedMeta, items: Sequence[Item]) -> bytes:
    """A JSON Feed 1.1 document; custom fields live under `_feedserver` as the spec asks."""
    document = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.self_url,
        "description": meta.description or meta.title,
        "language": meta.language,
        "authors": [{"name": meta.attribution or meta.title, "url": meta.base_url}],
        "_feedserver": {
            "about": "https://github.com/feedserver",
            "licence": meta.licence,
            "licence_url": meta.licence_url,
            "attribution": meta.attribution,
            "updated": meta.updated.isoformat(),
        },
        "items": [_item(meta, item) for item in items],
    }
    if meta.hub_url:
        document["hubs"] = [{"type": "WebSub", "url": meta.hub_url}]  # JSON Feed 1.1 real-time hubs
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _item(meta: FeedMeta, item: Item) -> dict:
    entry = {
        "id": f"urn:uuid:{item.id}",
        "url": item.url or meta.item_url(item.id),
        "title": item.title,
        "content_text": item.summary or item.title,
        "date_published": item.published.isoformat(),
    }
    if item.updated:
        entry["date_modified"] = item.updated.isoformat()
    if item.category:
        entry["tags"] = [str(item.category)]
    extension = {"area": item.area, "starts": _iso(item.starts), "ends": _iso(item.ends)}
    # the 48-hour series and the other languages' texts (CAP) are for widgets and pages, not feed readers
    extension.update({k: v for k, v in item.data.items() if k not in ("series", "translations")})
    entry["_feedserver"] = {k: v for k, v in extension.items() if v is not None}
    return entry


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
