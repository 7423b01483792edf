"""Render once per change, keep the bytes in the store and the cache, hand them out with validators."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .config import FeedSettings
from .contract import above
from .filters import Selection, filters_for
from .items import Item
from .registry import load_kind, load_source
from .render import FORMATS, FeedMeta
from .runtime import Runtime
from .store import Rendition

log = logging.getLogger(__name__)
EVENTS_BACK = timedelta(days=30)  # calendar output keeps a month of past events
MAX_EVENTS = 2000
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Served:
    """A rendition plus the feed's health at the time it was cached."""

    rendition: Rendition
    stale_since: datetime | None
    every: int


def formats_of(feed: FeedSettings) -> list[str]:
    """The output formats a feed offers (calendar output only for kinds of dated events)."""
    dated = load_kind(feed.kind).dated
    return [name for name, fmt in FORMATS.items() if not fmt.dated_only or dated]


def accepted_filters(feed: FeedSettings):
    """The URL filters this feed accepts."""
    return filters_for(load_source(feed.source), load_kind(feed.kind).filters)


def keep_gone(feed: FeedSettings) -> timedelta:
    """How long items that left the upstream stay in the feed (history kinds keep them)."""
    return getattr(load_source(feed.source), "KEEP_GONE", timedelta(0))


def publish(runtime: Runtime, feed: FeedSettings, now: datetime) -> list[Rendition]:
    """Render every format of a feed from the store, save the bytes, drop the cache, tell the channels."""
    rendered = [render(runtime, feed, fmt, Selection(), now) for fmt in formats_of(feed)]
    runtime.store.save_renditions(rendered)
    _drop_cached(runtime, feed)
    for channel in runtime.channels:  # static files, then the push queue (one INSERT; its worker delivers)
        channel.published(feed.id, rendered, now)
    return rendered


def forget(runtime: Runtime, feed_id: str) -> None:
    """After a change of health (or another process's publication): drop cached bytes, tell the channels."""
    _drop_cached(runtime, runtime.feed(feed_id))
    for channel in runtime.channels:
        channel.health_changed(feed_id)


def _drop_cached(runtime: Runtime, feed: FeedSettings) -> None:
    runtime.cache.delete_many(*[_cache_key(feed.id, fmt) for fmt in formats_of(feed)])


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
    items = [i for i in shown if not (has_expired(i, now) or embargoed(i, now))]
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
    """Announcements are shown nowhere before their publication time, not even as a calendar event."""
    return item.data.get("kind") == "announcement" and item.published > now


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
        return [i for i in events if i.data.get("kind") not in ("reading", "notice")][:MAX_EVENTS]
    return runtime.store.messages(feed.id, now, feed.max_items, keep_gone(feed))


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
    )


def current(runtime: Runtime, feed: FeedSettings, fmt: str, now: datetime) -> Served | None:
    """The bytes of a whole feed: cache, else store; re-rendered when a reminder falls due."""
    key = _cache_key(feed.id, fmt)
    served = runtime.cache.get(key)
    if served is None or _expired(served.rendition, now):
        rendition = runtime.store.rendition(feed.id, fmt)
        if rendition is None and runtime.store.feed_state(feed.id).last_success is None:
            return None  # never fetched: nothing to serve yet
        if rendition is None or _expired(rendition, now):
            rendition = next(r for r in publish(runtime, feed, now) if r.format == fmt)
        served = Served(rendition, runtime.store.feed_state(feed.id).stale_since, feed.every)
        runtime.cache.set(key, served, timeout=_cache_seconds(rendition, now))
    return served


def filtered(
    runtime: Runtime, feed: FeedSettings, fmt: str, selection: Selection, query: str, now: datetime, **options
) -> Served | None:
    """The bytes for a filtered request, cached per data version and canonical filter set."""
    base = current(runtime, feed, fmt, now)
    if base is None:
        return None
    variant = hashlib.sha256(f"{selection.key}|{sorted(options.items())}".encode()).hexdigest()[:32]
    key = f"f:{feed.id}:{fmt}:{base.rendition.etag}:{variant}"
    rendition = runtime.cache.get(key)
    if rendition is None:
        rendition = render(runtime, feed, fmt, selection, now, query, **options)
        runtime.cache.set(key, rendition, timeout=_cache_seconds(base.rendition, now))
    return Served(rendition, base.stale_since, base.every)


def _expired(rendition: Rendition, now: datetime) -> bool:
    return rendition.valid_until is not None and rendition.valid_until <= now


def _cache_seconds(rendition: Rendition, now: datetime) -> int:
    if rendition.valid_until is None:
        return 0  # flask-caching: no expiry; the pipeline deletes the entry on change
    return max(1, int((rendition.valid_until - now).total_seconds()) + 1)


def _cache_key(feed_id: str, fmt: str) -> str:
    return f"r:{feed_id}:{fmt}"
