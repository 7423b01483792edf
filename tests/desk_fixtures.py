"""Fixtures of the editorial desk tests, registered in tests/conftest.py: frozen time, the staff's tokens and
a test client. Each module defines its own `app` (which feeds, whether /admin has a secret key)."""

from __future__ import annotations

import pytest
import time_machine

from tests.desk_support import NOW, staff


@pytest.fixture
def frozen():
    """Time stands still at NOW until the test moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tokens(app):
    """The desk's staff (desk_support.staff) in the module's app: their API tokens by name."""
    return staff(app)


@pytest.fixture
def client(app):
    """A test client of the module's app."""
    return app.test_client()
