"""The push worker: a thread in `feedserver serve` / `feedserver worker` that drains the job queue.

Jobs run on a small pool, so one slow subscriber holds one slot for at most the push deadline while the
others keep flowing; the refresh pipeline only ever inserts a row. Failed deliveries come back with
exponential backoff until their attempts run out. Received inbox requests are verified here (their key
fetches may meet a server that drips): they get at most half the slots, one per remote origin at a time.
Expired subscriptions and citizens' messages past their retention time are purged now and then. (Feeds
whose reminder time came are published again by the scheduler's publish-due job; that is news too, and
reaches this queue like any other change.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask

from .. import metrics
from ..output import forget
from . import ap_federate, ap_inbox, outbox, records, replies, social, stats, webpush, websub
from .http import PushError

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # how often the queue is looked at when nothing woke the worker
HOUSEKEEPING_SECONDS = 3600.0
INBOX_ATTEMPTS = (
    1  # an inbox request whose key cannot be fetched is dropped (its sender retries its delivery)
)


class InboxSlots:
    """How many inbox verifications run at once: half the pool at most, one per remote origin.

    A server whose key documents drip holds one slot until the fetch deadline, never the whole pool:
    deliveries and the other origins' requests keep flowing.
    """

    def __init__(self, threads: int):
        self.limit = max(1, threads // 2)
        self.running: Counter[str] = Counter()

    def held(self) -> outbox.Held:
        """The inbox jobs not to claim now."""
        if sum(self.running.values()) >= self.limit:
            return outbox.Held(outbox.AP_INBOX, every=True)
        return outbox.Held(outbox.AP_INBOX, targets=frozenset(self.running))

    def take(self, job: outbox.Job) -> bool:
        """Count a claimed job in; False when it has to wait (its origin or the inbox share is busy)."""
        if job.kind != outbox.AP_INBOX:
            return True
        if sum(self.running.values()) >= self.limit or self.running[job.target or ""]:
            return False
        self.running[job.target or ""] += 1
        return True

    def give_back(self, job: outbox.Job) -> None:
        """A job ended."""
        if job.kind == outbox.AP_INBOX:
            self.running -= Counter({job.target or "": 1})


class PushWorker:
    """Claims due jobs and runs them on a thread pool until stopped."""

    def __init__(self, app: Flask, threads: int = 4, poll: float = POLL_SECONDS):
        self.app = app
        self.runtime = app.extensions["feedserver"]
        self.threads = threads
        self.poll = poll
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="push")
        self._running: dict = {}  # future -> job
        self._inbox = InboxSlots(threads)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="push-worker", daemon=True)
        self._housekeeping_at = 0.0

    def start(self) -> PushWorker:
        """Start draining in the background."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming jobs, let running ones end; unfinished ones are picked up after a restart."""
        self._stop.set()
        outbox.WAKE.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        stats.flush(self.app)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.drain_once()
                self._housekeeping()
            except Exception:  # noqa: BLE001 - the worker outlives a database hiccup; the job is retried later
                log.exception("push worker cycle failed")
                claimed = 0
            if not claimed:
                outbox.WAKE.wait(self.poll)
                outbox.WAKE.clear()

    def drain_once(self) -> int:
        """Claim as many due jobs as there are free slots and start them; how many were claimed."""
        engine = self.runtime.store.engine
        with self._lock:
            free = self.threads - len(self._running)
            held = self._inbox.held()
        if free <= 0:
            return 0
        jobs = outbox.claim_due(engine, _now(), free, held)
        started = 0
        for job in jobs:
            with self._lock:
                admitted = self._inbox.take(job)
            if not admitted:  # a second job of a busy origin in this claim: it waits for the first
                outbox.release(engine, job)
                continue
            future = self._pool.submit(self._run, job)
            with self._lock:
                self._running[future] = job
            future.add_done_callback(self._done)
            started += 1
        return started

    def _done(self, future) -> None:
        with self._lock:
            job = self._running.pop(future, None)
            if job is not None:
                self._inbox.give_back(job)
        outbox.WAKE.set()  # a slot is free

    def _run(self, job: outbox.Job) -> None:
        engine = self.runtime.store.engine
        with self.app.app_context():
            try:
                run_job(self.app, job, _now())
            except PushError as exc:
                self._failed(job, exc)
                return
            except Exception as exc:  # noqa: BLE001 - one bad job must not stop the queue; it is retried
                log.exception("push job %s (%s) failed", job.id, job.kind)
                self._failed(job, PushError(f"{type(exc).__name__}: {exc}"))
                return
        outbox.finish(engine, job)
        metrics.observe_delivery(job.kind, job.created_at, _now(), ok=True)

    def _failed(self, job: outbox.Job, error: PushError) -> None:
        engine = self.runtime.store.engine
        retry = _retry_policy(self.runtime.settings.push, job)
        if job.kind == outbox.AP_INBOX and error.retry:
            # The origin's key cannot be had now, so none of its queued requests can be verified: they are all
            # dropped at once (senders retry their deliveries). An unreachable or dripping key server thus
            # frees its share of the queue after one deadline, instead of holding it, and real followers out.
            # (A signature that does not hold drops only its own request: anyone can name any origin.)
            dropped = outbox.drop_pending(engine, outbox.AP_INBOX, job.target or "")
            log.warning(
                "push job %s (%s to %s) dropped, with %d queued from that origin: %s",
                *(job.id, job.kind, _host(job), dropped, error),
            )
            outbox.finish(engine, job)
            return
        if error.retry and outbox.retry_later(engine, job, str(error), _now(), retry):
            log.info("push job %s (%s to %s) failed, will retry: %s", job.id, job.kind, _host(job), error)
            return
        log.warning("push job %s (%s to %s) dropped: %s", job.id, job.kind, _host(job), error)
        outbox.finish(engine, job)
        metrics.observe_delivery(job.kind, job.created_at, _now(), ok=False)

    def _housekeeping(self) -> None:
        if time.monotonic() < self._housekeeping_at:
            return
        self._housekeeping_at = time.monotonic() + HOUSEKEEPING_SECONDS
        with self.app.app_context():
            records.purge_expired(self.runtime.store.engine, _now())
            replies.purge(self.runtime, _now())  # citizens' messages past the retention time
            stats.record_audience(self.runtime, _now())
            stats.flush(self.app)


def run_job(app: Flask, job: outbox.Job, now: datetime) -> None:
    """Do one job: fan out a change, verify a subscriber, or deliver to a callback or inbox."""
    runtime = app.extensions["feedserver"]
    if job.kind == outbox.EVENT:
        fan_out(app, job, now)
    elif job.kind == outbox.WEBSUB_VERIFY:
        websub.verify(runtime, job, now)
        stats.record_audience(runtime, now)
    elif job.kind == outbox.WEBSUB_DELIVER:
        websub.deliver(runtime, job, now)
    elif job.kind == outbox.AP_DELIVER:
        ap_federate.deliver(runtime, job, now)
    elif job.kind == outbox.AP_INBOX:
        ap_inbox.process(runtime, job, now)
    elif job.kind == outbox.CHANNEL_DELIVER:
        social.deliver(runtime, job, now)
    elif job.kind == outbox.WEBPUSH_DELIVER:
        webpush.deliver(runtime, job, now)
    else:
        raise PushError(f"unknown job kind {job.kind!r}", retry=False)


def fan_out(app: Flask, job: outbox.Job, now: datetime) -> None:
    """A feed changed: queue its new content for WebSub subscribers, its news for ActivityPub followers and
    for the city's accounts."""
    runtime = app.extensions["feedserver"]
    feed = runtime.settings.feeds.get(job.feed_id)
    if feed is None:
        return  # removed from the config since
    outbox.drop_events_before(runtime.store.engine, feed.id, job.id)
    # The change may come from another process (`feedserver fetch`, a separate worker): this process's
    # cached bytes of the feed are stale by definition, and topics are read through that cache.
    forget(runtime, feed.id)
    websub.fan_out(app, runtime, feed.id, now)
    if runtime.settings.push.activitypub:
        ap_federate.sync(runtime, feed, now)
    social.sync(runtime, feed, now)
    webpush.sync(runtime, feed, now)


def _retry_policy(push, job: outbox.Job):
    if job.kind == outbox.AP_INBOX:
        return replace(push.activitypub_retry, max_attempts=INBOX_ATTEMPTS)
    remote_servers = (outbox.AP_DELIVER, outbox.CHANNEL_DELIVER, outbox.WEBPUSH_DELIVER)
    return push.activitypub_retry if job.kind in remote_servers else push.websub_retry


def _host(job: outbox.Job) -> str:
    """Only the host of a target goes to the log: a callback URL may carry a subscriber's token."""
    return urlsplit(job.target or "").hostname or "-"


def _now() -> datetime:
    return datetime.now(UTC)
