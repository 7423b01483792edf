"""One active poller: the `feedserver worker` holding the leader lock runs the scheduler, the others stand by.

The lock lives where the data lives, so no extra service is needed:
- PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a dedicated connection, held for the life of
  the leader. The server releases it the moment that connection ends (process killed: at once; host gone:
  the server's TCP keepalives for this session, set below, notice within about 25 s), and a standby takes
  it on its next try.
- SQLite (one machine): an exclusive flock on a file beside the database, released by the kernel when the
  process dies, so two workers on one SQLite file still poll once.
- Any other database: this process is the leader (logged), as there is nothing shared to lock.

A standby tries every `retry` seconds; the leader checks every `retry` seconds that its lock is still held and
stops scheduling jobs the moment it is not (jobs check `leading` before they start).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .store import Store

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 7318202  # advisory lock id of the scheduler (store.migrate uses 7318201)
STANDBY_RETRY = 5.0  # seconds between a standby's attempts, and between the leader's checks
# Keepalives on the lock connection, both ways: libpq's let the leader notice a vanished database, the
# server's (session settings) let PostgreSQL drop a vanished leader's session, and its lock, in ~25 s
# rather than the operating system's two hours.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
}


class PostgresLock:
    """A session-level advisory lock on its own connection (never a pooled one)."""

    def __init__(self, url: str, key: int = LEADER_LOCK_KEY):
        self.key = key
        # application_name names the holder in pg_stat_activity (and lets tests see which worker leads).
        name = f"feedserver-worker-{os.getpid()}"
        connect_args = KEEPALIVES | {"application_name": name, "connect_timeout": 5}
        self.engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        self.connection: Connection | None = None

    def describe(self) -> str:
        """How the lock is taken, for the worker's start line."""
        return f"PostgreSQL advisory lock {self.key}"

    def acquire(self) -> bool:
        """Take the lock if it is free; False when another worker holds it or the database is away."""
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            query = text("SELECT pg_try_advisory_lock(:key)")
            return bool(self.connection.execute(query, {"key": self.key}).scalar())
        except SQLAlchemyError as exc:
            log.warning("leader lock: database unreachable (%s)", type(exc).__name__)
            self._drop()
            return False

    def held(self) -> bool:
        """True while the lock connection is alive and this session still holds the lock."""
        if self.connection is None:
            return False
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid = 0 AND objid = :key AND objsubid = 1"
        )
        try:
            return bool(self.connection.execute(query, {"key": self.key}).scalar())
        except SQLAlchemyError:
            self._drop()
            return False

    def release(self) -> None:
        """Give the lock up (closing the session would too)."""
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except SQLAlchemyError:
                pass  # the session is gone, and the lock with it
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except SQLAlchemyError:
                pass
            self.connection = None


class FileLock:
    """An exclusive flock on a file: one leader among the processes of one machine."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def describe(self) -> str:
        """How the lock is taken, for the worker's start line."""
        return f"file lock {self.path}"

    def acquire(self) -> bool:
        """Take the lock if no other process holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def held(self) -> bool:
        """A flock stays held as long as the process keeps the file open."""
        return self.fd is not None

    def release(self) -> None:
        """Give the lock up."""
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


class SoleLock:
    """No shared lock to take (in-memory SQLite, other databases): this process leads."""

    def describe(self) -> str:
        """How the lock is taken, for the worker's start line."""
        return "no shared lock (this process is the only poller)"

    def acquire(self) -> bool:
        """Always granted."""
        return True

    def held(self) -> bool:
        """Always held."""
        return True

    def release(self) -> None:
        """Nothing to release."""


def leader_lock(store: Store) -> PostgresLock | FileLock | SoleLock:
    """The leader lock that fits the store's database."""
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLock(url.render_as_string(hide_password=False))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLock(Path(url.database + ".leader"))
    log.warning("leader lock: no shared lock for %s; run one worker only", url.get_backend_name())
    return SoleLock()


class Leadership:
    """Runs a scheduler while this process holds the lock; stands by and retries while it does not."""

    def __init__(
        self,
        lock: PostgresLock | FileLock | SoleLock,
        build: Callable[[Callable[[], bool]], BaseScheduler],
        retry: float = STANDBY_RETRY,
    ):
        self.lock = lock
        self.build = build  # build(may_run) -> a started-later BackgroundScheduler
        self.retry = retry
        self.leading = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Lead or stand by until `stop` is set."""
        standing_by = False
        while not stop.is_set():
            if self.lock.acquire():
                standing_by = False
                self._lead(stop)
            elif not standing_by:
                log.info("standby: another worker holds the leader lock; trying every %.0f s", self.retry)
                standing_by = True
            stop.wait(self.retry)

    def _lead(self, stop: threading.Event) -> None:
        log.info("leader: this worker polls (%s)", self.lock.describe())
        self.leading.set()
        scheduler = self.build(self.leading.is_set)
        scheduler.start()
        try:
            while not stop.wait(self.retry):
                if not self.lock.held():
                    log.warning("leader lock lost: no new polls from this worker; standing by")
                    break
        finally:
            self.leading.clear()  # jobs that have not started yet are skipped from here on
            scheduler.shutdown(wait=True)
            self.lock.release()
