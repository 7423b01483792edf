"""Helpers for the push tests: the app served over real HTTP on 127.0.0.1 with its push worker, a calendar
upstream whose events the test changes, and waiting for the queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server

from feedserver.app import create_app
from feedserver.push import outbox
from feedserver.push.worker import PushWorker
from tests.services import write_config


def calendar(days_ago: list[int], label: str = "Biotonne") -> bytes:
    """An iCalendar with one all-day pickup per entry, that many days before today (so already announced)."""
    today = date.today()
    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:pickup-{n}@push-test\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;VALUE=DATE:{(today - timedelta(days=n)).strftime('%Y%m%d')}\r\n"
        f"SUMMARY:{label}\r\n"
        "END:VEVENT\r\n"
        for n in days_ago
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//push-test//EN\r\n{events}END:VCALENDAR\r\n".encode()


class Upstream:
    """A calendar served from 127.0.0.1 whose content the test replaces between refreshes."""

    def __init__(self, httpserver: HTTPServer, days_ago: list[int]):
        self.body = calendar(days_ago)
        httpserver.expect_request("/abfall.ics").respond_with_handler(self._answer)
        self.url = httpserver.url_for("/abfall.ics")

    def set(self, days_ago: list[int], label: str = "Biotonne") -> None:
        """Serve another calendar from now on."""
        self.body = calendar(days_ago, label)

    def _answer(self, request):
        from werkzeug import Response

        return Response(self.body, content_type="text/calendar; charset=utf-8")


def feed_table(url: str, feed_id: str = "waste-test") -> str:
    return f"""
[feeds.{feed_id}]
source = "ics"
title = "Abfuhr Test"
every = "1h"
attribution = "AWB Test"
url = "{url}"
"""


@contextmanager
def live_app(
    tmp_path: Path, feeds: str, extra: str = "", worker: bool = True, port: int = 0, **worker_options
):
    """The app on a real 127.0.0.1 port (its base_url), with a running push worker; stopped afterwards.

    A restart passes the previous port: the base_url, and so every topic URL, stays the same.
    """
    server = make_server("127.0.0.1", port, lambda environ, start: [], threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(write_config(tmp_path, feeds, extra, base_url=base_url))
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    push = PushWorker(app, **({"poll": 0.2} | worker_options)).start() if worker else None
    try:
        yield app
    finally:
        if push is not None:
            push.stop()
        server.shutdown()
        server.server_close()  # a restart on the same port must not wait for this object to be collected


def refresh(app, feed_id: str = "waste-test"):
    """One pipeline refresh, as the scheduler would run it."""
    from feedserver.pipeline import refresh as run

    with app.app_context():
        return run(app.extensions["feedserver"], feed_id, respect_backoff=False)


def wait_for(condition: Callable[[], object], timeout: float = 10.0, step: float = 0.05):
    """Poll until condition() is truthy; its value, or AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def queue_empty(app) -> bool:
    """True once no push job is left (nothing queued, nothing running)."""
    return outbox.pending(app.extensions["feedserver"].store.engine) == 0


def now() -> datetime:
    return datetime.now(UTC)
