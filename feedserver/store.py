"""The only module that talks SQL: feed state, items and rendered bytes, on SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy import and_, create_engine, delete, event, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from .errors import FeedserverError, StorageError
from .items import READING, Item
from .store_health import FAILURE_FIELDS, Unwritten, storage_error, write_probe
from .stored import Changes, FeedState, Rendition
from .tables import feeds, from_row, items, renditions

MIGRATIONS = Path(__file__).parent / "migrations"
GONE_RETENTION = timedelta(days=60)  # gone items are kept this long for history, then purged


class SchemaError(FeedserverError):
    """The database schema is not at the version this code expects."""


class Store:
    """Feed state, items and renditions behind one SQLAlchemy engine."""

    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        self.unwritten = Unwritten()  # failures the database refused, merged into the states reported

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction; a database that refuses it (disk full, read-only) raises StorageError."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            raise storage_error(exc) from exc

    # --- schema -----------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest revision, once even when several processes start together."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(7318201)"))
            elif connection.dialect.name == "sqlite":
                # The driver opens no transaction before DDL: without the write lock taken first, workers
                # starting together on a new file each read "no revision" and each create the tables.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config = AlembicConfig()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def check_schema(self) -> None:
        """Raise SchemaError unless the database is at the head revision."""
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        scripts = ScriptDirectory.from_config(config)
        head = scripts.get_current_head()
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current != head:
            raise SchemaError(
                f"database schema is at revision {current or 'none'}, this version needs {head}: "
                + _schema_advice(scripts, current)
            )

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def check_writable(self) -> None:
        """Raise StorageError unless a committed write reaches the database (store_health.write_probe)."""
        with self._write() as connection:
            write_probe(connection)

    # --- feed state -------------------------------------------------------------------------------
    def feed_state(self, feed_id: str) -> FeedState:
        """The stored polling state of a feed (an empty state for a feed never polled)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(feeds).where(feeds.c.id == feed_id)).mappings().first()
        return self.unwritten.merged(FeedState(id=feed_id) if row is None else _feed_state(row))

    def feed_states(self) -> dict[str, FeedState]:
        """Polling state of every feed the store knows, in one query (the API lists thousands)."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(feeds)).mappings().all()
        states = {row["id"]: _feed_state(row) for row in rows}
        for feed_id in self.unwritten.feed_ids() - states.keys():
            states[feed_id] = FeedState(id=feed_id)  # never stored: its first refresh could not write
        return {feed_id: self.unwritten.merged(state) for feed_id, state in states.items()}

    def record_attempt(self, feed_id: str, source: str, now: datetime) -> None:
        """Note that a refresh started (creates the feed row on first use)."""
        with self._write() as connection:
            _ensure_feed(connection, feed_id, source)
            connection.execute(update(feeds).where(feeds.c.id == feed_id).values(last_attempt=now))

    def record_failure(
        self, feed_id: str, error: str, now: datetime, retry_at: datetime | None, source: str = "-"
    ) -> FeedState:
        """Count a failed refresh and mark the feed stale; its items stay as they were.

        Never raises for a database that refuses the write: the failure is then kept in this process
        (feedserver.store_health) and reported from there until the feed's state can be written again.
        """
        failed = self.unwritten.failed(self.feed_state(feed_id), error, now, retry_at)
        try:
            with self._write() as connection:
                _ensure_feed(connection, feed_id, source)
                values = {name: getattr(failed, name) for name in FAILURE_FIELDS}
                connection.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))
        except StorageError:
            return failed
        self.unwritten.written(feed_id)
        return self.feed_state(feed_id)

    def record_stale_data(self, feed_id: str, reason: str, since: datetime) -> None:
        """The upstream answered, but with old data: mark the feed stale since `since`, without backoff."""
        with self._write() as connection:
            connection.execute(
                update(feeds).where(feeds.c.id == feed_id).values(last_error=reason[:1000], stale_since=since)
            )

    def record_unchanged(self, feed_id: str, now: datetime) -> None:
        """A successful refresh that found nothing new (304 or identical data)."""
        with self._write() as connection:
            connection.execute(update(feeds).where(feeds.c.id == feed_id).values(**_success(now)))
        self.unwritten.written(feed_id)

    # --- items ------------------------------------------------------------------------------------
    def apply_items(
        self, feed_id: str, new_items: Sequence[Item], validators: dict, now: datetime
    ) -> Changes:
        """Store one refresh's items in one transaction: insert new, update changed, mark vanished as gone."""
        with self._write() as connection:
            existing = {
                row.id: row
                for row in connection.execute(
                    select(items.c.id, items.c.digest, items.c.gone_at).where(items.c.feed_id == feed_id)
                )
            }
            added, updated_count = self._upsert(connection, feed_id, new_items, existing, now)
            seen = {item.id for item in new_items}
            vanished = [i for i, row in existing.items() if i not in seen and row.gone_at is None]
            for chunk in _chunks(vanished, 500):
                connection.execute(
                    update(items).where(items.c.feed_id == feed_id, items.c.id.in_(chunk)).values(gone_at=now)
                )
            connection.execute(
                delete(items).where(items.c.feed_id == feed_id, items.c.gone_at < now - GONE_RETENTION)
            )
            changes = Changes(added, updated_count, len(vanished))
            values = _success(now) | {"validators": json.dumps(validators, sort_keys=True)}
            if changes.any:
                values["data_changed_at"] = now
            connection.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))
        self.unwritten.written(feed_id)
        return changes

    def _upsert(self, connection, feed_id, new_items, existing, now) -> tuple[int, int]:
        added = updated_count = 0
        for item in new_items:
            row = _item_row(item)
            old = existing.get(item.id)
            if old is None:
                connection.execute(
                    insert(items).values(feed_id=feed_id, first_seen=now, changed_at=now, **row)
                )
                added += 1
            elif old.digest != row["digest"] or old.gone_at is not None:
                connection.execute(
                    update(items)
                    .where(items.c.feed_id == feed_id, items.c.id == item.id)
                    .values(changed_at=now, gone_at=None, **row)
                )
                updated_count += 1
        return added, updated_count

    def messages(
        self, feed_id: str, now: datetime, limit: int, keep_gone: timedelta = timedelta(0)
    ) -> list[Item]:
        """The items a feed shows now: messages already published, current or recently gone, newest first."""
        query = (
            select(items)
            .where(
                items.c.feed_id == feed_id,
                items.c.is_message.is_(True),
                items.c.published <= now,
                or_(items.c.gone_at.is_(None), items.c.gone_at > now - keep_gone),
            )
            .order_by(items.c.published.desc(), items.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_row_item(row) for row in connection.execute(query).mappings()]

    def history(self, feed_id: str, since: datetime) -> list[Item]:
        """Items published since `since`, current or gone (kept for GONE_RETENTION), oldest first."""
        query = select(items).where(items.c.feed_id == feed_id, items.c.published >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(items.c.published, items.c.id)).mappings()
            return [_row_item(row) for row in rows]

    def current_items(self, feed_id: str) -> list[Item]:
        """Every current (not gone) item of a feed, messages and state alike, oldest first."""
        query = select(items).where(items.c.feed_id == feed_id, items.c.gone_at.is_(None))
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(items.c.published, items.c.id)).mappings()
            return [_row_item(row) for row in rows]

    def next_publication(self, feed_id: str, now: datetime) -> datetime | None:
        """When the next already-stored message becomes visible (a reminder time in the future)."""
        query = select(func.min(items.c.published)).where(
            items.c.feed_id == feed_id,
            items.c.is_message.is_(True),
            items.c.published > now,
            items.c.gone_at.is_(None),
        )
        with self.engine.connect() as connection:
            value = connection.execute(query).scalar()
        return (
            items.c.published.type.process_result_value(value, None) if isinstance(value, datetime) else None
        )

    def next_history_end(self, feed_id: str, now: datetime, keep_gone: timedelta) -> datetime | None:
        """When the next gone message drops out of the feed's history (its gone_at plus `keep_gone`)."""
        if not keep_gone:
            return None
        query = select(func.min(items.c.gone_at)).where(
            items.c.feed_id == feed_id, items.c.is_message.is_(True), items.c.gone_at > now - keep_gone
        )
        with self.engine.connect() as connection:
            value = connection.execute(query).scalar()
        if not isinstance(value, datetime):
            return None
        return items.c.gone_at.type.process_result_value(value, None) + keep_gone

    # --- renditions -------------------------------------------------------------------------------
    def save_renditions(self, rendered: Iterable[Rendition]) -> None:
        """Replace the stored bytes of the given feed formats in one transaction."""
        with self._write() as connection:
            for r in rendered:
                connection.execute(
                    delete(renditions).where(
                        and_(renditions.c.feed_id == r.feed_id, renditions.c.format == r.format)
                    )
                )
                connection.execute(insert(renditions).values(**r.__dict__))

    def rendition(self, feed_id: str, fmt: str) -> Rendition | None:
        """The stored bytes of one feed format, or None before the first render."""
        query = select(renditions).where(renditions.c.feed_id == feed_id, renditions.c.format == fmt)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return Rendition(**row) if row else None

    def renditions(self, feed_id: str) -> list[Rendition]:
        """The stored bytes of every format of a feed."""
        query = select(renditions).where(renditions.c.feed_id == feed_id).order_by(renditions.c.format)
        with self.engine.connect() as connection:
            return [Rendition(**row) for row in connection.execute(query).mappings()]

    def expired_feeds(self, now: datetime) -> list[str]:
        """Ids of feeds with a stored rendition whose valid_until has passed (a reminder fell due)."""
        query = select(renditions.c.feed_id).where(renditions.c.valid_until <= now).distinct()
        with self.engine.connect() as connection:
            return sorted(connection.execute(query).scalars())


def _schema_advice(scripts: ScriptDirectory, current: str | None) -> str:
    """Older schema: migrate. A revision this code does not know: the database is ahead of it."""
    try:
        known = current is None or scripts.get_revision(current) is not None
    except AlembicCommandError:
        known = False
    if known:
        return "run `feedserver migrate`"
    return "the database was migrated by a newer feedserver; run that version (or a newer one)"


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor the writer them
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _ensure_feed(connection, feed_id: str, source: str) -> None:
    exists = connection.execute(select(feeds.c.id).where(feeds.c.id == feed_id)).first()
    if exists is None:
        connection.execute(insert(feeds).values(id=feed_id, source=source, validators="{}", failures=0))


def _success(now: datetime) -> dict:
    return {"last_success": now, "last_error": None, "failures": 0, "stale_since": None, "retry_at": None}


def _item_row(item: Item) -> dict:
    data = json.dumps(dict(item.data), sort_keys=True, ensure_ascii=False, default=str)
    row = {
        "id": item.id,
        "key": item.key,
        "title": item.title,
        "summary": item.summary,
        "url": item.url,
        "category": str(item.category) if item.category is not None else None,
        "area": item.area,
        "published": item.published,
        "updated": item.updated,
        "starts": item.starts,
        "ends": item.ends,
        "data": data,
        "is_message": item.data.get("kind") != READING,
    }
    canonical = json.dumps({k: _canonical(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)
    row["digest"] = hashlib.sha256(canonical.encode()).hexdigest()
    return row


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row_item(row) -> Item:
    return from_row(Item, row, data=json.loads(row["data"]))


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _feed_state(row) -> FeedState:
    """A feeds row as a FeedState."""
    return from_row(FeedState, row, validators=json.loads(row["validators"] or "{}"))
