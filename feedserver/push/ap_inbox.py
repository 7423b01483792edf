"""A feed actor's inbox: signed Follow, Undo{Follow} and Delete{actor}; everything else is acknowledged.

The request must carry a valid HTTP Signature by a key its actor document vouches for, and that actor must
be the activity's actor: a server cannot follow or unfollow in someone else's name.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import Request

from ..config import FeedSettings
from ..runtime import Runtime
from . import ap_documents, ap_federate, records, stats
from .ap_remote import RemoteError, public_key, remote_actor
from .signatures import SignatureError, verify

MAX_BODY = 256 * 1024


class InboxError(Exception):
    """An inbox request refused: status and a detail that never echoes the request."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def receive(runtime: Runtime, feed: FeedSettings, request: Request, now: datetime) -> str:
    """Verify and act on one inbox POST; the activity type handled (InboxError when refused)."""
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        raise InboxError(413, f"Activities are limited to {MAX_BODY} bytes.")
    target = request.path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
    try:
        key = verify(
            "POST",
            target,
            request.headers,
            body,
            lambda key_id, refresh: public_key(runtime, feed.id, key_id, refresh),
            now,
        )
    except SignatureError as exc:
        raise InboxError(401, f"Inbox requests must carry a valid HTTP signature: {exc}.") from None
    activity = _activity(body)
    if _id_of(activity.get("actor")) != key.owner:
        raise InboxError(401, "The activity's actor is not the owner of the signing key.")
    return _dispatch(runtime, feed, activity, key.owner, now)


def _activity(body: bytes) -> dict:
    try:
        activity = json.loads(body)
    except ValueError:
        raise InboxError(400, "The body must be an ActivityStreams JSON object.") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise InboxError(400, "The body must be an ActivityStreams JSON object with a type.")
    return activity


def _dispatch(runtime: Runtime, feed: FeedSettings, activity: dict, actor: str, now: datetime) -> str:
    kind = activity["type"]
    me = ap_documents.actor_url(runtime.settings, feed.id)
    inner = activity.get("object")
    if kind == "Follow" and _id_of(inner) == me:
        _follow(runtime, feed, activity, actor, now)
    elif kind == "Undo" and isinstance(inner, dict) and inner.get("type") == "Follow":
        if _id_of(inner.get("object")) in (me, None) and _id_of(inner.get("actor")) in (actor, None):
            records.remove_follower(runtime.store.engine, actor, feed.id)
            stats.record_audience(runtime, now)
    elif kind == "Delete" and _id_of(inner) == actor:
        records.remove_follower(runtime.store.engine, actor)  # the account is gone: from every feed
        stats.record_audience(runtime, now)
    return kind


def _follow(runtime: Runtime, feed: FeedSettings, follow: dict, actor: str, now: datetime) -> None:
    """Store the follower and queue the Accept; the feed's current items are its backlog, not news."""
    try:
        remote = remote_actor(runtime, feed.id, actor)
    except RemoteError:
        raise InboxError(422, "The following actor's document or inbox cannot be used.") from None
    ap_federate.ensure_actor(runtime, feed, now)  # so the first item after the follow is news, not backlog
    records.add_follower(
        runtime.store.engine, feed.id, records.Follower(actor, remote.inbox, remote.shared_inbox), now
    )
    ap_federate.queue_accept(runtime, feed.id, remote.inbox, follow, now)
    stats.record_audience(runtime, now)


def _id_of(value) -> str | None:
    """An object's id, whether it is given inline or by reference."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None
