"""Per-client rate limiting of the JSON API (flask-limiter) with RateLimit-* and Retry-After headers."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, request
from flask_limiter import HeaderNames, Limiter
from flask_limiter.util import get_remote_address

from ..config import Settings

HEADERS = {
    HeaderNames.LIMIT: "RateLimit-Limit",
    HeaderNames.REMAINING: "RateLimit-Remaining",
    HeaderNames.RESET: "RateLimit-Reset",
    HeaderNames.RETRY_AFTER: "Retry-After",
}


def limit(app: Flask, settings: Settings, blueprints: list[Blueprint]) -> Limiter | None:
    """Limit requests per client address to the blueprints; None when switched off in [api]."""
    if not settings.api.rate_limit_enabled:
        return None
    # Registered before the limiter's own hook, so it runs after it (Flask runs after_request in reverse).
    app.after_request(_ratelimit_headers)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=_storage_uri(settings),
        headers_enabled=True,
        header_name_mapping=HEADERS,
        retry_after="delta-seconds",
        swallow_errors=True,  # a storage outage must not take the API down: serve unlimited meanwhile
        in_memory_fallback_enabled=True,
    )
    for blueprint in blueprints:
        # one budget per client for the whole API, not one per endpoint
        limiter.shared_limit(
            settings.api.rate_limit, scope="api", exempt_when=lambda: request.method == "OPTIONS"
        )(blueprint)
    return limiter


def _storage_uri(settings: Settings) -> str:
    """The cache's Redis when configured (limits shared by all instances), else this process's memory."""
    if settings.cache.type == "RedisCache" and settings.cache.redis_url:
        return settings.cache.redis_url
    return "memory://"


def _ratelimit_headers(response: Response) -> Response:
    """RateLimit-Reset in seconds from now (as the IETF draft has it); Retry-After only when refused."""
    reset = response.headers.get("RateLimit-Reset")
    if reset and reset.isdigit() and int(reset) > 10**9:
        response.headers["RateLimit-Reset"] = str(max(0, int(reset) - int(time.time())))
    if response.status_code not in (429, 503) and "RateLimit-Limit" in response.headers:
        response.headers.pop("Retry-After", None)  # flask-limiter adds it to every limited response
    return response
