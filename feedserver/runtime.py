"""The running server's shared parts: settings, store and cache, built once per app or worker."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_caching import Cache

from .config import FeedSettings, Settings
from .contract import Channel, DeskReader, NoOverlay, Overlay
from .store import Store


@dataclass
class Runtime:
    """Everything the pipeline and the web layer share."""

    settings: Settings
    store: Store
    cache: Cache
    channels: tuple[Channel, ...] = ()  # where a publication goes once stored, in this order
    overlay: Overlay = field(default_factory=NoOverlay)  # items on top of feeds (the desk's crisis notices)
    desk: DeskReader | None = None  # the upstream of sources that read the desk (`reads = "desk"`)

    def feed(self, feed_id: str) -> FeedSettings:
        """The configured feed; KeyError for an unknown id."""
        return self.settings.feeds[feed_id]
