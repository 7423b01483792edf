"""PostgreSQL storage on the real server: migrations run once under a lock, a schema mismatch refuses to
start, and the same upstream gives byte-identical feeds on PostgreSQL and on the embedded SQLite default."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import time_machine
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from feedserver.app import create_app
from feedserver.store import MIGRATIONS, SchemaError, Store
from tests.conftest import refresh_feed, write_config
from tests.services import cluster_config, feedserver_process, waste_calendar

pytestmark = pytest.mark.services
MIGRATE_LOCK = 7318201  # the advisory lock store.migrate takes
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FEED = """
[feeds.waste-pg]
source = "ics"
title = "Abfuhr PostgreSQL"
every = "1h"
url = "{url}"
"""


def head_revision() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def plain_config(tmp_path, url: str, feeds: str = ""):
    path = tmp_path / "pg.toml"
    server = '[server]\nbase_url = "http://127.0.0.1:8000"\ntitle = "Test city"\nlicence = "dl-de/by-2-0"\n'
    path.write_text(f'{server}[storage]\nurl = "{url}"\n{feeds}', encoding="utf-8")
    return path


def test_two_concurrent_migrates_wait_for_the_lock_and_migrate_once(tmp_path, pg_url):
    config = plain_config(tmp_path, pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        migrates = [feedserver_process(config, "migrate", log=tmp_path / f"migrate{n}.log") for n in (1, 2)]
        time.sleep(1.5)
        # Both wait on the lock this test holds: neither has created a table yet.
        assert [m.poll() for m in migrates] == [None, None]
        assert inspect(engine).get_table_names() == []
        holder.commit()  # releases the transaction-level lock
    codes = [m.wait(timeout=60) for m in migrates]
    logs = [(tmp_path / f"migrate{n}.log").read_text() for n in (1, 2)]
    assert codes == [0, 0], logs
    assert all("database schema is up to date" in log for log in logs)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]
    assert {"feeds", "items", "renditions"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_unmigrated_database_refuses_to_start_naming_the_fix(tmp_path, pg_url):
    with pytest.raises(SchemaError, match=r"revision none, this version needs .*run `feedserver migrate`"):
        create_app(plain_config(tmp_path, pg_url))


@pytest.mark.parametrize(
    "stored,advice",
    [("0001", "run `feedserver migrate`"), ("9999_from_the_future", "migrated by a newer feedserver")],
)
def test_version_mismatch_refuses_to_start_with_a_clear_message(tmp_path, migrated_pg_url, stored, advice):
    engine = create_engine(migrated_pg_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": stored})
    engine.dispose()
    config = plain_config(tmp_path, migrated_pg_url)
    worker = feedserver_process(config, "worker", log=tmp_path / "worker.log")
    assert worker.wait(timeout=30) == 2  # exits at once instead of polling against the wrong schema
    message = (tmp_path / "worker.log").read_text()
    assert f"error: database schema is at revision {stored}, this version needs {head_revision()}" in message
    assert advice in message
    assert "Traceback" not in message


def test_migrate_is_idempotent_and_readyz_checks_the_revision(tmp_path, migrated_pg_url):
    store = Store(migrated_pg_url)
    store.migrate()  # a second deployment's migrate: nothing to do
    store.check_schema()
    app = create_app(plain_config(tmp_path, migrated_pg_url))
    assert app.test_client().get("/readyz").status_code == 200
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert app.test_client().get("/readyz").status_code == 503  # a rollback to old code is noticed
    store.engine.dispose()


def test_postgres_and_sqlite_serve_byte_identical_feeds(tmp_path, migrated_pg_url, httpserver):
    httpserver.expect_request("/cal.ics").respond_with_data(waste_calendar(40), content_type="text/calendar")
    feeds = FEED.format(url=httpserver.url_for("/cal.ics"))
    (tmp_path / "pg").mkdir()
    (tmp_path / "lite").mkdir()
    with time_machine.travel(NOW, tick=False):
        on_pg = create_app(plain_config(tmp_path / "pg", migrated_pg_url, feeds + _loopback()))
        on_sqlite = create_app(write_config(tmp_path / "lite", feeds))
        first = refresh_feed(on_pg, "waste-pg")
        assert first.ok and first.changes.added == 40
        assert refresh_feed(on_sqlite, "waste-pg").changes.added == 40
        again = refresh_feed(on_pg, "waste-pg")  # identical data writes nothing on PostgreSQL either
        assert again.ok and not again.changes.any
        for fmt in ("rss", "atom", "json", "ics"):
            pg = on_pg.test_client().get(f"/feeds/waste-pg.{fmt}")
            lite = on_sqlite.test_client().get(f"/feeds/waste-pg.{fmt}")
            assert pg.status_code == lite.status_code == 200
            assert pg.data == lite.data, fmt
            assert pg.headers["ETag"] == lite.headers["ETag"]
            assert pg.headers["Last-Modified"] == lite.headers["Last-Modified"]
    state = on_pg.extensions["feedserver"].store.feed_state("waste-pg")
    assert state.last_success == NOW and state.last_success.tzinfo is not None


def test_redis_cache_config_is_used_with_postgres(tmp_path, migrated_pg_url, redis_prefix, httpserver):
    redis_url, prefix, client = redis_prefix
    httpserver.expect_request("/cal.ics").respond_with_data(waste_calendar(10), content_type="text/calendar")
    config = cluster_config(
        tmp_path, migrated_pg_url, redis_url, prefix, FEED.format(url=httpserver.url_for("/cal.ics"))
    )
    app = create_app(config)
    assert refresh_feed(app, "waste-pg").ok
    assert app.test_client().get("/feeds/waste-pg.atom").status_code == 200
    assert client.exists(f"{prefix}r:waste-pg:atom")  # the rendered bytes went to the shared cache


def _loopback() -> str:
    return '\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
