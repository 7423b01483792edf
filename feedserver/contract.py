"""What the core asks of its plugins: channels that carry a publication on, and an overlay of items on top.

Publication (`output.publish`) is the only writer after the store. Once a feed's renditions are saved it
tells every channel of the runtime (static files, WebSub and ActivityPub, ...), in order; when only the feed's
health changed it tells them that. The overlay hands the renderers items that belong on top of a feed without
being its own (the desk's approved crisis notices), so rendering needs to know nothing about the desk. A
source whose upstream is the desk is handed a read-only DeskReader instead of the HTTP client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .items import Item
from .stored import Rendition


class DeskReader(Protocol):
    """The desk as an upstream, read-only: what a feed's approved announcements say now."""

    def live_announcements(self, feed_id: str) -> list:
        """The feed's announcements that are approved and not withdrawn (each with `id` and `published`)."""


class Channel(Protocol):
    """Somewhere a feed's publication goes once it is stored."""

    def published(self, feed_id: str, renditions: Sequence[Rendition], now: datetime) -> None:
        """The feed's content changed: these are its new renditions (every format)."""

    def health_changed(self, feed_id: str) -> None:
        """The feed turned stale or healthy again, or another process published it."""


@dataclass(frozen=True)
class OnTop:
    """Items shown above a feed's own ones, and when that set changes next (a publication or an expiry)."""

    items: list[Item] = field(default_factory=list)
    next_change: datetime | None = None


class Overlay(Protocol):
    """Items from outside a feed's upstream that go on top of it, in every format and whatever the filters."""

    def on_top(self, feed_id: str, now: datetime, as_events: bool = False) -> OnTop:
        """What goes on top of this feed now; as calendar events (with a start) when `as_events`."""


class NoOverlay:
    """The overlay of a server without a desk: nothing on top."""

    def on_top(self, feed_id: str, now: datetime, as_events: bool = False) -> OnTop:
        """Nothing."""
        return OnTop()


def above(on_top: OnTop, items: list[Item]) -> list[Item]:
    """The items on top first, then the feed's own without them (a home feed holds them already)."""
    ids = {item.id for item in on_top.items}
    return on_top.items + [item for item in items if item.id not in ids]
