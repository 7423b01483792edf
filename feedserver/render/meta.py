"""What every renderer knows about the feed as a whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FeedMeta:
    """Feed-level fields shared by all output formats (all URLs absolute)."""

    id: str
    title: str
    description: str
    language: str
    timezone: str
    base_url: str
    self_url: str
    home_url: str
    licence: str
    licence_url: str | None
    attribution: str
    updated: datetime
    ttl_seconds: int
    hub_url: str | None = None  # the WebSub hub advertised with rel="hub"
    stylesheet_url: str | None = None  # XSLT a browser applies to RSS and Atom (static/feed.xsl)

    def url_for(self, fmt: str) -> str:
        """Absolute URL of this feed in another format (same filters as self_url)."""
        head, dot, _ = self.self_url.partition("?")[0].rpartition(".")
        query = self.self_url.partition("?")[2]
        return f"{head}.{fmt}" + (f"?{query}" if query else "")

    def item_url(self, item_id: str) -> str:
        """The human page anchor of one item."""
        return f"{self.home_url}#item-{item_id}"

    @property
    def rights(self) -> str:
        """One line naming licence and attribution, as feeds carry it."""
        who = f"{self.attribution}, " if self.attribution else ""
        url = f" ({self.licence_url})" if self.licence_url else ""
        return f"{who}{self.licence}{url}"
