"""The leader lock: one holder per database; a leader whose lock connection dies stops polling at once and
the lock goes to one worker again; jobs of a worker that is not the leader do nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from feedserver.app import create_app
from feedserver.leader import LEADER_LOCK_KEY, FileLock, Leadership, PostgresLock, SoleLock, leader_lock
from feedserver.scheduler import BackgroundPoller, build_scheduler, run_refresh
from tests.services import cluster_config, wait_for, waste_calendar

FEED = """
[feeds.waste-led]
source = "ics"
title = "Geführt"
every = "30s"
url = "{url}"
"""


def test_file_lock_admits_one_holder_per_database(tmp_path):
    first, second = FileLock(tmp_path / "db.leader"), FileLock(tmp_path / "db.leader")
    assert first.acquire() and first.held()
    assert not second.acquire()  # a second worker on the same SQLite file stands by
    first.release()
    assert second.acquire()
    second.release()


def test_the_lock_fits_the_database(make_app, tmp_path):
    app = make_app("")
    lock = leader_lock(app.extensions["feedserver"].store)
    assert isinstance(lock, FileLock) and lock.path == tmp_path / "feeds.sqlite3.leader"
    from feedserver.store import Store

    assert isinstance(leader_lock(Store("sqlite:///:memory:")), SoleLock)


def test_a_job_of_a_worker_that_is_not_the_leader_polls_nothing(make_app, httpserver):
    httpserver.expect_request("/cal.ics").respond_with_data(waste_calendar(5), content_type="text/calendar")
    app = make_app(FEED.format(url=httpserver.url_for("/cal.ics")))
    run_refresh(app, "waste-led", may_run=lambda: False)
    assert len(httpserver.log) == 0
    run_refresh(app, "waste-led", may_run=lambda: True)
    assert len(httpserver.log) == 1


def test_serve_polls_only_while_it_holds_the_leader_lock(make_app, httpserver):
    """`feedserver serve` takes the worker's lock: two on one database, or a serve and a worker, poll once."""
    httpserver.expect_request("/cal.ics").respond_with_data(waste_calendar(5), content_type="text/calendar")
    app = make_app(FEED.format(url=httpserver.url_for("/cal.ics")))
    pollers = [BackgroundPoller(app, retry=0.1).start() for _ in range(2)]
    try:
        wait_for(lambda: len(httpserver.log) == 1, 15, what="the first poll")
        leading = [p for p in pollers if p.leadership.leading.is_set()]
        assert len(leading) == 1
        standby = next(p for p in pollers if p is not leading[0])
        threading.Event().wait(0.5)  # several standby retries: still one leader, one poll
        assert not standby.leadership.leading.is_set() and len(httpserver.log) == 1
        leading[0].stop()
        wait_for(standby.leadership.leading.is_set, 5, step=0.05, what="the standby to lead")
    finally:
        for poller in pollers:
            poller.stop()


@pytest.mark.services
def test_a_leader_that_loses_its_connection_stops_and_the_standby_leads(
    tmp_path, migrated_pg_url, redis_prefix, httpserver
):
    httpserver.expect_request("/cal.ics").respond_with_data(waste_calendar(5), content_type="text/calendar")
    redis_url, prefix, _client = redis_prefix
    config = cluster_config(
        tmp_path, migrated_pg_url, redis_url, prefix, FEED.format(url=httpserver.url_for("/cal.ics"))
    )
    app = create_app(config)
    stop = threading.Event()
    workers = [
        Leadership(PostgresLock(migrated_pg_url), lambda may_run: build_scheduler(app, may_run=may_run), 0.2)
        for _ in range(2)
    ]
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    engine = create_engine(migrated_pg_url)
    try:
        wait_for(lambda: sum(w.leading.is_set() for w in workers) == 1, 10, what="one leader")
        leader = next(w for w in workers if w.leading.is_set())
        standby = next(w for w in workers if w is not leader)
        with engine.begin() as connection:  # the leader's connection dies (a network cut, a DB restart)
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND objid = :key AND granted"
                ),
                {"key": LEADER_LOCK_KEY},
            )
        wait_for(lambda: not leader.leading.is_set(), 5, step=0.05, what="the old leader to stop")
        # The lock is free: whichever worker tries first leads (usually the standby), never both.
        wait_for(lambda: sum(w.leading.is_set() for w in workers) == 1, 5, step=0.05, what="a new leader")
        assert standby.lock.held() or leader.lock.held()
        assert not (standby.lock.held() and leader.lock.held())
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        engine.dispose()
