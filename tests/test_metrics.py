"""/metrics for operators: off by default and then a plain 404; when on, only for allowed clients with the
token; counts polls per source kind, requests per route class, queue depths and deliveries; adds up every
gunicorn process in multiprocess mode. And logs as one JSON object per line when configured."""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from feedserver.logs import configure
from tests.conftest import write_config
from tests.push_support import feed_table, live_app, queue_empty, refresh, wait_for
from tests.test_deploy import GUNICORN, ROOT, _connect, free_port

ON = "[metrics]\nenabled = true\n"


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value of a scrape."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict, name: str, **labels) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


def test_off_by_default_it_is_not_there(make_app):
    response = make_app("").test_client().get("/metrics")
    assert response.status_code == 404 and b"feedserver_" not in response.data


def test_polls_requests_and_queues_are_counted_for_an_allowed_client(tmp_path, upstream):
    with live_app(tmp_path, feed_table(upstream.url), ON) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        client = app.test_client()
        assert client.get("/feeds/waste-test.rss").status_code == 200
        etag = client.get("/feeds/waste-test.rss").headers["ETag"]
        assert client.get("/feeds/waste-test.rss", headers={"If-None-Match": etag}).status_code == 304
        response = client.get("/metrics")
        assert response.status_code == 200 and response.mimetype == "text/plain"
        found = samples(response.data)
        assert total(found, "feedserver_polls_total", kind="waste", outcome="ok") >= 1
        assert total(found, "feedserver_poll_seconds_count", kind="waste") >= 1
        assert total(found, "feedserver_requests_total", route="data", status="304") >= 1
        assert total(found, "feedserver_requests_total", route="data", status="200") >= 2
        assert total(found, "feedserver_deliveries_total", channel="fan-out", outcome="ok") >= 1
        assert ("feedserver_stale_feeds", ()) in found


def test_other_clients_and_missing_tokens_get_a_404(make_app, monkeypatch):
    monkeypatch.setenv("FEEDSERVER_TEST_METRICS_TOKEN", "scrape-me")
    app = make_app("", '[metrics]\nenabled = true\ntoken = { env = "FEEDSERVER_TEST_METRICS_TOKEN" }\n')
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
    outsider = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"},
                          environ_base={"REMOTE_ADDR": "203.0.113.9"})  # fmt: skip
    assert outsider.status_code == 404


def test_under_gunicorn_every_process_is_counted(tmp_path):
    port, metrics_dir = free_port(), tmp_path / "prometheus"
    metrics_dir.mkdir()
    config = write_config(tmp_path, "", ON)
    feedserver = GUNICORN.parent / "feedserver"
    subprocess.run([str(feedserver), "--config", str(config), "migrate"], check=True)  # as a deployment does
    env = dict(os.environ, FEEDSERVER_CONFIG=str(config), FEEDSERVER_BIND=f"127.0.0.1:{port}")
    env |= {
        "FEEDSERVER_WEB_WORKERS": "2",
        "FEEDSERVER_WEB_THREADS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    server = subprocess.Popen([str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env)
    try:
        _connect(port).close()
        sent = 0
        with ThreadPoolExecutor(4) as pool:  # concurrent requests, until both processes have answered some
            while len(processes(metrics_dir)) < 2:
                assert sent < 4000, "one gunicorn process answered everything"
                sent += sum(pool.map(lambda _: healthz(port), range(8)))
        for _ in range(4):  # whichever process answers the scrape, it reports what both counted
            assert total(scrape(port), "feedserver_requests_total", route="data", status="200") >= sent
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def processes(metrics_dir) -> set[str]:
    """The pids prometheus_client keeps counters for (one file each)."""
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}


def healthz(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz")
    assert connection.getresponse().read()
    connection.close()
    return 1


def scrape(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    found = samples(connection.getresponse().read())
    connection.close()
    return found


def test_json_logs_are_one_object_per_line(capfd):
    configure("json", "INFO")
    try:
        logging.getLogger("feedserver.test").warning("upstream %s failed", "Stadt")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("feedserver.test").exception("refresh failed")
        lines = capfd.readouterr().err.strip().splitlines()
        first, second = (json.loads(line) for line in lines[-2:])
        assert (first["level"], first["logger"], first["message"]) == (
            "WARNING",
            "feedserver.test",
            "upstream Stadt failed",
        )
        assert "ValueError: boom" in second["exception"] and first["time"].endswith("+00:00")
    finally:
        logging.getLogger().handlers.clear()
