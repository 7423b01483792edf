"""The values the store hands out: a feed's polling state, what a refresh changed, a rendition's bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedState:
    """What the store knows about a feed's polling health."""

    id: str
    validators: dict = field(default_factory=dict)
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    stale_since: datetime | None = None
    retry_at: datetime | None = None
    data_changed_at: datetime | None = None


@dataclass(frozen=True)
class Changes:
    """What one refresh changed in a feed's items."""

    added: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class Rendition:
    """One feed rendered in one format: the bytes served and their validators."""

    feed_id: str
    format: str
    body: bytes
    etag: str
    media_type: str
    last_modified: datetime
    valid_until: datetime | None = None
