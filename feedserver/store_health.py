"""Whether the store can write (the readiness probe), and the failures it could not write (a full disk).

A refresh that cannot write fails; recording that failure on the feed is a second, small write, which a
full disk may refuse too. Then the failure lives here, and the store merges it into every FeedState it
reports, so /api/v1/status, the feeds' status headers and the backoff still see it. The first successful
write of the feed's state (a later failure, or a success) replaces it. Per process: another process reports
what the database holds, and its /readyz its own write probe.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from .errors import StorageError
from .stored import FeedState
from .tables import feeds

MAX_ERROR = 1000  # characters of last_error, as the feeds table keeps it
FAILURE_FIELDS = ("last_attempt", "last_error", "failures", "stale_since", "retry_at")  # what a failure sets


class Unwritten:
    """feed id -> the failure last recorded in memory because the database refused it."""

    def __init__(self):
        self._failures: dict[str, FeedState] = {}
        self._lock = threading.Lock()

    def failed(self, state: FeedState, error: str, now: datetime, retry_at: datetime | None) -> FeedState:
        """A failed refresh on top of `state`: one more failure, stale since the first, kept here."""
        failure = replace(
            state,
            last_attempt=now,
            last_error=error[:MAX_ERROR],
            failures=state.failures + 1,
            stale_since=state.stale_since or now,
            retry_at=retry_at,
        )
        with self._lock:
            self._failures[state.id] = failure
        return failure

    def merged(self, stored: FeedState) -> FeedState:
        """The stored state with a failure it could not take laid over it."""
        with self._lock:
            failure = self._failures.get(stored.id)
        if failure is None:
            return stored
        return replace(stored, **{name: getattr(failure, name) for name in FAILURE_FIELDS})

    def feed_ids(self) -> set[str]:
        """The feeds with a failure held here."""
        with self._lock:
            return set(self._failures)

    def written(self, feed_id: str) -> None:
        """The feed's state reached the database: nothing is held for it any more."""
        with self._lock:
            self._failures.pop(feed_id, None)


def storage_error(exc: OperationalError) -> StorageError:
    """One line for a database that refused a write, without the SQL: 'database or disk is full'."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return StorageError(f"cannot write to the database: {reason[0] if reason else type(exc).__name__}")


def as_storage_error(exc: Exception) -> Exception:
    """A database's refusal (OperationalError) as a StorageError; any other exception as it is."""
    return storage_error(exc) if isinstance(exc, OperationalError) else exc


def write_probe(connection: Connection) -> None:
    """Insert a feeds row and delete it again, in the caller's transaction, which must commit.

    No reader ever sees the row, but the commit must reach the disk: a rolled-back write never does (SQLite
    keeps it in memory), so it could not find a disk full, nor could rewriting a value with itself.
    """
    probe = f"~probe-{uuid.uuid4().hex[:16]}"  # "~" is never in a feed id
    connection.execute(insert(feeds).values(id=probe, source="-", validators="{}", failures=0))
    connection.execute(delete(feeds).where(feeds.c.id == probe))
