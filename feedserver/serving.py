"""The read side of feeds: cache, else stored bytes, else a render that is never saved. Serving never writes.

A stored rendition that expired (a reminder or a crisis fell due since it was made) is rendered afresh for the
request and cached until it expires too; the scheduler's publish-due job (output.publish_due) saves and
publishes it for everyone else, the static files and the subscribers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from .config import FeedSettings
from .filters import Selection
from .renditions import cache_key, render
from .runtime import Runtime
from .store import Rendition


@dataclass(frozen=True)
class Served:
    """A rendition plus the feed's health at the time it was cached."""

    rendition: Rendition
    stale_since: datetime | None
    every: int


def current(runtime: Runtime, feed: FeedSettings, fmt: str, now: datetime) -> Served | None:
    """The bytes of a whole feed: cache, else store, else rendered for this answer (never saved)."""
    key = cache_key(feed.id, fmt)
    served = runtime.cache.get(key)
    if served is None or _expired(served.rendition, now):
        rendition = runtime.store.rendition(feed.id, fmt)
        if rendition is None and runtime.store.feed_state(feed.id).last_success is None:
            return None  # never fetched: nothing to serve yet
        if rendition is None or _expired(rendition, now):
            # Due (or not rendered yet after a crash between storing and publishing): render for this answer
            # only; the publish-due job saves and publishes it.
            rendition = render(runtime, feed, fmt, Selection(), now)
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
