"""Per-client rate limiting of the JSON API (flask-limiter) with RateLimit-* and Retry-After headers."""

from __future__ import annotations

import time
from functools import partial

from flask import Blueprint, Flask, Response, request
from flask_limiter import HeaderNames, Limiter
from flask_limiter.util import get_remote_address

from ...config import Settings

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
        storage_uri=storage_uri(settings),
        headers_enabled=True,
        header_name_mapping=HEADERS,
        retry_after="delta-seconds",
        swallow_errors=True,  # a storage outage must not take the API down: serve unlimited meanwhile
        in_memory_fallback_enabled=True,
    )
    _confine_hooks(app, limiter, [blueprint.name for blueprint in blueprints])
    for blueprint in blueprints:
        # one budget per client for the whole API, not one per endpoint
        limiter.shared_limit(
            settings.api.rate_limit, scope="api", exempt_when=lambda: request.method == "OPTIONS"
        )(blueprint)
    return limiter


def _confine_hooks(app: Flask, limiter: Limiter, names: list[str]) -> None:
    """Run the limiter's request hooks (and _ratelimit_headers) for the limited blueprints only.

    flask-limiter installs them app-wide, where on every feed request they cost more CPU than all of the
    feed's own checks (bench/scale_bench.py), for routes that are never limited. Their order is kept, and
    they run before the blueprint's own hooks as they did app-wide.
    """
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        moved = [f for f in registry.get(None, []) if f is _ratelimit_headers or _owner(f) is limiter]
        registry[None] = [f for f in registry.get(None, []) if f not in moved]
        for name in names:
            registry[name] = moved + registry.get(name, [])


def _owner(function) -> object:
    """The object a hook is bound to (a bound method's self, or a partial's first argument)."""
    if isinstance(function, partial):
        return function.args[0] if function.args else None
    return getattr(function, "__self__", None)


def storage_uri(settings: Settings) -> str:
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
