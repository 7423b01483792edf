"""What operators scrape at /metrics (Prometheus text format, prometheus_client): polls and their duration per
source kind, failures and stale feeds, push queue depths and delivery latency per channel, requests and 304s
per route class.

Counters and histograms live in this process; under gunicorn, where several processes serve, set
PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py does) and prometheus_client keeps them in files that the
scraped process adds up. Gauges of shared state (queue depths, stale feeds) are read from the database at
scrape time, so every process reports the same numbers. Sources and kinds never import this module: the
core observes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from .tables import feeds, push_jobs

POLLS = Counter("feedserver_polls_total", "Upstream polls by source kind and outcome.", ["kind", "outcome"])
POLL_SECONDS = Histogram(
    "feedserver_poll_seconds", "Duration of a poll (fetch, parse, store, publish) by source kind.", ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)  # fmt: skip
REQUESTS = Counter(
    "feedserver_requests_total", "HTTP requests by route class and status.", ["route", "status"]
)
DELIVERIES = Counter(
    "feedserver_deliveries_total", "Push jobs done by channel and outcome.", ["channel", "outcome"]
)
DELIVERY_SECONDS = Histogram(
    "feedserver_delivery_latency_seconds", "From queueing to delivery, by channel.", ["channel"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400),
)  # fmt: skip
CHANNELS = {  # push job kinds -> the channel operators know them as
    "websub-deliver": "websub", "ap-deliver": "activitypub", "channel-deliver": "social",
    "webpush-deliver": "webpush", "websub-verify": "websub", "ap-inbox": "inbox", "event": "fan-out",
}  # fmt: skip


def observe_poll(kind: str, seconds: float, ok: bool, skipped: bool, not_modified: bool) -> None:
    """One refresh of a feed of this kind finished."""
    outcome = "skipped" if skipped else "failed" if not ok else "not-modified" if not_modified else "ok"
    POLLS.labels(kind, outcome).inc()
    if not skipped:
        POLL_SECONDS.labels(kind).observe(seconds)


def observe_request(route: str, status: int) -> None:
    """One HTTP answer of a route class (page, data, widget, admin)."""
    REQUESTS.labels(route, str(status)).inc()


def observe_delivery(kind: str, queued_at: datetime | None, now: datetime, ok: bool) -> None:
    """One push job done (or given up)."""
    channel = CHANNELS.get(kind, kind)
    DELIVERIES.labels(channel, "ok" if ok else "failed").inc()
    if ok and queued_at is not None:
        DELIVERY_SECONDS.labels(channel).observe(max(0.0, (now - queued_at).total_seconds()))


class StoreCollector:
    """Gauges read from the database at scrape time: queue depths per channel, stale and failing feeds."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """The gauges of this scrape."""
        depth = GaugeMetricFamily(
            "feedserver_queue_depth", "Push jobs waiting, by channel.", labels=["channel"]
        )
        with self.engine.connect() as connection:
            for kind, count in connection.execute(
                select(push_jobs.c.kind, func.count()).group_by(push_jobs.c.kind)
            ):
                depth.add_metric([CHANNELS.get(kind, kind)], count)
            stale = connection.execute(
                select(func.count()).where(feeds.c.stale_since.is_not(None))
            ).scalar_one()
            failing = connection.execute(select(func.count()).where(feeds.c.failures > 0)).scalar_one()
        yield depth
        yield GaugeMetricFamily(
            "feedserver_stale_feeds", "Feeds served from their last good data.", value=stale
        )
        yield GaugeMetricFamily("feedserver_failing_feeds", "Feeds whose last poll failed.", value=failing)


def exposition(engine) -> bytes:
    """The text a scrape gets: this process's (or all processes') metrics and the store's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (POLLS, POLL_SECONDS, REQUESTS, DELIVERIES, DELIVERY_SECONDS):
            registry.register(metric)
    registry.register(StoreCollector(engine))
    return generate_latest(registry)
