"""GeoJSON (RFC 7946): Items with a place -> a FeatureCollection of Points, for maps without third parties.

Coordinates are [longitude, latitude] in WGS 84, as RFC 7946 orders them. An item without a place is left out
(a map cannot show it). Feed-level facts (title, licence, attribution, when the data changed) are foreign
members of the collection, which RFC 7946 section 6.1 allows; each feature's properties are the item's fields
and its kind's data, as the JSON Feed's `_feedserver` extension carries them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from ..items import Item, coordinates
from .meta import FeedMeta

LEFT_OUT = ("series", "translations", "lat", "lon")  # charts and other languages; the place is the geometry


def render_geojson(meta: FeedMeta, items: Sequence[Item]) -> bytes:
    """A FeatureCollection with one Point feature per item that has a place."""
    document = {
        "type": "FeatureCollection",
        "title": meta.title,
        "feed_url": meta.self_url,
        "home_page_url": meta.home_url,
        "licence": meta.licence,
        "licence_url": meta.licence_url,
        "attribution": meta.attribution,
        "updated": meta.updated.isoformat(),
        "features": [feature for item in items if (feature := _feature(meta, item))],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _feature(meta: FeedMeta, item: Item) -> dict | None:
    place = coordinates(item)
    if place is None:
        return None
    latitude, longitude = place
    properties = {
        "title": item.title,
        "summary": item.summary or None,
        "url": item.url or meta.item_url(item.id),
        "published": item.published.isoformat(),
        "updated": _iso(item.updated),
        "category": item.category,
        "area": item.area,
        "starts": _iso(item.starts),
        "ends": _iso(item.ends),
    }
    properties.update({k: v for k, v in item.data.items() if k not in LEFT_OUT})
    return {
        "type": "Feature",
        "id": f"urn:uuid:{item.id}",
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": {k: v for k, v in properties.items() if v is not None},
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
