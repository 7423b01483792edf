"""What counting feed requests costs the hot path: the same requests with and without counting.

python bench/stats_overhead.py [REQUESTS]   (default 3000; the bundled sample calendar, a temporary SQLite)

Prints the time per request (through the WSGI stack, no network) for 200s and 304s in both setups (noisy
on a shared machine), the time spent counting per request, and the cost of one flush.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from feedserver.app import create_app
from feedserver.config import BUNDLED_SAMPLES
from feedserver.pipeline import refresh
from feedserver.push import stats
from feedserver.web import feeds

CONFIG = """
[server]
base_url = "http://127.0.0.1:8000"
licence = "cc0-1.0"
[storage]
url = "sqlite:///{db}"
[feeds.waste-bench]
source = "ics"
title = "Bench"
url = "{url}"
"""


def build(directory: Path):
    config = directory / "config.toml"
    sample = (BUNDLED_SAMPLES / "abfallplus_aichwald_test.ics").as_uri()
    config.write_text(CONFIG.format(db=directory / "bench.sqlite3", url=sample), encoding="utf-8")
    app = create_app(config)
    with app.app_context():
        assert refresh(app.extensions["feedserver"], "waste-bench").ok
    return app


def timed(client, headers: dict, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        client.get("/feeds/waste-bench.atom", headers=headers)
    return (time.perf_counter() - started) / requests * 1e6


def hook_time(client, requests: int) -> float:
    """Mean time spent counting per request, measured around the feed view's call in the live stack."""
    spent = []

    def timed_count(*args):
        started = time.perf_counter()
        stats.count_feed_request(*args)
        spent.append(time.perf_counter() - started)

    feeds.count_feed_request = timed_count
    try:
        for _ in range(requests):
            client.get("/feeds/waste-bench.atom")
    finally:
        feeds.count_feed_request = stats.count_feed_request
    return sum(spent) / len(spent) * 1e6


def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = build(Path(directory))
        client = app.test_client()
        etag = client.get("/feeds/waste-bench.atom").headers["ETag"]
        counter = app.extensions[stats.EXTENSION]
        results: dict[str, list[float]] = {k: [] for k in ("200 on", "200 off", "304 on", "304 off")}
        for run in range(6):
            for state in ("on", "off") if run % 2 else ("off", "on"):  # alternate which goes first
                # without a counter in the app, the feed view counts nothing
                app.extensions[stats.EXTENSION] = counter if state == "on" else None
                results[f"200 {state}"].append(timed(client, {}, requests // 6))
                results[f"304 {state}"].append(timed(client, {"If-None-Match": etag}, requests // 6))
        app.extensions[stats.EXTENSION] = counter
        for name, values in results.items():
            print(f"{name:>8}: {statistics.median(values):8.1f} µs/request (median of 6 runs)")
        for code in ("200", "304"):
            extra = statistics.median(results[f"{code} on"]) - statistics.median(results[f"{code} off"])
            print(f"counting cost for {code}s: {extra:+.1f} µs/request")
        spent = hook_time(client, requests)
        print(f"counting itself, timed inside real requests: {spent:.1f} µs/request (flushes included)")
        engine = app.extensions["feedserver"].store.engine
        rows = Counter({(date.today(), f"feed-{n}", "atom"): 5 for n in range(20)})
        started = time.perf_counter()
        stats.add_counts(engine, rows, Counter())
        flush_ms = (time.perf_counter() - started) * 1e3
        print(f"one flush of 20 day rows: {flush_ms:.1f} ms (every 10 s at most)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
