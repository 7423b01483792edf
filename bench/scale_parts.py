"""Set-up and the figures of the scale benchmark besides raw serving: cold filtered render, web-worker memory
with 10,000 configured feeds, and the worker's poll throughput against a local upstream."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
PG_ADMIN = os.environ.get("FEEDSERVER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FEEDSERVER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ITEMS = 100


def calendar(days: int, tag: str = "bench-", summary_suffix: str = "") -> str:
    """An all-day waste calendar with one pickup a day over the past `days` days (so all are published);
    UIDs are `<tag><n>`. The benchmarks' feed, and the tests' (tests/services.waste_calendar)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//feedserver//DE"]
    start = date.today() - timedelta(days=days + 2)
    kinds = ["Biotonne", "Papier", "Gelbe Tonne", "Restmüll"]
    for n in range(days):
        day = start + timedelta(days=n)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{tag}{n}",
            f"DTSTAMP:{day:%Y%m%d}T000000Z",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"SUMMARY:{kinds[n % 4]}{summary_suffix}",
            "DESCRIPTION:Bitte die Tonne bis 6 Uhr bereitstellen.",
            "LOCATION:Hauptstraße, Beispielstadt",
            "END:VEVENT",
        ]
    return "\r\n".join(lines + ["END:VCALENDAR", ""])


def feed_table(feed_id: str, url: str) -> str:
    """One ics feed of the benchmark."""
    return (
        f'\n[feeds.{feed_id}]\nsource = "ics"\ntitle = "Feed {feed_id}"\nevery = "1h"\n'
        f'max_items = {ITEMS}\nurl = "{url}"\n'
    )


def write_config(directory: Path, storage: str, cache: str, feeds: str, port: int = 8000) -> Path:
    """A config.toml for the benchmark; `cache` is a [cache] body."""
    config = directory / f"config-{uuid.uuid4().hex[:6]}.toml"
    config.write_text(
        f"""
[server]
base_url = "http://127.0.0.1:{port}"
licence = "dl-de/by-2-0"
[storage]
url = "{storage}"
[cache]
{cache}
[api]
rate_limit_enabled = true
[fetch]
allow_files = ["{directory}"]
allow_networks = ["127.0.0.0/8"]
{feeds}
""",
        encoding="utf-8",
    )
    return config


# --- services ----------------------------------------------------------------------------------------
def postgres_and_redis() -> tuple[str, str] | None:
    """(a fresh PostgreSQL database URL, Redis URL) when both answer, else None."""
    try:
        import psycopg
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=2) as admin:
            name = f"feedserver_bench_{os.getpid()}"
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure means: run without them, and say so
        print(f"PostgreSQL/Redis not used: {type(exc).__name__}: {exc}")
        return None
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", REDIS_URL


def drop_database(url: str) -> None:
    """Drop the benchmark's PostgreSQL database."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def start_gunicorn(app_spec: str, port: int, env: dict) -> subprocess.Popen:
    """gunicorn with deploy/gunicorn.conf.py on 127.0.0.1:port; returns once /healthz answers."""
    environment = dict(os.environ, FEEDSERVER_BIND=f"127.0.0.1:{port}", FEEDSERVER_LOG_LEVEL="warning", **env)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen([str(gunicorn), "-c", str(GUNICORN_CONF), app_spec], cwd=ROOT, env=environment)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn {app_spec} exited with {process.returncode}")
        try:
            if get(port, "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn {app_spec} did not start")


def stop(process: subprocess.Popen) -> None:
    """Terminate a server and wait for it."""
    process.terminate()
    process.wait(timeout=30)


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One GET on loopback: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


# --- figures -----------------------------------------------------------------------------------------
def cold_filtered_render_ms(app, feed_id: str, runs: int = 30) -> float:
    """Median milliseconds for a filtered request with an empty cache (parse filters, select, render)."""
    runtime = app.extensions["feedserver"]
    client = app.test_client()
    timings = []
    for _ in range(runs):
        runtime.cache.clear()
        started = time.perf_counter()
        response = client.get(f"/feeds/{feed_id}.atom?category=organic,paper")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings)


def worker_rss(directory: Path, feeds: int, port: int) -> tuple[float, float]:
    """(RSS in MiB of one gunicorn web worker with `feeds` configured feeds after a few requests, start s)."""
    config = many_feeds_config(directory, feeds)
    started = time.monotonic()
    server = start_gunicorn(
        "wsgi:app", port, {"FEEDSERVER_CONFIG": str(config), "FEEDSERVER_WEB_WORKERS": "1"}
    )
    startup = time.monotonic() - started
    try:
        for path in ("/healthz", "/feeds/feed-00000.atom", "/opml", "/"):
            get(port, path)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        status = Path(f"/proc/{children[0]}/status").read_text()
        rss_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    finally:
        stop(server)
    return rss_kib / 1024, startup


def many_feeds_config(directory: Path, feeds: int) -> Path:
    """A config with `feeds` calendar feeds (directory/bench.ics), on its own SQLite file."""
    calendar_file = directory / "bench.ics"
    tables = "".join(feed_table(f"feed-{n:05d}", calendar_file.as_uri()) for n in range(feeds))
    storage = f"sqlite:///{directory / f'feeds-{feeds}-{uuid.uuid4().hex[:6]}.sqlite3'}"
    return write_config(directory, storage, 'type = "SimpleCache"', tables)


def catalogue_api_seconds(directory: Path, feeds: int) -> tuple[float, float]:
    """(first /api/v1/feeds, median of 5 after one feed's state changed) in seconds, in process."""
    from datetime import UTC, datetime

    from feedserver.app import create_app

    app = create_app(many_feeds_config(directory, feeds))
    client, store = app.test_client(), app.extensions["feedserver"].store
    started = time.perf_counter()
    assert client.get("/api/v1/feeds").status_code == 200
    first = time.perf_counter() - started
    again = []
    for n in range(5):
        store.record_attempt(f"feed-{n:05d}", "ics", datetime.now(UTC))
        started = time.perf_counter()
        assert client.get("/api/v1/feeds").status_code == 200
        again.append(time.perf_counter() - started)
    return first, statistics.median(again)


class _Upstream(BaseHTTPRequestHandler):
    """A calendar upstream with an ETag, answering 304 to a matching If-None-Match."""

    body = b""
    etag = '"bench-v1"'

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("ETag", self.etag)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args):
        pass


def poll_throughput(directory: Path, storage: str, cache: str, feeds: int = 200) -> tuple[float, float]:
    """(feeds/s on first poll with new data, feeds/s on a re-poll answered 304) with 10 threads."""
    from feedserver.app import create_app
    from feedserver.pipeline import refresh

    _Upstream.body = calendar(ITEMS + 20).encode()
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{upstream.server_port}"
    tables = "".join(feed_table(f"poll-{n:04d}", f"{base}/cal/{n}.ics") for n in range(feeds))
    app = create_app(write_config(directory, storage, cache, tables))
    runtime = app.extensions["feedserver"]
    rates = []
    try:
        for _ in range(2):
            started = time.perf_counter()
            # 10 threads: APScheduler's default thread pool, which the worker's scheduler uses
            with app.app_context(), ThreadPoolExecutor(10) as pool:
                results = list(
                    pool.map(lambda f: refresh(runtime, f, respect_backoff=False), runtime.settings.feeds)
                )
            assert all(r.ok for r in results), [r.line() for r in results if not r.ok][:3]
            rates.append(feeds / (time.perf_counter() - started))
    finally:
        upstream.shutdown()
    return rates[0], rates[1]
