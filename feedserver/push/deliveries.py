"""Where an announcement stands on each channel, for the desk: queued, sent (with the post's address), failed
(with the reason), and the retry of a failed delivery.

A post row (channel_records) says what the network should have and what it has; a delivery job (outbox) says
whether the queue still works on it. A row whose last attempt failed is "retrying" while its job waits for
the next attempt, and "failed" once the queue gave up (out of attempts, or an error no retry mends): only
then may someone retry it, which queues the same job again (the row's idempotency key keeps a retry from
posting twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..desk.rules import Announcement
from ..notices import announcement_item_id
from ..runtime import Runtime
from . import channel_records as records
from . import outbox
from .social import queue

# What the desk shows, by state: a post on its way, on the network, being taken off, off, or never posted.
STATES = ("queued", "retrying", "failed", "sent", "correcting", "deleting", "deleted", "not-posted", "none")


@dataclass(frozen=True)
class Delivery:
    """One channel's state for one item."""

    channel: str
    state: str  # one of STATES
    url: str | None = None  # the post's public address, once sent
    error: str | None = None  # why the last attempt failed
    attempts: int = 0  # failed attempts of the job still queued
    changed_at: datetime | None = None

    @property
    def retryable(self) -> bool:
        return self.state == "failed"


def of_announcement(runtime: Runtime, announcement: Announcement) -> list[Delivery]:
    """Each channel's state for an announcement: those it was posted to, and those its version online is
    to go to (every channel for a crisis)."""
    online, feed = announcement.published, runtime.settings.feeds.get(announcement.feed_id)
    expected: Iterable[str] = ()
    if online is not None and online.crisis:
        expected = runtime.settings.channels
    elif online is not None and feed is not None:
        expected = [n for n in feed.channels if online.channels is None or n in online.channels]
    item_id = announcement_item_id(announcement.feed_id, announcement.id)
    return deliveries(runtime, announcement.feed_id, item_id, expected)


def deliveries(runtime: Runtime, feed_id: str, item_id: str, expected: Iterable[str]) -> list[Delivery]:
    """Each channel's state for an item: those with a post row, then those `expected` (configured) still
    without one, in the order of the config."""
    engine = runtime.store.engine
    jobs = outbox.pending_deliveries(engine, feed_id, item_id)
    expected = set(expected)
    found = []
    for name in runtime.settings.channels:
        post = records.post(engine, name, feed_id, item_id)
        if post is not None:
            found.append(_delivery(post, jobs.get(name)))
        elif name in expected:
            found.append(Delivery(name, "none"))
    return found


def _delivery(post: records.Post, job: outbox.Job | None) -> Delivery:
    state = _state(post, job)
    url = post.remote_url if post.remote_id and state != "deleted" else None
    if url is not None and not url.startswith(("https://", "http://")):
        url = None  # the network's answer gave it: a javascript: or data: address is never a link
    attempts = job.attempts if job is not None else 0
    return Delivery(post.channel, state, url, post.error, attempts, post.changed_at)


def _state(post: records.Post, job: outbox.Job | None) -> str:
    if post.state in ("backlog", "skipped"):
        return "not-posted"
    if post.state == "deleted":
        return "deleted"
    if post.error is not None:
        return "retrying" if job is not None else "failed"
    if post.state == "withdrawn":
        return "deleting"
    if post.remote_id is None:
        return "queued"
    return "correcting" if post.text != post.sent_text else "sent"


def retry(runtime: Runtime, feed_id: str, item_id: str, channel: str, now: datetime) -> bool:
    """Queue a failed delivery again; False when there is none to retry (never failed, or on its way)."""
    engine = runtime.store.engine
    post = records.post(engine, channel, feed_id, item_id)
    if post is None or channel not in runtime.settings.channels:
        return False
    job = outbox.pending_deliveries(engine, feed_id, item_id).get(channel)
    if _state(post, job) != "failed":
        return False
    return queue(runtime, post, now) == 1
