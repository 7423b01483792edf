"""Publication, the only writer after the store: render every format once, save, drop the cache, tell the
channels. The pipeline calls it after a change, the desk after an approval, the scheduler when renditions
fall due.
"""

from __future__ import annotations

import logging
from datetime import datetime

from .config import FeedSettings
from .filters import Selection
from .renditions import cache_key, formats_of, overlay_key, render
from .runtime import Runtime
from .store import Rendition

log = logging.getLogger(__name__)


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
    runtime.cache.delete_many(overlay_key(feed.id), *[cache_key(feed.id, fmt) for fmt in formats_of(feed)])


def publish_due(runtime: Runtime, now: datetime) -> list[str]:
    """Publish again every feed whose stored renditions expired (a reminder or a crisis notice fell due), so
    new items appear in the static files and reach subscribers without a refresh; the ids published."""
    due = [feed_id for feed_id in runtime.store.expired_feeds(now) if feed_id in runtime.settings.feeds]
    published = []
    for feed_id in due:
        try:
            publish(runtime, runtime.feed(feed_id), now)
        except Exception as exc:  # noqa: BLE001 - one feed that cannot be published must not hold back the rest
            log.warning("publishing %s when it fell due failed: %s: %s", feed_id, type(exc).__name__, exc)
            continue
        published.append(feed_id)
    return published
