"""Several instances on the real PostgreSQL and Redis: two web apps and two `feedserver worker` processes
share one database and one cache; one worker polls (the leader lock), the other takes over when it dies."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import defaultdict

import pytest
from sqlalchemy import create_engine, event, text
from werkzeug import Request, Response

from feedserver.app import create_app
from feedserver.leader import LEADER_LOCK_KEY
from tests.conftest import refresh_feed
from tests.services import cluster_config, feedserver_process, wait_for, waste_calendar

pytestmark = pytest.mark.services
EVERY = 30  # seconds: the shortest polling interval the config allows
JITTER = EVERY // 10  # the scheduler's jitter for this interval (scheduler.py)
RETRY = 1.0  # the standby's retry period in these tests (--standby-retry)
LOCAL_SECONDS = 1.0  # [cache] local_seconds default: how long a web process keeps its near copy
FEED_IDS = ("waste-north", "waste-south")
FEEDS = "".join(
    f"""
[feeds.{feed_id}]
source = "ics"
title = "Abfuhr {feed_id}"
every = "{EVERY}s"
url = "{{base}}/cal/{feed_id}.ics"
"""
    for feed_id in FEED_IDS
)


class Upstream:
    """A calendar server that notes when each path was fetched; `suffix` changes every title."""

    def __init__(self):
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.suffix = ""
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.hits[request.path].append(time.monotonic())
        return Response(waste_calendar(20, self.suffix), content_type="text/calendar; charset=utf-8")

    def count(self, feed_id: str) -> int:
        return len(self.hits[f"/cal/{feed_id}.ics"])

    def times(self, feed_id: str) -> list[float]:
        return list(self.hits[f"/cal/{feed_id}.ics"])


@pytest.fixture
def upstream(httpserver) -> Upstream:
    server = Upstream()
    httpserver.expect_request(re.compile(r"^/cal/[a-z-]+\.ics$")).respond_with_handler(server.handle)
    return server


@pytest.fixture
def config(tmp_path, migrated_pg_url, redis_prefix, httpserver):
    redis_url, prefix, _client = redis_prefix
    feeds = FEEDS.format(base=httpserver.url_for("").rstrip("/"))
    return cluster_config(tmp_path, migrated_pg_url, redis_url, prefix, feeds)


def count_statements(app) -> list[str]:
    """Record every SQL statement the app's store runs from now on."""
    statements: list[str] = []
    engine = app.extensions["feedserver"].store.engine
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    return statements


def test_two_web_instances_serve_identical_bytes_from_one_database_and_cache(config, upstream, redis_prefix):
    _url, prefix, redis = redis_prefix
    worker = create_app(config)
    for feed_id in FEED_IDS:
        assert refresh_feed(worker, feed_id).changes.added == 20
    web_a, web_b = create_app(config), create_app(config)
    statements_b = count_statements(web_b)
    for fmt in ("rss", "atom", "json", "ics"):
        a = web_a.test_client().get(f"/feeds/waste-north.{fmt}")
        assert a.status_code == 200
        assert redis.exists(f"{prefix}r:waste-north:{fmt}")  # web A put the bytes in the shared cache
        b = web_b.test_client().get(f"/feeds/waste-north.{fmt}")
        assert b.data == a.data
        for header in ("ETag", "Last-Modified", "Content-Type", "Cache-Control"):
            assert b.headers[header] == a.headers[header]
        revalidated = web_b.test_client().get(
            f"/feeds/waste-north.{fmt}", headers={"If-None-Match": a.headers["ETag"]}
        )
        assert revalidated.status_code == 304
    assert statements_b == []  # web B served all of it from the cache web A filled: not one SQL statement


def test_a_change_polled_by_the_worker_invalidates_the_shared_cache(config, upstream, redis_prefix):
    _url, prefix, redis = redis_prefix
    worker = create_app(config)
    assert refresh_feed(worker, "waste-north").ok
    web_a, web_b = create_app(config), create_app(config)
    before = web_a.test_client().get("/feeds/waste-north.json")
    assert web_b.test_client().get("/feeds/waste-north.json").data == before.data
    assert redis.exists(f"{prefix}r:waste-north:json")
    upstream.suffix = " (verschoben)"
    result = refresh_feed(worker, "waste-north")
    assert result.ok and result.changes.any
    changed = time.monotonic()
    assert not redis.exists(f"{prefix}r:waste-north:json")  # the pipeline dropped the shared entry at once
    # Each web process may answer from its near copy (feedserver/nearcache.py) for [cache] local_seconds.
    after_a = wait_for(lambda: _new(web_a, before), 5, step=0.05, what="web A to serve the change")
    after_b = wait_for(lambda: _new(web_b, before), 5, step=0.05, what="web B to serve the change")
    assert time.monotonic() - changed <= LOCAL_SECONDS + 0.5
    assert after_a.data == after_b.data != before.data
    assert after_a.headers["ETag"] == after_b.headers["ETag"] != before.headers["ETag"]
    assert all("(verschoben)" in i["title"] for i in after_a.get_json()["items"])
    stale = web_b.test_client().get(
        "/feeds/waste-north.json", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert stale.status_code == 200  # the old ETag no longer matches anywhere


def _new(app, before):
    response = app.test_client().get("/feeds/waste-north.json")
    return response if response.data != before.data else None


def leader_pid(engine) -> int | None:
    """The process id of the worker holding the leader lock (from its connection's application_name)."""
    query = text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as connection:
        name = connection.execute(query, {"key": LEADER_LOCK_KEY}).scalar()
    return int(name.rsplit("-", 1)[1]) if name else None


def test_two_workers_poll_once_per_interval_and_the_standby_takes_over(
    tmp_path, config, upstream, migrated_pg_url
):
    engine = create_engine(migrated_pg_url)
    leader = feedserver_process(config, "worker", "--standby-retry", str(RETRY), log=tmp_path / "w1.log")
    standby = None
    try:
        wait_for(lambda: leader_pid(engine) == leader.pid, 30, what="the first worker to take the lock")
        standby = feedserver_process(config, "worker", "--standby-retry", str(RETRY), log=tmp_path / "w2.log")
        wait_for(lambda: "standby:" in (tmp_path / "w2.log").read_text(), 30, what="the second to stand by")

        # Both workers run for more than one interval: every feed is fetched once at start and once a
        # (jittered) interval later, never twice, although two schedulers are configured with the feeds.
        for feed_id in FEED_IDS:
            wait_for(lambda f=feed_id: upstream.count(f) == 2, EVERY + JITTER + 15, what=f"{feed_id} twice")
        assert leader.poll() is None and standby.poll() is None
        for feed_id in FEED_IDS:
            first, second = upstream.times(feed_id)
            assert EVERY - 1 <= second - first <= EVERY + JITTER + 2
        web_a, web_b = create_app(config), create_app(config)
        old = web_a.test_client().get("/feeds/waste-south.atom")
        assert web_b.test_client().get("/feeds/waste-south.atom").data == old.data

        # The leader dies without a goodbye; the standby holds the lock within its retry period.
        upstream.suffix = " (neu)"
        leader.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        leader.wait(timeout=10)
        wait_for(lambda: leader_pid(engine) == standby.pid, EVERY, step=0.05, what="the standby to take over")
        takeover = time.monotonic() - killed
        assert takeover <= RETRY + 2, takeover

        # It polls when the feeds fall due, one interval after the last poll (not at once, not later).
        for feed_id in FEED_IDS:
            wait_for(
                lambda f=feed_id: upstream.count(f) == 3, EVERY + 15, what=f"{feed_id} polled by the standby"
            )
            second, third = upstream.times(feed_id)[1:]
            assert EVERY - 2 <= third - second <= EVERY + JITTER + RETRY + 5
        new = wait_for(
            lambda: (r := web_a.test_client().get("/feeds/waste-south.atom")).data != old.data and r,
            10,
            what="web A to serve the standby's new data",
        )
        assert b"(neu)" in new.data
        assert web_b.test_client().get("/feeds/waste-south.atom").data == new.data
        time.sleep(2)
        assert [upstream.count(f) for f in FEED_IDS] == [3, 3]  # still once per interval after the takeover

        standby.send_signal(signal.SIGTERM)
        assert standby.wait(timeout=30) == 0  # a clean stop gives the lock back
        assert leader_pid(engine) is None
    finally:
        for process in (leader, standby):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        engine.dispose()
    print(f"takeover after the leader was killed: {takeover:.2f} s (interval {EVERY} s)")
