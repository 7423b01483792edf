"""Usage statistics without personal data: per feed, format and day, requests and 304s; subscriber counts.

Only counters exist: no address, user agent, referrer or identifier of a reader is looked at, let alone
stored. Requests are counted in memory (a dict increment under a lock on the hot path) and added to the
`stats_daily` table at most every FLUSH_SECONDS by whichever request crosses that mark, and at exit.
WebSub subscribers and ActivityPub followers are counted from their tables whenever they change.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..renditions import formats_of
from ..runtime import Runtime
from ..tables import stats_daily
from . import records
from .topics import INTERNAL

log = logging.getLogger(__name__)
FLUSH_SECONDS = 10.0
ACTIVITYPUB = "activitypub"  # the stats "format" of followers
EXTENSION = "feedserver.stats"


class RequestCounter:
    """Feed requests per (day, feed, format) in memory, added to the database now and then."""

    def __init__(self, engine: Engine, timezone: str, flush_every: float = FLUSH_SECONDS):
        self.engine = engine
        self.zone = ZoneInfo(timezone)
        self.flush_every = flush_every
        self._requests: Counter = Counter()
        self._not_modified: Counter = Counter()
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def count(self, feed_id: str, fmt: str, not_modified: bool) -> None:
        """Count one answered feed request (200 or 304) for today, in the server's time zone."""
        key = (datetime.now(self.zone).date(), feed_id, fmt)
        with self._lock:
            self._requests[key] += 1
            if not_modified:
                self._not_modified[key] += 1
            due = time.monotonic() - self._last_flush >= self.flush_every
            if due:
                self._last_flush = time.monotonic()
        if due:
            self.flush()

    def flush(self) -> None:
        """Add the counts so far to stats_daily (kept in memory for the next try if the database fails)."""
        with self._lock:
            requests, not_modified = self._requests, self._not_modified
            self._requests, self._not_modified = Counter(), Counter()
        if not requests:
            return
        try:
            add_counts(self.engine, requests, not_modified)
        except SQLAlchemyError as exc:
            log.warning("could not store request statistics (%s); kept for the next try", type(exc).__name__)
            with self._lock:
                self._requests.update(requests)
                self._not_modified.update(not_modified)


def init_app(app: Flask) -> None:
    """Keep a request counter for the feed view (count_feed_request); flush it at exit."""
    runtime = app.extensions["feedserver"]
    counter = RequestCounter(runtime.store.engine, runtime.settings.server.timezone)
    app.extensions[EXTENSION] = counter
    # The last seconds' counts are stored at exit; a weak reference, so an app that is gone is not kept alive.
    atexit.register(_flush_if_alive, weakref.ref(counter))


def _flush_if_alive(reference: weakref.ref) -> None:
    counter = reference()
    if counter is not None:
        counter.flush()


def count_feed_request(feed_id: str, fmt: str, status: int) -> None:
    """Count an answered feed request (200 or 304); the hub's own internal requests are not readers.
    Called by the feed view itself: an after_request hook would cost every request of the app."""
    if status in (200, 304) and not request.environ.get(INTERNAL):
        counter = current_app.extensions.get(EXTENSION)
        if counter is not None:
            counter.count(feed_id, fmt, status == 304)


def add_counts(engine: Engine, requests: Counter, not_modified: Counter) -> None:
    """Add request counts to their days' rows (an upsert: one statement per row, whichever process)."""
    insert = _insert(engine)
    with engine.begin() as connection:
        for (day, feed_id, fmt), count in requests.items():
            extra = not_modified.get((day, feed_id, fmt), 0)
            statement = insert(stats_daily).values(
                day=day, feed_id=feed_id, format=fmt, requests=count, not_modified=extra
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["day", "feed_id", "format"],
                    set_={
                        "requests": stats_daily.c.requests + count,
                        "not_modified": stats_daily.c.not_modified + extra,
                    },
                )
            )


def record_audience(runtime: Runtime, now: datetime) -> None:
    """Store today's WebSub subscriber and ActivityPub follower counts of every feed and format."""
    engine, settings = runtime.store.engine, runtime.settings
    day = now.astimezone(ZoneInfo(settings.server.timezone)).date()
    subscribers = records.subscriber_counts(engine, now)
    followers = records.follower_counts(engine)
    rows = []
    for feed in settings.feeds.values():
        rows += [(feed.id, fmt, subscribers.get((feed.id, fmt), 0)) for fmt in formats_of(feed)]
        if settings.push.activitypub:
            rows.append((feed.id, ACTIVITYPUB, followers.get(feed.id, 0)))
    insert = _insert(engine)
    with engine.begin() as connection:
        for feed_id, fmt, count in rows:
            statement = insert(stats_daily).values(
                day=day, feed_id=feed_id, format=fmt, requests=0, not_modified=0, subscribers=count
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["day", "feed_id", "format"], set_={"subscribers": count}
                )
            )


def flush(app: Flask) -> None:
    """Store this process's pending request counts now."""
    counter = app.extensions.get(EXTENSION)
    if counter is not None:
        counter.flush()


def daily_rows(engine: Engine, since: date) -> list[dict]:
    """Every stored day row since a day, oldest first."""
    query = (
        select(stats_daily)
        .where(stats_daily.c.day >= since)
        .order_by(stats_daily.c.day, stats_daily.c.feed_id, stats_daily.c.format)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def summary(runtime: Runtime, days: int, now: datetime) -> dict:
    """Per feed: requests and 304s per format over the last `days` days, current subscribers, the day rows."""
    today = now.astimezone(ZoneInfo(runtime.settings.server.timezone)).date()
    since = today - timedelta(days=days - 1)
    rows = daily_rows(runtime.store.engine, since)
    subscribers = records.subscriber_counts(runtime.store.engine, now)
    followers = records.follower_counts(runtime.store.engine)
    feeds = []
    for feed in runtime.settings.feeds.values():
        own = [r for r in rows if r["feed_id"] == feed.id]
        formats = {
            fmt: {
                "requests": sum(r["requests"] for r in own if r["format"] == fmt),
                "not_modified": sum(r["not_modified"] for r in own if r["format"] == fmt),
                "websub_subscribers": subscribers.get((feed.id, fmt), 0),
            }
            for fmt in formats_of(feed)
        }
        entry = {"id": feed.id, "title": feed.title, "formats": formats}
        if runtime.settings.push.activitypub:
            entry["activitypub_followers"] = followers.get(feed.id, 0)
        entry["days"] = [_day_row(r) for r in own]
        feeds.append(entry)
    return {"from": since.isoformat(), "to": today.isoformat(), "feeds": feeds}


def _day_row(row: dict) -> dict:
    return {
        "day": row["day"].isoformat(),
        "format": row["format"],
        "requests": row["requests"],
        "not_modified": row["not_modified"],
        "subscribers": row["subscribers"],
    }


def _insert(engine: Engine):
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE (SQLite and PostgreSQL alike)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
