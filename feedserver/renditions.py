"""Renditions: a feed rendered in one format from the store, with its validators and how long it holds.

Both sides use this: publication (output.py) renders every format once per change and saves the bytes;
serving (serving.py) reads them and renders only what is not stored (filtered views, a due reminder).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from .config import FeedSettings
from .contract import above
from .filters import Selection, filters_for
from .items import NOTICE, READING, Item, coordinates
from .registry import load_kind, load_source
from .render import FORMATS, FeedMeta
from .runtime import Runtime
from .store import Rendition

EVENTS_BACK = timedelta(days=30)  # calendar output keeps a month of past events
MAX_EVENTS = 2000
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def formats_of(feed: FeedSettings) -> list[str]:
    """The output formats a feed offers (calendar output only for dated events, GeoJSON for located ones)."""
    kind = load_kind(feed.kind)
    dated, located = kind.dated, getattr(kind, "located", False)  # a plugin kind may predate `located`
    return [
        name
        for name, fmt in FORMATS.items()
        if (not fmt.dated_only or dated) and (not fmt.located_only or located)
    ]


def accepted_filters(feed: FeedSettings):
    """The URL filters this feed accepts."""
    return filters_for(load_source(feed.source), load_kind(feed.kind).filters)


def keep_gone(feed: FeedSettings) -> timedelta:
    """How long items that left the upstream stay in the feed (history kinds keep them)."""
    return getattr(load_source(feed.source), "KEEP_GONE", timedelta(0))


def render(
    runtime: Runtime,
    feed: FeedSettings,
    fmt: str,
    selection: Selection,
    now: datetime,
    query: str = "",
    **options,
) -> Rendition:
    """Render one format of a feed, optionally narrowed by filters, into bytes with validators."""
    shown = _select_items(runtime, feed, fmt, now)
    embargo = load_kind(feed.kind).embargo
    items = [i for i in shown if not (has_expired(i, now) or (embargo and embargoed(i, now)))]
    if selection.criteria:
        items = selection.apply(accepted_filters(feed), items)
    # Editorial desk: approved crisis announcements aimed at this feed go on top, in every format and
    # whatever the filters; the rendition is valid only until the next crisis is published or expires.
    crisis = runtime.overlay.on_top(feed.id, now, as_events=FORMATS[fmt].dated_only)
    items = above(crisis, items)
    state = runtime.store.feed_state(feed.id)
    last_modified = max([state.data_changed_at or EPOCH] + [i.published for i in items if i.published <= now])
    last_modified = last_modified.replace(microsecond=0)
    meta = feed_meta(runtime, feed, fmt, last_modified, query)
    body = FORMATS[fmt].render(meta, items, **options)  # options: the calendar's alarm
    return Rendition(
        feed_id=feed.id,
        format=fmt,
        body=body,
        etag=f'"{hashlib.sha256(body).hexdigest()[:40]}"',
        media_type=FORMATS[fmt].media_type,
        last_modified=last_modified,
        valid_until=_earliest(
            runtime.store.next_publication(feed.id, now),
            next_expiry(items, now),
            crisis.next_change,
            runtime.store.next_history_end(feed.id, now, keep_gone(feed)),
        ),
    )


def has_expired(item: Item, now: datetime) -> bool:
    """True when an item carries an expiry (`data["expires"]`, e.g. an announcement) that has passed."""
    expires = _expiry(item)
    return expires is not None and expires <= now


def embargoed(item: Item, now: datetime) -> bool:
    """Before its publication time (a kind with an embargo shows such items nowhere, not even as events)."""
    return item.published > now


def next_expiry(items: list[Item], now: datetime) -> datetime | None:
    """The next instant one of these items expires, so the rendition is re-made without it then."""
    return min((e for e in map(_expiry, items) if e is not None and e > now), default=None)


def _expiry(item: Item) -> datetime | None:
    value = item.data.get("expires")
    try:
        expires = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return expires if expires is not None and expires.tzinfo is not None else None


def _earliest(*instants: datetime | None) -> datetime | None:
    return min((i for i in instants if i is not None), default=None)


def _select_items(runtime: Runtime, feed: FeedSettings, fmt: str, now: datetime) -> list[Item]:
    if FORMATS[fmt].dated_only:
        events = [
            i
            for i in runtime.store.current_items(feed.id)
            if i.starts is not None and _day(i.starts) >= (now - EVENTS_BACK).date()
        ]
        return [i for i in events if i.data.get("kind") not in (READING, NOTICE)][:MAX_EVENTS]
    if FORMATS[fmt].located_only:
        return standing(runtime.store.current_items(feed.id), now)[: feed.max_items]
    return runtime.store.messages(feed.id, now, feed.max_items, keep_gone(feed))


def standing(items: list[Item], now: datetime) -> list[Item]:
    """What a map shows: current items already published that no other current item supersedes (a
    request's latest status, not its history), readings included, newest first."""
    superseded = {old for item in items for old in item.data.get("supersedes") or ()}
    shown = [i for i in items if i.id not in superseded and i.published <= now and coordinates(i) is not None]
    return sorted(shown, key=lambda i: (-i.published.timestamp(), i.id))


def _day(value):
    return value.date() if isinstance(value, datetime) else value


def feed_meta(runtime: Runtime, feed: FeedSettings, fmt: str, updated: datetime, query: str = "") -> FeedMeta:
    """Feed-level fields for a renderer, with absolute URLs from base_url."""
    base = runtime.settings.server.base_url.rstrip("/")
    suffix = f"?{query}" if query else ""
    return FeedMeta(
        id=feed.id,
        title=feed.title,
        description=feed.description,
        language=feed.language,
        timezone=feed.timezone,
        base_url=base + "/",
        self_url=f"{base}/feeds/{feed.id}.{fmt}{suffix}",
        home_url=f"{base}/feeds/{feed.id}",
        licence=feed.licence,
        licence_url=feed.licence_url,
        attribution=feed.attribution,
        updated=updated,
        ttl_seconds=feed.every,
        hub_url=f"{base}/websub",  # WebSub discovery in the document (feedserver/push/topics.py HUB_PATH)
        stylesheet_url=f"{base}/static/feed.xsl",  # a browser shows RSS and Atom as a readable page
    )


def cache_key(feed_id: str, fmt: str) -> str:
    """The cache key of a whole feed's bytes in one format."""
    return f"r:{feed_id}:{fmt}"


def overlay_key(feed_id: str) -> str:
    """The cache key of the items on top of a feed (crisis notices); publication drops it with the bytes."""
    return f"o:{feed_id}"
