"""The web app's factory: settings, store, cache, the runtime's channels and overlay, and every blueprint."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .config import Settings
from .desk.crisis import CrisisNotices
from .desk.records import Reader
from .extensions import babel, cache
from .nearcache import NearCache
from .push import app as push  # usage statistics
from .push.outbox import PushQueue
from .runtime import Runtime
from .static_files import StaticFiles
from .store import Store
from .web import (
    activitypub,
    admin,
    admin_delivery,
    admin_plan,
    admin_replies,
    desk_api,
    feeds,
    health,
    pages,
    problems,
    security,
    stats_pages,
    websub_hub,
)
from .web import metrics as operator_metrics
from .web.api import routes as api
from .web.common import locale
from .web.security import LowerCaseHost
from .web.widgets import routes as widgets


def create_app(config: Settings | str | os.PathLike | None = None) -> Flask:
    """Build the web app: load settings, attach store and cache, register blueprints. Starts no scheduler."""
    settings = config if isinstance(config, Settings) else config_module.load(config)
    app = Flask(__name__)
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=1024 * 1024)
    cache.init_app(app, config=_cache_config(settings))
    _init_babel(app, settings)
    store = Store(settings.storage_url)
    if store.engine.dialect.name == "sqlite":
        store.migrate()  # the embedded default migrates itself
    else:
        store.check_schema()  # shared databases are migrated once, by `feedserver migrate`
    shared = cache
    if settings.cache.type != "NullCache" and settings.cache.local_seconds:
        shared = NearCache(cache, settings.cache.local_seconds)
    # Publication goes on to the channels; the desk's crisis notices go on top; the desk is an upstream too.
    app.extensions["feedserver"] = Runtime(
        settings, store, shared, _channels(settings, store), CrisisNotices(store.engine), Reader(store.engine)
    )
    _register_blueprints(app)
    app.wsgi_app = LowerCaseHost(app.wsgi_app)  # inside ProxyFix: it sees the forwarded host too
    hops = settings.server.proxy_hops
    if hops:  # X-Forwarded-* are believed only from the configured number of proxies in front
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _channels(settings: Settings, store: Store) -> tuple:
    """Where a publication goes once stored: static files (with [publish] dir), then the push queue."""
    static = (StaticFiles(settings.publish.dir, store),) if settings.publish.dir else ()
    return (*static, PushQueue(store.engine))


def _init_babel(app: Flask, settings: Settings) -> None:
    """gettext with the pages' language choice (web.common.locale) and times in the server's zone."""
    app.config.update(
        BABEL_DEFAULT_LOCALE=settings.server.language, BABEL_DEFAULT_TIMEZONE=settings.server.timezone
    )
    babel.init_app(app, locale_selector=locale)  # catalogs: feedserver/translations/<lang>/LC_MESSAGES


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
    problems.register(app)
    for blueprint in (pages.bp, feeds.bp, health.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(desk_api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_replies.bp)
    app.register_blueprint(admin_plan.bp)
    app.register_blueprint(admin_delivery.bp)
    api.register(app)
    app.register_blueprint(widgets.bp)
    app.register_blueprint(websub_hub.bp)
    if app.extensions["feedserver"].settings.push.activitypub:
        app.register_blueprint(activitypub.bp)
    app.register_blueprint(stats_pages.bp)
    push.init_app(app)

    server = app.extensions["feedserver"].settings.server
    security.init_app(app, server.base_url, server.trusted_hosts)
    operator_metrics.init_app(app, app.extensions["feedserver"].settings.metrics)
