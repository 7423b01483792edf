"""A feed actor's inbox: signed Follow, Undo{Follow}, Delete{actor}, citizens' replies (push/replies.py) and
their Deletes; everything else is acknowledged.

Two halves, so that no web thread ever waits for a remote server. The view calls `arrival`, which does only
local checks (size, JSON shape, the Signature's form, Date window and Digest, one origin for key, actor and
objects: push/ap_trust.py), then `queue`, which stores the request as an `ap-inbox` job and answers 202.
The push worker runs `process`: it fetches the key and its owner's actor document, verifies, and acts. A
request that does not verify is logged in one line and dropped; the sender was told 202 already, as
Mastodon's inbox tells its senders once a request is queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urldefrag

from flask import Request
from sqlalchemy import case, func, select

from ..config import FeedSettings
from ..runtime import Runtime
from ..tables import push_jobs
from . import ap_documents, ap_federate, outbox, records, replies, stats
from .ap_remote import RemoteError, remote_actor
from .ap_trust import Untrusted, check_origins, id_of, signer
from .http import PushError, origin, url_problem
from .signatures import SignatureError, precheck, signed_headers

MAX_BODY = 256 * 1024
QUEUE_FULL_RETRY = 60  # seconds a sender is asked to wait when too many requests wait for verification
ORIGIN_SHARE = 10  # one origin may hold at most this fraction of the queue: 1/10


class InboxError(Exception):
    """An inbox request refused: status and a detail that never echoes the request."""

    def __init__(self, status: int, detail: str, retry_after: int | None = None):
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


@dataclass(frozen=True)
class Arrival:
    """An inbox request that passed the local checks: what the worker needs to verify it later."""

    feed_id: str
    origin: str  # of the keyId: what the rate limit and the queue's shares count by
    path: str
    headers: dict[str, str]
    body: bytes


def arrival(runtime: Runtime, feed: FeedSettings, request: Request, now: datetime) -> Arrival | None:
    """Check an inbox POST without the network; None when there is nothing to do, InboxError if refused."""
    if (request.content_length or 0) > MAX_BODY:
        raise InboxError(413, f"Activities are limited to {MAX_BODY} bytes.")
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        raise InboxError(413, f"Activities are limited to {MAX_BODY} bytes.")
    try:
        key_id = precheck("POST", request.headers, body, now)
    except SignatureError as exc:
        raise InboxError(401, f"Inbox requests must carry a valid HTTP signature: {exc}.") from None
    if url_problem(runtime.settings, urldefrag(key_id).url):  # e.g. a private address: never fetched
        raise InboxError(401, "The signing key cannot be fetched from this server.")
    activity = _activity(body)
    try:
        check_origins(activity, key_id)
    except Untrusted as exc:
        raise InboxError(401, f"The activity is not its signer's to send: {exc}.") from None
    if not _actionable(runtime, feed, activity):
        return None
    path = request.path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
    return Arrival(feed.id, origin(key_id), path, signed_headers(request.headers), body)


def queue(runtime: Runtime, request: Arrival, now: datetime) -> None:
    """Store an inbox request for the worker to verify; InboxError 503 when too many wait already."""
    total, mine = _waiting(runtime, request.origin)
    limit = runtime.settings.push.inbox_queue_limit
    if total >= limit or mine >= max(1, limit // ORIGIN_SHARE):
        raise InboxError(503, "Too many activities wait for verification.", QUEUE_FULL_RETRY)
    meta = {"path": request.path, "headers": request.headers, "received": now.isoformat()}
    outbox.enqueue(
        runtime.store.engine, outbox.AP_INBOX, now, feed_id=request.feed_id, target=request.origin,
        body=request.body, meta=meta, priority=outbox.URGENT,
    )  # fmt: skip


def process(runtime: Runtime, job: outbox.Job, now: datetime) -> str | None:
    """The worker's half: verify a queued request and act on it; the activity type handled.

    PushError(retry=False) when the request is not its sender's; PushError to retry when a remote document
    cannot be fetched right now.
    """
    feed = runtime.settings.feeds.get(job.feed_id or "")
    if feed is None:
        return None  # removed from the config since
    activity = json.loads(job.body)
    try:
        actor = signer(runtime, feed.id, job.meta, job.body, activity)
    except Untrusted as exc:
        raise PushError(f"inbox request refused: {exc}", retry=False) from None
    return _dispatch(runtime, feed, activity, actor, now)


def _activity(body: bytes) -> dict:
    try:
        activity = json.loads(body)
    except ValueError:
        raise InboxError(400, "The body must be an ActivityStreams JSON object.") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise InboxError(400, "The body must be an ActivityStreams JSON object with a type.")
    return activity


def _actionable(runtime: Runtime, feed: FeedSettings, activity: dict) -> bool:
    """Whether verifying may lead anywhere: a follow of this feed, or an undo or deletion by a follower.

    Everything else (likes, boosts, replies, the account deletions a big server sends everyone) is
    acknowledged without fetching a single key.
    """
    kind, inner, actor = activity["type"], activity.get("object"), id_of(activity.get("actor"))
    me = ap_documents.actor_url(runtime.settings, feed.id)
    if kind == "Follow":
        return id_of(inner) == me
    if kind == "Undo" and isinstance(inner, dict) and inner.get("type") == "Follow":
        return id_of(inner.get("object")) in (me, None)  # its Follow may still wait in the queue
    if kind == "Delete" and id_of(inner) == actor:
        # a follower, or someone whose follow may still wait in the queue
        return records.follows(runtime.store.engine, actor) or _waiting(runtime, origin(actor))[1] > 0
    return replies.addressed(runtime, feed, activity) or replies.withdrawn(runtime, activity)


def _waiting(runtime: Runtime, source: str) -> tuple[int, int]:
    """Inbox requests waiting for verification: all of them, and those from one origin."""
    mine = func.sum(case((push_jobs.c.target == source, 1), else_=0))
    query = select(func.count(), mine).where(push_jobs.c.kind == outbox.AP_INBOX)
    with runtime.store.engine.connect() as connection:
        total, from_origin = connection.execute(query).one()
    return total, int(from_origin or 0)


def _dispatch(runtime: Runtime, feed: FeedSettings, activity: dict, actor: str, now: datetime) -> str:
    kind = activity["type"]
    me = ap_documents.actor_url(runtime.settings, feed.id)
    inner = activity.get("object")
    if kind == "Follow" and id_of(inner) == me:
        _follow(runtime, feed, activity, actor, now)
    elif kind == "Undo" and isinstance(inner, dict) and inner.get("type") == "Follow":
        if id_of(inner.get("object")) in (me, None) and id_of(inner.get("actor")) in (actor, None):
            records.remove_follower(runtime.store.engine, actor, feed.id)
            stats.record_audience(runtime, now)
    elif kind == "Delete" and id_of(inner) == actor:
        records.remove_follower(runtime.store.engine, actor)  # the account is gone: from every feed
        stats.record_audience(runtime, now)
    elif replies.retracted(activity):
        replies.forget(runtime, activity, actor)
    elif replies.addressed(runtime, feed, activity):
        replies.take(runtime, feed, activity, actor, now)
    return kind


def _follow(runtime: Runtime, feed: FeedSettings, follow: dict, actor: str, now: datetime) -> None:
    """Store the follower and queue the Accept; the feed's current items are its backlog, not news."""
    try:
        remote = remote_actor(runtime, feed.id, actor)
    except RemoteError as exc:
        raise PushError(f"the follower's actor cannot be used: {exc}", retry=exc.transient) from None
    ap_federate.ensure_actor(runtime, feed, now)  # so the first item after the follow is news, not backlog
    records.add_follower(
        runtime.store.engine, feed.id, records.Follower(actor, remote.inbox, remote.shared_inbox), now
    )
    ap_federate.queue_accept(runtime, feed.id, remote.inbox, follow, now)
    stats.record_audience(runtime, now)
