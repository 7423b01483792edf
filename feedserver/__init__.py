"""feedserver: a city's upstream services as open feeds (RSS, Atom, JSON Feed, iCalendar, API, widgets)."""

from __future__ import annotations

import os

from flask import Flask

from . import config as config_module
from .config import Settings
from .extensions import cache
from .runtime import Runtime
from .store import Store


def create_app(config: Settings | str | os.PathLike | None = None) -> Flask:
    """Build the web app: load settings, attach store and cache, register blueprints. Starts no scheduler."""
    settings = config if isinstance(config, Settings) else config_module.load(config)
    app = Flask(__name__)
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=1024 * 1024)
    cache.init_app(app, config=_cache_config(settings))
    store = Store(settings.storage_url)
    if store.engine.dialect.name == "sqlite":
        store.migrate()  # the embedded default migrates itself
    else:
        store.check_schema()  # shared databases are migrated once, by `feedserver migrate`
    app.extensions["feedserver"] = Runtime(settings, store, cache)
    _register_blueprints(app)
    return app


def _cache_config(settings: Settings) -> dict:
    values = {
        "CACHE_TYPE": settings.cache.type,
        "CACHE_DEFAULT_TIMEOUT": settings.cache.default_timeout,
        "CACHE_KEY_PREFIX": settings.cache.key_prefix,
        "CACHE_THRESHOLD": 5000,
    }
    if settings.cache.redis_url:
        values["CACHE_REDIS_URL"] = settings.cache.redis_url
    return values


def _register_blueprints(app: Flask) -> None:
    from .web import feeds, health, pages, problems

    problems.register(app)
    for blueprint in (pages.bp, feeds.bp, health.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'self'",
            )
        else:
            response.headers.setdefault(
                "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
            )
            response.headers.setdefault("Access-Control-Allow-Origin", "*")
            response.headers.setdefault(
                "Access-Control-Expose-Headers", "ETag, Last-Modified, Feedserver-Status"
            )
        return response
