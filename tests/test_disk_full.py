"""A database that cannot be written (a full disk) is reported: on the feed, in /api/v1/status, in /readyz.

Before, every refresh raised "database or disk is full" into APScheduler's log as a traceback, while /readyz
said ready and /api/v1/status said ok with 0 failures. Two ways to fill the disk: SQLite's own error raised
from the driver for every write (runs everywhere), and a real tmpfs filled to the last byte (needs mount).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, select

from feedserver.tables import feeds
from tests.conftest import refresh_feed
from tests.services import write_config

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FULL = "database or disk is full"
FEED = '[feeds.waste]\nsource = "ics"\ntitle = "Abfuhr"\nevery = "1h"\nurl = "{url}"\n'
WRITES = ("INSERT", "UPDATE", "DELETE")


def calendar(days: int, note: str = "") -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@x\r\nDTSTART;VALUE=DATE:{NOW + timedelta(days=n + 1):%Y%m%d}\r\n"
        f"SUMMARY:Restmüll\r\nDESCRIPTION:{note}\r\nEND:VEVENT\r\n"
        for n in range(days)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n".encode()


class Upstream:
    """A calendar whose body the test swaps."""

    def __init__(self, httpserver, body: bytes):
        self.body = body
        httpserver.expect_request("/abfall.ics").respond_with_handler(self.answer)
        self.url = httpserver.url_for("/abfall.ics")

    def answer(self, request):
        from werkzeug import Response

        return Response(self.body, content_type="text/calendar")


class RefusedWrites:
    """The driver refuses writes as SQLite does on a full disk (the real sqlite3 error, wrapped by SQLAlchemy
    on its real path); `tables` limits it to writes touching those tables (a disk with a little room left)."""

    def __init__(self, engine, tables: tuple[str, ...] = ()):
        self.engine, self.tables = engine, tables
        event.listen(engine, "do_execute", self.execute)

    def execute(self, cursor, statement, parameters, context):
        words = statement.split()
        write = words[0].upper() in WRITES
        if write and (not self.tables or any(t in words for t in self.tables)):
            raise sqlite3.OperationalError(FULL)
        return False  # not handled here: the dialect executes it

    def remove(self) -> None:
        event.remove(self.engine, "do_execute", self.execute)


def status_of(app, feed_id: str) -> dict:
    body = json.loads(app.test_client().get("/api/v1/status").data)
    return next(entry for entry in body["data"] if entry["id"] == feed_id) | {
        "server": body["meta"]["status"]
    }


def stored_failures(app, feed_id: str) -> int:
    """The failure count in the database itself, not as the store reports it."""
    with app.extensions["feedserver"].store.engine.connect() as connection:
        return connection.execute(select(feeds.c.failures).where(feeds.c.id == feed_id)).scalar_one()


@pytest.mark.parametrize("room", ["none", "a-little"])
def test_a_refresh_that_cannot_write_is_reported_in_one_line_and_in_the_status(
    make_app, httpserver, caplog, room
):
    upstream = Upstream(httpserver, calendar(3))
    app = make_app(FEED.format(url=upstream.url))
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        assert refresh_feed(app, "waste").ok
        good = client.get("/feeds/waste.json").data
    assert client.get("/readyz").status_code == 200
    upstream.body = calendar(5)  # two more pickups to store
    refused = RefusedWrites(app.extensions["feedserver"].store.engine, () if room == "none" else ("items",))

    with time_machine.travel(NOW + timedelta(hours=1), tick=False), caplog.at_level(logging.WARNING):
        result = refresh_feed(app, "waste")
        again = refresh_feed(app, "waste")
        status = status_of(app, "waste")
        served = client.get("/feeds/waste.json")
    assert not result.ok and FULL in result.error and "failure 1" in result.error
    assert "failure 2" in again.error  # counted on, even while the count cannot be written
    lines = [r for r in caplog.records if FULL in r.getMessage()]
    assert lines and all(
        not r.exc_info and "\n" not in r.getMessage() for r in caplog.records
    )  # no traceback
    assert lines[0].getMessage() == (
        f"refresh of waste failed: StorageError: cannot write to the database: {FULL}"
    )
    assert (status["status"], status["failures"], status["server"]) == ("stale", 2, "stale")
    assert FULL in status["last_error"] and status["stale_since"] is not None
    assert served.headers["Feedserver-Status"].startswith("stale")
    assert json.loads(served.data)["items"] == json.loads(good)["items"]  # the last good items
    # where the disk has a little room the failure itself is stored; where it has none, it is held in memory
    assert stored_failures(app, "waste") == (0 if room == "none" else 2)
    assert client.get("/readyz").status_code == (503 if room == "none" else 200)

    refused.remove()
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert refresh_feed(app, "waste").ok
        status = status_of(app, "waste")
    assert (status["status"], status["failures"], status["last_error"]) == ("ok", 0, None)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_not_ready_while_the_database_refuses_writes(make_app, httpserver):
    app = make_app(FEED.format(url=httpserver.url_for("/abfall.ics")))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    refused = RefusedWrites(app.extensions["feedserver"].store.engine)
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json["detail"] == "The database cannot be written."
    refused.remove()
    assert client.get("/readyz").status_code == 200
    with app.extensions["feedserver"].store.engine.connect() as connection:
        assert connection.execute(select(feeds.c.id)).all() == []  # the probe leaves nothing behind


@contextlib.contextmanager
def tiny_disk(path, size: str):
    """A tmpfs of `size` mounted at path (skip when this machine does not let the tests mount)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path) -> None:
    """Write a filler file until the filesystem has no byte left."""
    with open(path / "filler", "wb", buffering=0) as filler:
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0")


def test_a_real_full_disk_is_reported_and_recovered_from(tmp_path, httpserver):
    from feedserver.app import create_app

    with tiny_disk(tmp_path / "disk", "3m") as disk:
        upstream = Upstream(httpserver, calendar(3))
        config = write_config(
            tmp_path, FEED.format(url=upstream.url), storage_url=f"sqlite:///{disk}/feeds.db"
        )
        app = create_app(config)
        client = app.test_client()
        with time_machine.travel(NOW, tick=False):
            assert refresh_feed(app, "waste").ok
        fill(disk)
        upstream.body = calendar(300, "Bitte die Tonne bis 6 Uhr bereitstellen. " * 20)
        with time_machine.travel(NOW + timedelta(hours=1), tick=False):
            result = refresh_feed(app, "waste")
            status = status_of(app, "waste")
            ready = client.get("/readyz").status_code
        assert not result.ok and FULL in result.error
        assert (status["status"], status["failures"]) == ("stale", 1) and FULL in status["last_error"]
        assert ready == 503
        (disk / "filler").unlink()
        with time_machine.travel(NOW + timedelta(hours=2), tick=False):
            assert refresh_feed(app, "waste").ok
            status = status_of(app, "waste")
        assert (status["status"], status["failures"]) == ("ok", 0)
        assert client.get("/readyz").status_code == 200
        assert len(app.extensions["feedserver"].store.current_items("waste")) == 300
        app.extensions["feedserver"].store.engine.dispose()
