"""The push queue: jobs in the database (events, verifications, deliveries, inbox requests), kept on restart.

The pipeline only ever calls `announce_change`, one INSERT; the worker thread (push/worker.py) claims due
jobs, runs them and retries failures with exponential backoff. A claim is a lock with an expiry, so a job
held by a process that died is picked up again, and two worker processes never run the same job at once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, insert, not_, or_, select, true, update
from sqlalchemy.engine import Engine

from ..config.push import Retry
from ..tables import from_row, push_jobs

LOCK = timedelta(minutes=2)  # longer than any single delivery may take (the HTTP deadline is 15 s)
# Set when this process queues a job, so an embedded worker starts at once instead of at its next poll.
WAKE = threading.Event()

EVENT = "event"
WEBSUB_VERIFY = "websub-verify"
WEBSUB_DELIVER = "websub-deliver"
AP_DELIVER = "ap-deliver"
AP_INBOX = "ap-inbox"  # a received inbox request waiting for verification; target is its signer's origin
WEBPUSH_DELIVER = "webpush-deliver"  # one notification to one browser; subscription_id: its subscription
CHANNEL_DELIVER = "channel-deliver"  # a post on a city account made, edited or deleted; target: the channel
URGENT, NORMAL = 0, 1  # priorities: Accepts and crisis items go before everything else


@dataclass(frozen=True)
class Job:
    """One unit of push work as stored."""

    id: int
    kind: str
    feed_id: str | None = None
    subscription_id: int | None = None
    target: str | None = None
    body: bytes | None = None
    meta: dict = field(default_factory=dict)
    priority: int = NORMAL
    attempts: int = 0
    created_at: datetime | None = None  # when it was queued (delivery latency is measured from here)


class PushQueue:
    """The WebSub and ActivityPub channel: a publication becomes one queued event; the worker fans it out,
    so a slow subscriber never delays a refresh."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def published(self, feed_id: str, renditions, now: datetime) -> None:
        """Queue the news for WebSub subscribers and ActivityPub followers."""
        announce_change(self.engine, feed_id, now)

    def health_changed(self, feed_id: str) -> None:
        """Nothing to push: subscribers get content, not health."""


def announce_change(engine: Engine, feed_id: str, now: datetime) -> None:
    """The pipeline's hook: a feed's published content changed; the worker fans that out to subscribers."""
    enqueue(engine, EVENT, now, feed_id=feed_id)


def enqueue(
    engine: Engine,
    kind: str,
    now: datetime,
    *,
    feed_id: str | None = None,
    subscription_id: int | None = None,
    target: str | None = None,
    body: bytes | None = None,
    meta: dict | None = None,
    priority: int = NORMAL,
) -> None:
    """Queue one job, due now, and wake this process's worker."""
    row = {
        "kind": kind,
        "feed_id": feed_id,
        "subscription_id": subscription_id,
        "target": target,
        "body": body,
        "meta": json.dumps(meta or {}, ensure_ascii=False),
        "priority": priority,
        "attempts": 0,
        "due_at": now,
        "created_at": now,
    }
    with engine.begin() as connection:
        connection.execute(insert(push_jobs).values(**row))
    WAKE.set()


@dataclass(frozen=True)
class Held:
    """Jobs of one kind a worker does not take now: all of them, or those for some targets."""

    kind: str | None = None
    every: bool = False
    targets: frozenset[str] = frozenset()

    def clause(self):
        """The SQL condition of the jobs that may be taken."""
        if self.kind is None or not (self.every or self.targets):
            return true()
        held = true() if self.every else push_jobs.c.target.in_(sorted(self.targets))
        return not_(and_(push_jobs.c.kind == self.kind, held))


def claim_due(engine: Engine, now: datetime, limit: int, held: Held = Held()) -> list[Job]:
    """Lock up to `limit` due jobs for this worker, most urgent and oldest first, none that are held."""
    query = (
        select(push_jobs)
        .where(
            push_jobs.c.due_at <= now,
            or_(push_jobs.c.locked_until.is_(None), push_jobs.c.locked_until < now),
            held.clause(),
        )
        .order_by(push_jobs.c.priority, push_jobs.c.id)
        .limit(limit)
    )
    claimed = []
    with engine.begin() as connection:
        for row in connection.execute(query).mappings().all():
            # The lock is taken only if nobody took it since the select: another worker may run too.
            taken = connection.execute(
                update(push_jobs)
                .where(
                    push_jobs.c.id == row["id"],
                    or_(push_jobs.c.locked_until.is_(None), push_jobs.c.locked_until < now),
                )
                .values(locked_until=now + LOCK)
            )
            if taken.rowcount == 1:
                claimed.append(_job(row))
    return claimed


def release(engine: Engine, job: Job) -> None:
    """Give a claimed job back untouched, for a later claim (no attempt counted)."""
    with engine.begin() as connection:
        connection.execute(update(push_jobs).where(push_jobs.c.id == job.id).values(locked_until=None))


def finish(engine: Engine, job: Job) -> None:
    """A job succeeded (or is moot): remove it."""
    with engine.begin() as connection:
        connection.execute(delete(push_jobs).where(push_jobs.c.id == job.id))


def retry_later(engine: Engine, job: Job, error: str, now: datetime, retry: Retry) -> bool:
    """Count a failed attempt and schedule the next with backoff; False (and dropped) when out of attempts."""
    attempts = job.attempts + 1
    with engine.begin() as connection:
        if attempts >= retry.max_attempts:
            connection.execute(delete(push_jobs).where(push_jobs.c.id == job.id))
            return False
        connection.execute(
            update(push_jobs)
            .where(push_jobs.c.id == job.id)
            .values(
                attempts=attempts,
                due_at=now + timedelta(seconds=retry.wait(attempts)),
                locked_until=None,
                last_error=error[:1000],
            )
        )
    return True


def drop_pending(engine: Engine, kind: str, target: str) -> int:
    """Remove the jobs of a kind for a target that nobody runs now; how many."""
    with engine.begin() as connection:
        result = connection.execute(
            delete(push_jobs).where(
                push_jobs.c.kind == kind, push_jobs.c.target == target, push_jobs.c.locked_until.is_(None)
            )
        )
    return result.rowcount or 0


def drop_events_before(engine: Engine, feed_id: str, job_id: int) -> None:
    """Older change events of a feed are covered by the one being handled: one fan-out serves them all."""
    with engine.begin() as connection:
        connection.execute(
            delete(push_jobs).where(
                push_jobs.c.kind == EVENT,
                push_jobs.c.feed_id == feed_id,
                push_jobs.c.id < job_id,
                push_jobs.c.locked_until.is_(None),
            )
        )


def drop_for_subscription(engine: Engine, subscription_id: int) -> None:
    """Queued deliveries of a subscription that just ended are not sent."""
    with engine.begin() as connection:
        connection.execute(
            delete(push_jobs).where(
                push_jobs.c.kind == WEBSUB_DELIVER, push_jobs.c.subscription_id == subscription_id
            )
        )


def pending(engine: Engine, kind: str | None = None) -> int:
    """How many jobs (of one kind) are queued or running."""
    query = select(func.count()).select_from(push_jobs)
    if kind is not None:
        query = query.where(push_jobs.c.kind == kind)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def pending_deliveries(engine: Engine, feed_id: str, item_id: str) -> dict[str, Job]:
    """The channel jobs queued or running for one item of a feed, by channel."""
    query = select(push_jobs).where(push_jobs.c.kind == CHANNEL_DELIVER, push_jobs.c.feed_id == feed_id)
    with engine.connect() as connection:
        jobs = [_job(row) for row in connection.execute(query.order_by(push_jobs.c.id)).mappings()]
    return {job.target or "": job for job in jobs if job.meta.get("item") == item_id}


def _job(row) -> Job:
    return from_row(Job, row, meta=json.loads(row["meta"] or "{}"))
