"""The real PostgreSQL and Redis on this machine for the multi-instance tests, each session on fresh ground.

A test using these fixtures runs when the service answers; otherwise it is skipped with the reason, except in
CI (CI=true), where a missing service is a failure: a green CI must mean the tests ran.
PostgreSQL: every session creates uniquely named databases on the `test` server and drops them at the end.
Redis: every test gets its own key prefix, and its keys are deleted afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.scale_parts import calendar

PG_ADMIN_URL = os.environ.get("FEEDSERVER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FEEDSERVER_TEST_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent
SESSION = uuid.uuid4().hex[:8]


def unavailable(service: str, problem: Exception) -> None:
    """Skip outside CI, fail in CI: the service this test needs does not answer."""
    message = f"{service} not reachable ({type(problem).__name__}: {problem})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run the PostgreSQL/Redis tests", pytrace=False)
    pytest.skip(f"{message}; set FEEDSERVER_TEST_PG / FEEDSERVER_TEST_REDIS or start the service")


def sqlalchemy_url(database: str) -> str:
    """A psycopg SQLAlchemy URL for a database on the test server."""
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_databases():
    """A factory of fresh, empty databases (dropped at the end of the session)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    created: list[str] = []

    def create() -> str:
        name = f"feedserver_test_{SESSION}_{len(created)}"
        admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return sqlalchemy_url(name)

    yield create
    for name in created:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def pg_url(pg_databases) -> str:
    """A fresh empty database for this test."""
    return pg_databases()


@pytest.fixture
def migrated_pg_url(pg_url) -> str:
    """A fresh database at the newest schema (as `feedserver migrate` leaves it)."""
    from feedserver.store import Store

    store = Store(pg_url)
    store.migrate()
    store.engine.dispose()
    return pg_url


@pytest.fixture
def redis_prefix():
    """(redis_url, key prefix) for this test; its keys are removed afterwards."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    prefix = f"feedserver-test-{SESSION}-{uuid.uuid4().hex[:6]}:"
    yield REDIS_URL, prefix, client
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def write_config(
    tmp_path: Path,
    feeds: str,
    extra: str = "",
    base_url: str = "http://127.0.0.1:8000",
    storage_url: str = "",
    cache: str = "",
    name: str = "config.toml",
) -> Path:
    """A config.toml in tmp_path (SQLite there unless storage_url is given), loopback upstreams allowed;
    `cache` is the body of a [cache] table."""
    path = tmp_path / name
    storage_url = storage_url or f"sqlite:///{tmp_path / 'feeds.sqlite3'}"
    cache_table = f"[cache]\n{cache}" if cache else ""
    path.write_text(
        f"""
[server]
base_url = "{base_url}"
title = "Test city"
licence = "dl-de/by-2-0"
[storage]
url = "{storage_url}"
{cache_table}
[fetch]
allow_networks = ["127.0.0.0/8"]
deadline = 10
{extra}
{feeds}
""",
        encoding="utf-8",
    )
    return path


def cluster_config(
    tmp_path: Path, storage_url: str, redis_url: str, prefix: str, feeds: str, extra: str = ""
) -> Path:
    """A config.toml for PostgreSQL storage and the shared Redis cache, loopback upstreams allowed."""
    cache = f'type = "RedisCache"\nredis_url = "{redis_url}"\nkey_prefix = "{prefix}"'
    return write_config(tmp_path, feeds, extra, storage_url=storage_url, cache=cache, name="cluster.toml")


def feedserver_process(config: Path, *args: str, log: Path | None = None) -> subprocess.Popen:
    """Start `python -m feedserver --config CONFIG ARGS...` (output to `log` when given)."""
    output = open(log, "wb") if log else subprocess.PIPE  # closed when the process ends
    return subprocess.Popen(
        [sys.executable, "-m", "feedserver", "--config", str(config), *args],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition: Callable[[], object], timeout: float, step: float = 0.1, what: str = "condition"):
    """Poll until condition() is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def waste_calendar(days: int, summary_suffix: str = "") -> bytes:
    """An all-day waste calendar with one pickup a day over the past `days` days (so all are published)."""
    return calendar(days, "test-", summary_suffix).encode()
