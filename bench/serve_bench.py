"""Serving benchmark: a cached 100-item Atom feed and its 304 revalidation under gunicorn, plus render time.

Run with `make bench` (or .venv/bin/python bench/serve_bench.py). Uses wrk when installed, else a
multi-process Python keep-alive client (slower: its figures are a lower bound). Prints one line per figure.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ITEMS = 100


def calendar(days: int) -> str:
    """An all-day waste calendar with one pickup a day for the given number of past days."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//feedserver//DE"]
    start = date.today() - timedelta(days=days + 2)
    kinds = ["Biotonne", "Papier", "Gelbe Tonne", "Restmüll"]
    for n in range(days):
        day = start + timedelta(days=n)
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{n}",
            f"DTSTAMP:{day:%Y%m%d}T000000Z",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"SUMMARY:{kinds[n % 4]}",
            "DESCRIPTION:Bitte die Tonne bis 6 Uhr bereitstellen.",
            "LOCATION:Hauptstraße, Beispielstadt",
            "END:VEVENT",
        ]
    return "\r\n".join(lines + ["END:VCALENDAR", ""])


def write_setup(directory: Path) -> Path:
    (directory / "bench.ics").write_text(calendar(ITEMS + 20), encoding="utf-8")
    config = directory / "config.toml"
    config.write_text(
        f"""
[server]
base_url = "http://127.0.0.1:{PORT}"
licence = "dl-de/by-2-0"
[storage]
url = "sqlite:///{directory / "bench.sqlite3"}"
[fetch]
allow_files = ["{directory}"]
[feeds.bench]
source = "ics"
title = "Benchmark feed"
every = "1h"
max_items = {ITEMS}
url = "{(directory / "bench.ics").as_uri()}"
""",
        encoding="utf-8",
    )
    return config


def prepare(config: Path) -> float:
    """Fetch the feed once and return the median milliseconds to render its Atom document."""
    from feedserver import create_app
    from feedserver.filters import Selection
    from feedserver.output import render
    from feedserver.pipeline import refresh

    app = create_app(config)
    runtime = app.extensions["feedserver"]
    with app.app_context():
        assert refresh(runtime, "bench").ok
        feed = runtime.feed("bench")
        now = datetime.now(UTC)
        count = len(runtime.store.messages("bench", now, ITEMS))
        assert count == ITEMS, count
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            render(runtime, feed, "atom", Selection(), now)
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def start_gunicorn(config: Path) -> subprocess.Popen:
    env = dict(os.environ, FEEDSERVER_CONFIG=str(config))
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            str(WORKERS),
            "-k",
            "gthread",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            status, _, _ = get("/healthz")
            if status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def get(path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def wrk(path: str, headers: dict) -> float:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run(args + [f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def _client_loop(path: str, headers: dict, deadline: float, expected: int, counter) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    done = 0
    while time.monotonic() < deadline:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != expected:
            raise SystemExit(f"unexpected status {response.status}")
        done += 1
    with counter.get_lock():
        counter.value += done


def python_load(path: str, headers: dict, expected: int) -> float:
    counter = multiprocessing.Value("i", 0)
    deadline = time.monotonic() + DURATION
    clients = [
        multiprocessing.Process(target=_client_loop, args=(path, headers, deadline, expected, counter))
        for _ in range(8)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    return counter.value / DURATION


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="feedserver-bench-") as tmp:
        config = write_setup(Path(tmp))
        render_ms = prepare(config)
        server = start_gunicorn(config)
        try:
            status, headers, body = get("/feeds/bench.atom")
            assert status == 200 and body.count(b"<entry>") == ITEMS
            conditional = {"If-None-Match": headers["ETag"]}
            assert get("/feeds/bench.atom", conditional)[0] == 304
            tool = "wrk" if shutil.which("wrk") else "python keep-alive client (wrk not installed)"
            load = (lambda p, h, _e: wrk(p, h)) if shutil.which("wrk") else python_load
            full = load("/feeds/bench.atom", {}, 200)
            revalidate = load("/feeds/bench.atom", conditional, 304)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        f"load generator: {tool}; gunicorn gthread, {WORKERS} workers x 4 threads; "
        f"{CONNECTIONS} connections, {DURATION} s per run; feed body {len(body)} bytes, {ITEMS} items"
    )
    print(f"cached 100-item Atom feed: {full:,.0f} requests/s")
    print(f"304 revalidation (If-None-Match): {revalidate:,.0f} requests/s")
    print(f"render 100-item Atom feed: {render_ms:.2f} ms (median of 30)")


if __name__ == "__main__":
    main()
