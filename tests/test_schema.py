"""The migrations build exactly the schema feedserver/tables.py describes, on SQLite and PostgreSQL, and
the newest migration can be undone and redone."""

from __future__ import annotations

import multiprocessing

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from feedserver.store import MIGRATIONS, Store
from feedserver.tables import metadata

ACCESS_TABLES = {"desk_sessions", "desk_login_throttle"}


def differences(store: Store) -> list:
    """What autogenerate would change to make the database match tables.py (empty: they agree)."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def migrate_to(store: Store, revision: str, down: bool = False) -> None:
    with store.engine.begin() as connection:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def check_schema_round_trip(store: Store) -> None:
    store.migrate()
    assert differences(store) == []
    migrate_to(store, "0003", down=True)
    assert not ACCESS_TABLES & set(inspect(store.engine).get_table_names())
    store.migrate()
    assert differences(store) == []


def test_sqlite_migrations_build_the_tables_of_tables_py(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'schema.sqlite3'}")
    check_schema_round_trip(store)
    store.engine.dispose()


@pytest.mark.services
def test_postgres_migrations_build_the_tables_of_tables_py(pg_url):
    store = Store(pg_url)
    check_schema_round_trip(store)
    store.engine.dispose()


def _migrate_after(barrier, url: str) -> None:
    barrier.wait()
    Store(url).migrate()


def test_several_processes_migrating_one_new_sqlite_file_at_once_all_succeed(tmp_path):
    """Gunicorn's workers start together on a fresh database: each migrates, one builds, the others wait."""
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [context.Process(target=_migrate_after, args=(barrier, url)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    store = Store(url)
    store.check_schema()
    assert differences(store) == []
