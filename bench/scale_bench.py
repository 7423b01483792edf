"""Scale benchmark: one 100-item feed served by (a) nginx from the published files, (b) feedserver under
gunicorn with all its headers and checks, (c) a bare Flask app returning the same bytes (the ceiling), plus
a cold filtered render, web-worker memory with 10,000 configured feeds and the worker's poll throughput.

Run with `make bench` (or .venv/bin/python bench/scale_bench.py [--compare-workers]). Everything runs on
this machine against loopback; wrk is used when installed, nginx when installed; what is missing is said.
All servers are up at once and measured in REPEATS interleaved rounds; each row is the best round.
Environment: BENCH_SECONDS (per load run, default 4), BENCH_CONNECTIONS (32), BENCH_REPEATS (5).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, local_nginx, scale_parts  # noqa: E402
from bench.scale_parts import ITEMS, get, start_gunicorn, stop  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
PORTS = {"nginx": 8791, "bare": 8793, "rss": 8794, "app": 8800}
NGINX = "(a) nginx, published files"
BARE = "(c) bare Flask, same bytes (ceiling)"
KINDS = ((0, "200"), (1, "304"))
PATH = "/feeds/bench.atom"
WORKER_SETTINGS = [  # (class, workers, threads) compared by --compare-workers
    ("sync", 2, 1),
    ("sync", 4, 1),
    ("sync", 5, 1),
    ("gthread", 2, 4),
    ("gthread", 4, 4),
    ("gthread", 2, 8),
]


def prepare(directory: Path, storage: str, cache: str):
    """Fetch the bench feed once, publish it as files; (config, app, body, etag)."""
    from feedserver.app import create_app
    from feedserver.export import publish_all
    from feedserver.pipeline import refresh

    (directory / "bench.ics").write_text(scale_parts.calendar(ITEMS + 20), encoding="utf-8")
    tables = scale_parts.feed_table("bench", (directory / "bench.ics").as_uri())
    config = scale_parts.write_config(directory, storage, cache, tables, PORTS["app"])
    app = create_app(config)
    runtime = app.extensions["feedserver"]
    with app.app_context():
        assert refresh(runtime, "bench").ok
        publish_all(runtime, directory / "public")
    response = app.test_client().get(PATH)
    assert response.status_code == 200 and response.data.count(b"<entry>") == ITEMS
    return config, app, response.data, response.headers["ETag"]


def measure(port: int, pid: int, etag: str | None = None) -> tuple[load.Load, load.Load]:
    """(full 200 responses, 304 revalidations) on one server (pid: its main process, for CPU time)."""
    status, headers, _ = get(port, PATH)
    etag = etag or headers["ETag"]
    assert status == 200 and get(port, PATH, {"If-None-Match": etag})[0] == 304
    full = load.run(port, PATH, {}, SECONDS, CONNECTIONS, 200, pid)
    revalidated = load.run(port, PATH, {"If-None-Match": etag}, SECONDS, CONNECTIONS, 304, pid)
    return full, revalidated


def start_servers(directory: Path, configs: dict[str, Path], body: bytes, etag: str) -> dict:
    """Every server of the comparison, all up at once (idle ones cost nothing): {row: (port, process)}."""
    servers = {}
    if local_nginx.nginx_binary() is None:
        print("nginx not installed (apt-get install -y nginx-light): row (a) skipped")
    else:
        nginx = local_nginx.start(directory / "nginx", directory / "public", PORTS["nginx"], PORTS["app"], 2)
        servers[NGINX] = (PORTS["nginx"], nginx)
    for offset, (name, config) in enumerate(configs.items()):
        port = PORTS["app"] + 10 * offset
        servers[name] = (port, start_gunicorn("wsgi:app", port, {"FEEDSERVER_CONFIG": str(config)}))
    (directory / "body.atom").write_bytes(body)
    env = {"BARE_BODY": str(directory / "body.atom"), "BARE_ETAG": etag}
    servers[BARE] = (PORTS["bare"], start_gunicorn("bench.bare_app:app", PORTS["bare"], env))
    return servers


def stop_servers(servers: dict) -> None:
    """Stop every server started for the comparison."""
    for name, (_port, process) in servers.items():
        (local_nginx.stop if name == NGINX else stop)(process)


def run_rounds(servers: dict, etag: str) -> dict[str, tuple[load.Load, load.Load]]:
    """REPEATS interleaved rounds over all servers; per server and kind its best round (see _best)."""
    rounds: dict[str, list] = {name: [] for name in servers}
    for _ in range(REPEATS):
        for name, (port, process) in servers.items():
            rounds[name].append(measure(port, process.pid, etag if name == BARE else None))
    return {name: _best(results) for name, results in rounds.items()}


def _best(results: list[tuple[load.Load, load.Load]]) -> tuple[load.Load, load.Load]:
    """The round with the most requests/s, for 200s and 304s each: other work on the machine only ever
    slows a round down, so the best round is the closest to what the server can do (and the fairest
    comparison when the machine is shared)."""
    full = max((r[0] for r in results), key=lambda x: x.rps)
    return full, max((r[1] for r in results), key=lambda x: x.rps)


def table(rows: dict[str, tuple[load.Load, load.Load]]) -> None:
    """Print requests/s, latency and server CPU per request of each server, then the ratios."""
    columns = f"{'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us':>8}"
    print(f"{'':42} {'200 (full body)':^36} | {'304 (If-None-Match)':^36}")
    print(f"{'':42} {columns} | {columns}")
    for name, (full, revalidated) in rows.items():
        errors = full.errors + revalidated.errors
        print(
            f"{name:42} {full.cells()} | {revalidated.cells()}" + (f"  ({errors} errors)" if errors else "")
        )
    for name, figures in rows.items():
        if name.startswith("(b)"):
            print(f"ratios {name[4:]}:")
            print("    " + _ratios("b/c", figures, rows[BARE]))
            if NGINX in rows:
                print("    " + _ratios("b/a", figures, rows[NGINX]))


def _ratios(label: str, ours: tuple[load.Load, load.Load], other: tuple[load.Load, load.Load]) -> str:
    """Throughput ratios, and the same from server CPU per request (steady when the machine is busy)."""
    cells = []
    for index, kind in KINDS:
        throughput = ours[index].rps / other[index].rps
        cpu = other[index].cpu_us / ours[index].cpu_us if ours[index].cpu_us else float("nan")
        cells.append(f"{label} {kind}: {throughput:.2f} req/s, {cpu:.2f} by CPU per request")
    return "; ".join(cells)


def serve_app(config: Path, env: dict) -> tuple[load.Load, load.Load]:
    """Our app alone under gunicorn with the given settings, measured (for --compare-workers)."""
    server = start_gunicorn("wsgi:app", PORTS["app"], {"FEEDSERVER_CONFIG": str(config), **env})
    try:
        return _best([measure(PORTS["app"], server.pid) for _ in range(REPEATS)])
    finally:
        stop(server)


def compare_workers(config: Path) -> None:
    """Our app under several gunicorn worker classes and counts (the figures in deploy/gunicorn.conf.py)."""
    for worker_class, workers, threads in WORKER_SETTINGS:
        env = {
            "FEEDSERVER_WEB_WORKER_CLASS": worker_class,
            "FEEDSERVER_WEB_WORKERS": str(workers),
            "FEEDSERVER_WEB_THREADS": str(threads),
        }
        full, revalidated = serve_app(config, env)
        print(f"{worker_class:8} {workers} x {threads}: 200 {full.cells()} | 304 {revalidated.cells()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-workers", action="store_true", help="compare gunicorn worker settings")
    args = parser.parse_args()
    services = scale_parts.postgres_and_redis()
    try:
        with tempfile.TemporaryDirectory(prefix="feedserver-scale-") as tmp:
            run(Path(tmp), services, args.compare_workers)
    finally:
        if services:
            scale_parts.drop_database(services[0])


def run(directory: Path, services: tuple[str, str] | None, compare: bool) -> None:
    """Everything the benchmark measures, printed as it goes."""
    lite = (f"sqlite:///{directory / 'bench.sqlite3'}", 'type = "SimpleCache"')
    config, app, body, etag = prepare(directory, *lite)
    print(
        f"load: {load.tool()}, {CONNECTIONS} connections, {SECONDS} s per run, {os.cpu_count()} cores "
        f"(client and servers share them), best of {REPEATS} rounds; "
        f"feed body {len(body):,} bytes, {ITEMS} items"
    )
    if compare:
        compare_workers(config)
        return
    configs = {"(b) feedserver, SQLite + in-process cache": config}
    if services:
        configs["(b) feedserver, PostgreSQL + Redis cache"] = _postgres_config(directory, services)
    servers = start_servers(directory, configs, body, etag)
    try:
        rows = run_rounds(servers, etag)
    finally:
        stop_servers(servers)
    print(f"gunicorn: {_gunicorn_settings()}")
    table(rows)
    _other_figures(directory, app, services, lite)


def _postgres_config(directory: Path, services: tuple[str, str]) -> Path:
    from feedserver.store import Store

    store = Store(services[0])
    store.migrate()
    store.engine.dispose()
    cache = _redis_cache(services[1])
    pg_dir = directory / "pg"
    pg_dir.mkdir()
    config, _app, _body, _etag = prepare(pg_dir, services[0], cache)
    return config


def _redis_cache(url: str) -> str:
    return f'type = "RedisCache"\nredis_url = "{url}"\nkey_prefix = "bench-{os.getpid()}:"'


def _other_figures(directory: Path, app, services, lite) -> None:
    print(
        f"cold filtered render (?category=organic,paper, empty cache, via the app): "
        f"{scale_parts.cold_filtered_render_ms(app, 'bench'):.2f} ms (median of 30)"
    )
    rss_dir = directory / "rss"
    rss_dir.mkdir()
    (rss_dir / "bench.ics").write_text(scale_parts.calendar(10), encoding="utf-8")
    for feeds in (1, 10_000):
        rss, startup = scale_parts.worker_rss(rss_dir, feeds, PORTS["rss"])
        print(
            f"web worker RSS with {feeds:,} configured feed(s): {rss:.0f} MiB "
            f"(gunicorn up in {startup:.1f} s)"
        )
    first, again = scale_parts.catalogue_api_seconds(rss_dir, 10_000)
    print(
        f"/api/v1/feeds with 10,000 feeds: {first:.2f} s first request, "
        f"{again * 1e3:.0f} ms after one feed changed (median of 5)"
    )
    poll_dir = directory / "poll"
    poll_dir.mkdir()
    targets = [("SQLite", lite[0].replace("bench.sqlite3", "poll.sqlite3"), lite[1])]
    if services:
        targets.append(("PostgreSQL + Redis", services[0], _redis_cache(services[1])))
    for name, storage, cache in targets:
        first, again = scale_parts.poll_throughput(poll_dir, storage, cache)
        print(
            f"worker poll throughput, {name}, 200 feeds x {ITEMS + 20} events, 10 threads: "
            f"{first:.0f} feeds/s first poll (new data, render), {again:.0f} feeds/s re-poll (upstream 304)"
        )


def _gunicorn_settings() -> str:
    values: dict = {}
    exec(compile((ROOT / "deploy" / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), values)
    settings = f"{values['worker_class']}, {values['workers']} workers x {values['threads']} threads"
    return f"{settings} (deploy/gunicorn.conf.py)"


if __name__ == "__main__":
    main()
