"""Attach push and social to the app: the WebSub hub, the ActivityPub endpoints, statistics."""

from __future__ import annotations

from flask import Flask

from . import stats


def init_app(app: Flask) -> None:
    """Register the hub, ActivityPub (unless [activitypub] enabled = false) and the statistics pages."""
    from ..web import activitypub, stats_pages, websub_hub

    app.register_blueprint(websub_hub.bp)
    if app.extensions["feedserver"].settings.push.activitypub:
        app.register_blueprint(activitypub.bp)
    app.register_blueprint(stats_pages.bp)
    stats.init_app(app)
