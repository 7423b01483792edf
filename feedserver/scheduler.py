"""APScheduler jobs calling pipeline.refresh at each feed's interval; started by `serve` and `worker` only."""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from .leader import STANDBY_RETRY, Leadership, leader_lock
from .output import publish_due as publish_due_feeds
from .pipeline import refresh
from .push import channel_replies

log = logging.getLogger(__name__)
MAX_JITTER = 300  # seconds
PUBLISH_DUE_EVERY = 30  # seconds between checks for renditions whose reminder or crisis time has come


def build_scheduler(
    app: Flask, blocking: bool = False, may_run: Callable[[], bool] | None = None
) -> BaseScheduler:
    """One interval job per feed, with jitter, never two runs of the same feed at once.

    may_run: asked before each job starts (a worker that lost the leader lock answers False).
    """
    runtime = app.extensions["feedserver"]
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)
    states = runtime.store.feed_states()
    now = datetime.now(UTC)
    for feed in runtime.settings.feeds.values():
        scheduler.add_job(
            run_refresh,
            IntervalTrigger(seconds=feed.every, jitter=min(feed.every // 10, MAX_JITTER), timezone=UTC),
            args=(app, feed.id, may_run),
            id=f"refresh:{feed.id}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(30, feed.every // 2),
            next_run_time=first_run(states.get(feed.id), feed.every, now),
        )
    # The one job that publishes feeds whose renditions fell due (a reminder, a crisis notice): requests
    # render them for themselves, but only publication saves them, writes static files, tells subscribers.
    scheduler.add_job(
        publish_due,
        IntervalTrigger(seconds=PUBLISH_DUE_EVERY, timezone=UTC),
        args=(app, may_run),
        id="publish-due",
        max_instances=1,
        coalesce=True,
    )
    for channel in runtime.settings.channels.values():
        if channel.replies and runtime.settings.replies.enabled:
            every = channel.replies_every
            scheduler.add_job(
                poll_replies,
                IntervalTrigger(seconds=every, jitter=every // 10, timezone=UTC),
                args=(app, channel.name, may_run),
                id=f"replies:{channel.name}",
                max_instances=1,
                coalesce=True,
            )
    return scheduler


def first_run(state, every: int, now: datetime) -> datetime:
    """Poll soon when the data is missing or older than the interval, else when it falls due."""
    stagger = timedelta(seconds=random.uniform(0, 5))  # so a restart does not hit every upstream at once
    if state is None or state.last_success is None:
        return now + stagger
    due = state.last_success + timedelta(seconds=every)
    return max(due, now + stagger)


def run_refresh(app: Flask, feed_id: str, may_run: Callable[[], bool] | None = None) -> None:
    """The job body: one refresh inside the app context, logged."""
    if may_run is not None and not may_run():
        log.debug("%s: not polled, this worker is not the leader", feed_id)
        return
    with app.app_context():
        result = refresh(app.extensions["feedserver"], feed_id)
    if result.skipped:
        log.debug(result.line())
    else:
        (log.info if result.ok else log.warning)(result.line())


def publish_due(app: Flask, may_run: Callable[[], bool] | None = None) -> None:
    """The job body: publish the feeds whose renditions fell due, inside the app context."""
    if may_run is not None and not may_run():
        return
    with app.app_context():
        due = publish_due_feeds(app.extensions["feedserver"], datetime.now(UTC))
    if due:
        log.info("published again, a reminder or notice fell due: %s", ", ".join(due))


def poll_replies(app: Flask, channel_name: str, may_run: Callable[[], bool] | None = None) -> None:
    """The job body: read one channel's new replies (push/channel_replies.py), inside the app context."""
    if may_run is not None and not may_run():
        return
    runtime = app.extensions["feedserver"]
    with app.app_context():
        kept = channel_replies.poll(runtime, runtime.settings.channels[channel_name], datetime.now(UTC))
    if kept:
        log.info("channel %s: %d new replies kept for the offices", channel_name, kept)


def leadership(app: Flask, retry: float = STANDBY_RETRY) -> Leadership:
    """This process's bid to be the one poller of the app's database (see leader.py)."""
    lock = leader_lock(app.extensions["feedserver"].store)
    return Leadership(lock, lambda may_run: build_scheduler(app, may_run=may_run), retry)


def run_worker(app: Flask, retry: float = STANDBY_RETRY, stop: threading.Event | None = None) -> None:
    """`feedserver worker`: poll while holding the leader lock, stand by otherwise; SIGTERM/SIGINT end it."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    leadership(app, retry).run(stop)


class BackgroundPoller:
    """`feedserver serve`'s polling, in a thread beside the web server. It takes the same leader lock as
    `feedserver worker`, so a serve next to workers, or two serves on one database, poll each feed once."""

    def __init__(self, app: Flask, retry: float = STANDBY_RETRY):
        self.leadership = leadership(app, retry)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.leadership.run, args=(self._stop,), name="feedserver-poller", daemon=True
        )

    def start(self) -> BackgroundPoller:
        """Lead or stand by from now on."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        """Stop polling (a running refresh finishes first) and release the lock."""
        self._stop.set()
        self._thread.join(timeout)
