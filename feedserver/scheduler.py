"""APScheduler jobs calling pipeline.refresh at each feed's interval; started by `serve` and `worker` only."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from .pipeline import refresh

log = logging.getLogger(__name__)
MAX_JITTER = 300  # seconds


def build_scheduler(app: Flask, blocking: bool = False) -> BaseScheduler:
    """One interval job per feed, with jitter, never two runs of the same feed at once."""
    runtime = app.extensions["feedserver"]
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)
    states = runtime.store.feed_states()
    now = datetime.now(UTC)
    for feed in runtime.settings.feeds.values():
        scheduler.add_job(
            run_refresh,
            IntervalTrigger(seconds=feed.every, jitter=min(feed.every // 10, MAX_JITTER), timezone=UTC),
            args=(app, feed.id),
            id=f"refresh:{feed.id}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(30, feed.every // 2),
            next_run_time=first_run(states.get(feed.id), feed.every, now),
        )
    return scheduler


def first_run(state, every: int, now: datetime) -> datetime:
    """Poll soon when the data is missing or older than the interval, else when it falls due."""
    stagger = timedelta(seconds=random.uniform(0, 5))  # so a restart does not hit every upstream at once
    if state is None or state.last_success is None:
        return now + stagger
    due = state.last_success + timedelta(seconds=every)
    return max(due, now + stagger)


def run_refresh(app: Flask, feed_id: str) -> None:
    """The job body: one refresh inside the app context, logged."""
    with app.app_context():
        result = refresh(app.extensions["feedserver"], feed_id)
    if result.skipped:
        log.debug(result.line())
    else:
        (log.info if result.ok else log.warning)(result.line())
