"""Fixtures shared by the channel tests: a local Mastodon server and a local Bluesky PDS, with the secret each
channel reads from the environment."""

from __future__ import annotations

import pytest

from tests.bluesky_server import BlueskyServer
from tests.mastodon_server import MastodonServer

TOKEN_VARIABLE = "FEEDSERVER_TEST_MASTODON_TOKEN"
PASSWORD_VARIABLE = "FEEDSERVER_TEST_BLUESKY_PASSWORD"


@pytest.fixture
def mastodon(monkeypatch):
    """A Mastodon server on 127.0.0.1 whose city account's token is in TOKEN_VARIABLE."""
    server = MastodonServer(token="city-token")
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    yield server
    server.stop()


@pytest.fixture
def pds(monkeypatch):
    """A Bluesky PDS on 127.0.0.1 whose app password is in PASSWORD_VARIABLE."""
    server = BlueskyServer()
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    yield server
    server.stop()
