"""The running server's shared parts: settings, store and cache, built once per app or worker."""

from __future__ import annotations

from dataclasses import dataclass

from flask_caching import Cache

from .config import FeedSettings, Settings
from .store import Store


@dataclass
class Runtime:
    """Everything the pipeline and the web layer share."""

    settings: Settings
    store: Store
    cache: Cache

    def feed(self, feed_id: str) -> FeedSettings:
        """The configured feed; KeyError for an unknown id."""
        return self.settings.feeds[feed_id]
