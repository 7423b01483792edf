"""Attach push to the app: the usage statistics that count requests and flush them to the database."""

from __future__ import annotations

from flask import Flask

from . import stats


def init_app(app: Flask) -> None:
    """Start counting requests (the hub's and the actors' blueprints are registered by create_app)."""
    stats.init_app(app)
