"""The production run: deploy/gunicorn.conf.py starts the app with kept-alive connections, and the app
believes X-Forwarded-* only from the number of proxies `[server] proxy_hops` names."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedserver.config import from_mapping
from feedserver.errors import ConfigError
from tests.conftest import write_config

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_config_serves_the_app_with_keep_alive(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        FEEDSERVER_CONFIG=str(write_config(tmp_path, "")),
        FEEDSERVER_BIND=f"127.0.0.1:{port}",
        FEEDSERVER_WEB_WORKERS="1",
    )
    server = subprocess.Popen([str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env)
    try:
        connection = _connect(port)
        for _ in range(3):  # one connection, several requests: gthread keeps it alive
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200 and response.read() == b'{"status":"ok"}\n'
            assert response.getheader("Connection", "keep-alive").lower() != "close"
        connection.request("GET", "/feeds/nothing.rss")
        missing = connection.getresponse()
        missing.read()
        assert missing.status == 404 and missing.getheader("Content-Type") == "application/problem+json"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0  # a graceful stop


def _connect(port: int) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return connection
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("hops,expected", [(0, 200), (1, 400)])
def test_forwarded_host_is_believed_only_behind_configured_proxies(make_app, hops, expected):
    app = make_app("", "") if hops == 0 else _with_hops(make_app, hops)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == expected
    if expected == 400:  # the forwarded host is checked like a Host header, and the answer never echoes it
        assert response.headers["Content-Type"] == "application/problem+json"
        assert b"evil.example" not in response.data


def test_forwarded_for_names_the_client_behind_one_proxy(make_app):
    app = _with_hops(make_app, 1, "[api]\nrate_limit = '2/minute'\n")
    client = app.test_client()
    first = [client.get("/api/v1/sources", headers={"X-Forwarded-For": "192.0.2.1"}) for _ in range(3)]
    other = client.get("/api/v1/sources", headers={"X-Forwarded-For": "192.0.2.2"})
    assert [r.status_code for r in first] == [200, 200, 429]
    assert other.status_code == 200  # its own budget: the limiter sees the forwarded client address


def test_forwarded_for_is_ignored_without_proxy_hops(make_app):
    app = make_app("", "[api]\nrate_limit = '2/minute'\n")
    client = app.test_client()
    answers = [client.get("/api/v1/sources", headers={"X-Forwarded-For": f"192.0.2.{n}"}) for n in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]  # a spoofed header buys no new budget


def _with_hops(make_app, hops: int, extra: str = ""):
    app = make_app("", extra)
    config = Path(app.extensions["feedserver"].settings.path)
    text = config.read_text().replace("[server]\n", f"[server]\nproxy_hops = {hops}\n", 1)
    config.write_text(text)
    from feedserver.app import create_app

    fresh = create_app(config)
    fresh.config["TESTING"] = True
    return fresh


def test_proxy_hops_is_validated():
    with pytest.raises(ConfigError, match="server.proxy_hops"):
        from_mapping({"server": {"proxy_hops": -1}})
    assert from_mapping({}).server.proxy_hops == 0


def test_requests_outside_the_api_neither_spend_nor_show_its_budget(make_app):
    client = make_app("", "[api]\nrate_limit = '2/minute'\n").test_client()
    others = [client.get(path) for path in ("/healthz", "/opml", "/feeds/none.atom") * 2]
    assert all("RateLimit-Limit" not in r.headers for r in others)  # the limiter runs for /api/v1 only
    answers = [client.get("/api/v1/sources") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "2"
