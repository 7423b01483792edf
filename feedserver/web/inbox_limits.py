"""The inbox's rate limit per remote origin: `[activitypub] inbox_rate_limit` requests, then 429.

It counts with `limits`, the library under flask-limiter, in the same storage as the API's limit (the cache's
Redis when there is one, so all instances share the count). flask-limiter's own hooks do not fit here: they
run before the view, and the key, the origin of the Signature's keyId, is known only once the view read it.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app
from limits import parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ..config import Settings
from .api.limits import storage_uri

log = logging.getLogger(__name__)
EXTENSION = "feedserver.inbox_limits"


class OriginLimits:
    """Inbox requests counted per remote origin."""

    def __init__(self, rate: str, storage: str):
        self.rates = parse_many(rate)
        self.limiter = FixedWindowRateLimiter(storage_from_string(storage))

    def hit(self, origin: str) -> int | None:
        """Count one request from an origin; None when it is within the limit, else seconds to wait."""
        try:
            refused = [rate for rate in self.rates if not self.limiter.hit(rate, "ap-inbox", origin)]
            if not refused:
                return None
            reset = max(self.limiter.get_window_stats(r, "ap-inbox", origin).reset_time for r in refused)
        except StorageError as exc:  # a storage outage must not close the inbox: unlimited meanwhile
            log.warning("inbox rate limit not applied: %s", exc.storage_error)
            return None
        return max(1, math.ceil(reset - time.time()))


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the inbox's limits to the app."""
    app.extensions[EXTENSION] = OriginLimits(settings.push.inbox_rate_limit, storage_uri(settings))


def origin_limits() -> OriginLimits:
    """The current app's inbox limits."""
    return current_app.extensions[EXTENSION]
