"""Fault injection: a scripted upstream on 127.0.0.1 misbehaves; the feed keeps its last good items.

After every fault the feed still serves exactly the bytes it served before in every format (marked stale),
/healthz answers, the feed state and /api/v1/status show the error and the stale time, and once the upstream
behaves again the next refresh recovers without losing or duplicating an item.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import time_machine
from click.testing import CliRunner
from werkzeug import Response

from feedserver.cli import main
from feedserver.guard import check_deletions, guarded
from feedserver.items import make_item
from feedserver.registry import load_source, source_kinds
from tests.conftest import refresh_feed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CALENDAR = "ics/awb_limburg_weilburg_export.ics"
FORMATS = ("rss", "atom", "json", "ics")
FEED = """
[feeds.waste-test]
source = "ics"
title = "Abfuhr Test"
every = "1h"
url = "{url}"
"""
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Wartung</title></head><body>Bitte warten</body></html>"
TWO_PICKUPS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:a@test\r
DTSTART;VALUE=DATE:20261201\r
SUMMARY:Restabfall\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:b@test\r
DTSTART;VALUE=DATE:20261202\r
SUMMARY:Bioabfall\r
END:VEVENT\r
END:VCALENDAR\r
"""
_bomb: list[bytes] = []


def gzip_bomb() -> bytes:
    """40 MiB of calendar-looking bytes in about 40 KB of gzip (twice the default byte cap)."""
    if not _bomb:
        _bomb.append(gzip.compress(b"BEGIN:VCALENDAR\r\n" + b"\0" * (40 * 1024 * 1024), 9))
    return _bomb[0]


class Upstream:
    """The scripted upstream: /cal.ics answers according to `mode`, switched by the test."""

    def __init__(self, httpserver, good: bytes, cut_url: str):
        self.mode, self.good, self.cut_url, self.calls = "good", good, cut_url, 0
        httpserver.expect_request("/cal.ics").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/cal.ics")

    def handle(self, request) -> Response:
        self.calls += 1
        return getattr(self, f"answer_{self.mode}")()

    def answer_good(self):
        return Response(self.good, content_type="text/calendar")

    def answer_drip(self):
        def drip():
            yield b"BEGIN:VCALENDAR\r\n"
            for _ in range(30):  # one byte every 0.1 s, well inside any read timeout
                if self.mode != "drip":
                    return  # the test moved on: free the single-threaded test server
                time.sleep(0.1)
                yield b"X"

        return Response(drip(), content_type="text/calendar", direct_passthrough=True)

    def answer_bomb(self):
        return Response(gzip_bomb(), content_type="text/calendar", headers={"Content-Encoding": "gzip"})

    def answer_loop(self):
        return Response(status=302, headers={"Location": "/cal.ics"})

    def answer_metadata(self):
        return Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    def answer_rate_limited(self):
        return Response("slow down", status=429, headers={"Retry-After": "3600"})

    def answer_unavailable(self):
        return Response("maintenance", status=503)

    def answer_html(self):
        return Response(HTML_PAGE, content_type="text/html; charset=utf-8")

    def answer_html_as_calendar(self):
        return Response(HTML_PAGE, content_type="text/calendar")

    def answer_truncated(self):
        return Response(self.good[: len(self.good) // 2], content_type="text/calendar")

    def answer_cut(self):
        return Response(status=302, headers={"Location": self.cut_url})

    def answer_garbage(self):
        return Response(bytes(range(256)) * 64, content_type="text/calendar")

    def answer_two(self):
        return Response(TWO_PICKUPS, content_type="text/calendar")


@pytest.fixture
def cut_server():
    """A raw upstream that promises 50 000 bytes, sends 200 and closes the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.recv(4096)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: 50000\r\n\r\n"
                + b"BEGIN:VCALENDAR\r\n" * 10
            )
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/cal.ics"
    stop.set()
    thread.join()
    listener.close()


@pytest.fixture
def served(make_app, httpserver, fixture_bytes, cut_server):
    """An app whose feed was fetched once from a good upstream, with the bytes it served in every format."""
    with time_machine.travel(NOW, tick=True):
        upstream = Upstream(httpserver, fixture_bytes(CALENDAR), cut_server)
        app = make_app(FEED.format(url=upstream.url))
        assert refresh_feed(app, "waste-test").changes.added == 42
        client = app.test_client()
        good = {fmt: client.get(f"/feeds/waste-test.{fmt}").data for fmt in FORMATS}
        yield app, upstream, good
        upstream.mode = "good"


def tune(app, **limits) -> None:
    """Change [fetch] limits of a running app (settings are frozen; the runtime holds the current ones)."""
    runtime = app.extensions["feedserver"]
    runtime.settings = replace(runtime.settings, fetch=replace(runtime.settings.fetch, **limits))


def assert_still_serving(app, good: dict[str, bytes], error: str) -> None:
    """Last good bytes in every format, marked stale; process alive; state and status API show the error."""
    client = app.test_client()
    for fmt, body in good.items():
        response = client.get(f"/feeds/waste-test.{fmt}")
        assert response.status_code == 200 and response.data == body, fmt
        assert response.headers["Feedserver-Status"].startswith("stale; since="), fmt
    assert len(feedparser.parse(good["atom"]).entries) > 0
    assert client.get("/healthz").get_json() == {"status": "ok"}
    state = app.extensions["feedserver"].store.feed_state("waste-test")
    assert error in state.last_error and state.stale_since is not None and state.failures >= 1
    entry = next(e for e in client.get("/api/v1/status").get_json()["data"] if e["id"] == "waste-test")
    assert entry["status"] == "stale" and error in entry["last_error"]
    assert entry["stale_since"] is not None and entry["failures"] == state.failures


def assert_recovers(app, upstream, good: dict[str, bytes]) -> None:
    """With the upstream healthy again: ok, not stale, the same items (none lost, none duplicated)."""
    upstream.mode = "good"
    result = refresh_feed(app, "waste-test")
    assert result.ok and not result.changes.any, result.line()
    state = app.extensions["feedserver"].store.feed_state("waste-test")
    assert state.stale_since is None and state.last_error is None
    client = app.test_client()
    response = client.get("/feeds/waste-test.json")
    assert "Feedserver-Status" not in response.headers
    ids = [item["id"] for item in response.get_json()["items"]]
    good_ids = [item["id"] for item in feedparser.parse(good["json"]).entries] or ids
    assert len(ids) == len(set(ids)) and ids == good_ids
    assert client.get("/feeds/waste-test.ics").data == good["ics"]


@pytest.mark.parametrize(
    "mode,limits,error",
    [
        ("drip", {"deadline": 1.0}, "no complete response within 1 s"),
        ("bomb", {}, "response larger than 20971520 bytes"),
        ("loop", {}, "more than 3 redirects"),
        ("metadata", {}, "169.254.169.254 is not a public address"),
        ("rate_limited", {}, "HTTP 429"),
        ("unavailable", {}, "HTTP 503"),
        ("html", {}, "unexpected content type 'text/html'"),
        ("html_as_calendar", {}, "answered with an HTML page instead of data"),
        ("truncated", {}, "invalid iCalendar data"),
        ("cut", {}, "IncompleteRead"),
        ("garbage", {}, "not an iCalendar document"),
        # the recorded calendar has 9 pickups still to come; the guard's minimum is lowered to see them held
        ("two", {"deletion_guard_min": 5}, "would remove 9 of 9 current items (100 %)"),
    ],
)
def test_fault_keeps_last_good_items_and_reports_it(served, mode, limits, error):
    app, upstream, good = served
    tune(app, **limits)
    upstream.mode = mode
    with time_machine.travel(NOW + timedelta(minutes=5), tick=True):
        started = time.monotonic()
        result = refresh_feed(app, "waste-test")
        took = time.monotonic() - started
        assert not result.ok and error in result.error, result.error
        assert took < 5  # every fault is cut off quickly, whatever the upstream does
        assert_still_serving(app, good, error)
        assert_recovers(app, upstream, good)


def test_retry_after_is_honoured_before_the_next_poll(served):
    app, upstream, _ = served
    upstream.mode = "rate_limited"
    at = NOW + timedelta(minutes=5)
    with time_machine.travel(at, tick=False):
        assert not refresh_feed(app, "waste-test").ok
    state = app.extensions["feedserver"].store.feed_state("waste-test")
    assert state.retry_at >= at + timedelta(seconds=3600)
    calls = upstream.calls
    from feedserver.pipeline import refresh

    with app.app_context(), time_machine.travel(at + timedelta(minutes=30), tick=False):
        skipped = refresh(app.extensions["feedserver"], "waste-test")  # the scheduler's call respects it
    assert skipped.skipped and upstream.calls == calls


def test_backoff_grows_with_jitter_capped_at_a_day_and_never_gives_up(served):
    app, upstream, _ = served
    upstream.mode = "unavailable"
    store = app.extensions["feedserver"].store
    waits = []
    for n in range(12):
        at = NOW + timedelta(days=n)
        with time_machine.travel(at, tick=False):
            assert not refresh_feed(app, "waste-test").ok
        waits.append(store.feed_state("waste-test").retry_at - at)
    assert waits[0] == timedelta(0)  # the first failure retries at the next tick
    assert waits[1] < waits[3] < waits[5]
    assert all(w <= timedelta(days=1) for w in waits) and waits[-1] >= timedelta(hours=19)
    assert store.feed_state("waste-test").failures == 12


def test_held_deletion_is_applied_once_an_operator_accepts_it(served, tmp_path):
    app, upstream, good = served
    tune(app, deletion_guard_min=5)  # the recorded calendar has 9 pickups still to come
    upstream.mode = "two"
    with time_machine.travel(NOW + timedelta(minutes=5), tick=True):
        held = refresh_feed(app, "waste-test")
        assert "--accept-deletions waste-test" in held.error
        assert_still_serving(app, good, "held")
        again = refresh_feed(app, "waste-test")  # still held on the next poll: never applied silently
        assert not again.ok and "held" in again.error
        result = CliRunner().invoke(
            main, ["--config", str(tmp_path / "config.toml"), "fetch", "--accept-deletions", "waste-test"]
        )
        assert result.exit_code == 0, result.output
        assert (
            "waste-test: ok, 4 new, 0 changed, 42 gone"
        )  # 2 pickups and 2 moved-pickup notices in result.output
        state = app.extensions["feedserver"].store.feed_state("waste-test")
        assert state.stale_since is None and state.last_error is None
        client = app.test_client()
        before_sync = client.get("/feeds/waste-test.ics").data  # this process still has its cached bytes
        assert refresh_feed(app, "waste-test").ok  # its next poll finds the data applied by the CLI ...
        after_sync = client.get("/feeds/waste-test.ics")  # ... and serves what the store holds
    assert before_sync == good["ics"]
    assert after_sync.data.count(b"BEGIN:VEVENT") == 2 and "Feedserver-Status" not in after_sync.headers


def test_accept_deletions_needs_feed_ids(tmp_path, served):
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "config.toml"), "fetch", "--accept-deletions"]
    )
    assert result.exit_code == 2 and "needs the feed id" in result.output


@pytest.mark.parametrize("kind", source_kinds())
def test_guard_is_off_exactly_for_sources_whose_items_churn(kind):
    churning = load_source(kind).KIND in ("transit", "air", "alerts", "announcements")
    assert guarded(kind) is not churning


def _pickups(days: list[int]):
    base = NOW.date()
    return [
        make_item("f", f"p{d}", title=f"P{d}", published=NOW, starts=base + timedelta(days=d)) for d in days
    ]


@pytest.mark.parametrize(
    "current,fetched,held",
    [
        (list(range(1, 21)), list(range(1, 10)), True),  # 11 of 20 upcoming pickups gone
        (list(range(1, 21)), list(range(1, 12)), False),  # 9 of 20: within the ratio
        (list(range(1, 9)), [], False),  # fewer items than the minimum
        (list(range(-30, 0)) + [1, 2, 3], [1, 2, 3], False),  # only past pickups left: natural
        (list(range(-30, 0)) + list(range(1, 13)), list(range(-30, 0)), True),
    ],
)
def test_guard_counts_only_items_that_still_matter(current, fetched, held):
    from feedserver.fetch import FetchSettings
    from feedserver.guard import MassDeletion

    limits = FetchSettings()
    if held:
        with pytest.raises(MassDeletion, match="accept-deletions f"):
            check_deletions("f", _pickups(current), _pickups(fetched), limits, NOW)
    else:
        check_deletions("f", _pickups(current), _pickups(fetched), limits, NOW)


SOURCE_FEEDS = {
    "ics": 'url = "{base}/cal.ics"',
    "csv": 'url = "{base}/table.csv"\ncolumns = {{ date = "Datum", type = "Art" }}',
    "abfallnavi": 'service = "aachen"\nplace = "Aachen"\nstreet = "Abteiplatz"\nbase_url = "{base}"',
    "jumomind": 'service = "hom"\ncity_id = "1"\narea_id = "411"\nbase_url = "{base}/mmapp/api.php"',
    "uba_air": 'station = "DEBE034"\nbase_url = "{base}"',
    "openaq": 'location_id = 2178\nbase_url = "{base}"',
    "open311": 'endpoint = "{base}/georeport/v2"',
    "gtfs_rt": 'trip_updates_url = "{base}/tu.pb"\nalerts_url = "{base}/alerts.pb"',
    "hafas": 'base_url = "{base}"\nstop = "900000100001"',
    "cap": 'url = "{base}/cap.atom"',
    "nina": 'region = "081160000000"\nbase_url = "{base}"',
}
WRONG_SHAPES = {
    "html-page": (HTML_PAGE, "text/html; charset=utf-8"),
    "html-page-labelled-as-data": (HTML_PAGE, "application/json"),
    "wrong-json": (b'{"unexpected": true, "data": "x", "results": 3}', "application/json"),
    "empty": (b"", "application/octet-stream"),
    "garbage": (bytes(range(256)) * 16, "application/octet-stream"),
}


def test_every_source_kind_with_an_upstream_is_checked_here():
    assert set(SOURCE_FEEDS) == {k for k in source_kinds() if load_source(k).KIND != "announcements"}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
@pytest.mark.parametrize("kind", SOURCE_FEEDS)
def test_every_source_raises_on_a_wrong_shape_instead_of_returning_nothing(make_app, httpserver, kind, shape):
    import re

    body, content_type = WRONG_SHAPES[shape]
    httpserver.expect_request(re.compile(".*")).respond_with_data(body, content_type=content_type)
    base = httpserver.url_for("").rstrip("/")
    options = SOURCE_FEEDS[kind].format(base=base)
    app = make_app(f'[feeds.wrong]\nsource = "{kind}"\ntitle = "Wrong"\n{options}\n')
    with time_machine.travel(NOW, tick=True):
        result = refresh_feed(app, "wrong")
    assert not result.ok, f"{kind} accepted {shape}: {result.line()}"
    assert result.error and app.extensions["feedserver"].store.current_items("wrong") == []
