"""The scheduler polls each feed soon after start when it has no data, one run at a time per feed."""

from __future__ import annotations

import time

from feedserver.scheduler import build_scheduler

FEED = """
[feeds.waste-poll]
source = "ics"
title = "Polled"
every = "30s"
url = "{url}"
"""


def test_scheduler_polls_a_new_feed_without_overlap(make_app, httpserver, fixture_bytes):
    httpserver.expect_request("/cal.ics").respond_with_data(
        fixture_bytes("ics/erlensee_am_haspel_mh-online.ics"), content_type="text/calendar"
    )
    app = make_app(FEED.format(url=httpserver.url_for("/cal.ics")))
    scheduler = build_scheduler(app)
    job = scheduler.get_job("refresh:waste-poll")
    assert job.max_instances == 1 and job.coalesce
    scheduler.start()
    try:
        store = app.extensions["feedserver"].store
        deadline = time.monotonic() + 15
        while store.feed_state("waste-poll").last_success is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert store.feed_state("waste-poll").last_success is not None
    assert len(httpserver.log) == 1  # polled once, not once per worker or per start
