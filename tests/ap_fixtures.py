"""Fixtures of the ActivityPub tests, registered in tests/conftest.py: key pairs by account name, alice's
server and the waste calendar the feed follows. Each module defines its own `app` (tests/ap_support.py)."""

from __future__ import annotations

import pytest
from Crypto.PublicKey import RSA

from tests.ap_support import RemoteServer
from tests.push_support import Upstream


class KeyPairs(dict):
    """RSA key pairs by account name, each made the first time it is asked for (they take a while)."""

    def __missing__(self, name: str):
        self[name] = RSA.generate(2048)
        return self[name]


@pytest.fixture(scope="module")
def keys() -> KeyPairs:
    return KeyPairs()


@pytest.fixture
def remote(keys):
    """alice's fediverse server on 127.0.0.1."""
    server = RemoteServer(keys["alice"])
    yield server
    server.stop()


@pytest.fixture
def upstream(httpserver):
    """The feed's calendar: pickups 5 and 4 days ago, until the test serves another."""
    return Upstream(httpserver, [5, 4])
