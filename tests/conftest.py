"""Shared fixtures: recorded upstream payloads served over real HTTP on 127.0.0.1, and fresh apps."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedserver.fetch import FetchSettings, Http
from feedserver.items import FeedInfo
from tests.services import (  # noqa: F401 - fixtures, and the config writer tests import from here
    migrated_pg_url,
    pg_databases,
    pg_url,
    redis_prefix,
    write_config,
)

FIXTURES = Path(__file__).parent / "fixtures"

# Fixtures shared by a group of modules: the editorial desk's (frozen, tokens, client) and ActivityPub's
# (keys, remote, upstream), the channels' (mastodon, pds). A module's own fixture of the same name wins.
pytest_plugins = ["tests.desk_fixtures", "tests.ap_fixtures", "tests.channel_fixtures"]


@pytest.fixture(autouse=True)
def no_remembered_bodies():
    """Every test starts as a fresh process would: no upstream bodies remembered from another test."""
    from feedserver.remembered import bodies

    bodies.clear()
    yield
    bodies.clear()


@pytest.fixture
def fixture_bytes():
    """Read a recorded upstream payload: fixture_bytes('ics/erlensee_am_haspel_mh-online.ics')."""
    return lambda relative: (FIXTURES / relative).read_bytes()


@pytest.fixture
def http() -> Http:
    """The real upstream client, allowed to reach loopback (where pytest-httpserver listens)."""
    return Http(FetchSettings(allow_networks=("127.0.0.0/8",), user_agent="feedserver-tests", deadline=10))


@pytest.fixture
def feed_info() -> FeedInfo:
    """A German feed in Europe/Berlin, as most configured feeds are."""
    return FeedInfo(id="test-feed", title="Test", language="de", timezone="Europe/Berlin")


@pytest.fixture
def make_app(tmp_path):
    """Build a fresh app (a 'restart') on the same temporary database each time it is called."""
    from feedserver.app import create_app

    def build(feeds: str, extra: str = ""):
        app = create_app(write_config(tmp_path, feeds, extra))
        app.config["TESTING"] = True
        return app

    return build


def refresh_feed(app, feed_id: str):
    """Run one pipeline refresh inside the app context."""
    from feedserver.pipeline import refresh

    with app.app_context():
        return refresh(app.extensions["feedserver"], feed_id, respect_backoff=False)
