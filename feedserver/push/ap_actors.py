"""A feed's actor record: its key pair, generated once on first use and stored."""

from __future__ import annotations

from datetime import UTC, datetime

from ..runtime import Runtime
from . import records
from .signatures import new_key_pair


def feed_actor(runtime: Runtime, feed_id: str) -> records.Actor:
    """The stored actor of a feed (keys created now if it never had any)."""
    return records.actor(runtime.store.engine, feed_id, new_key_pair, datetime.now(UTC))
