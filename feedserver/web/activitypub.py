"""ActivityPub: every feed is a followable Service actor (@<feed-id>@<host>) with WebFinger, outbox, inbox.

Documents are read from the push tables. The inbox checks what it can without the network, counts requests
per remote origin and queues them; the push worker verifies their signatures and acts (push/ap_inbox.py,
push/ap_trust.py). A verified follow is accepted at once; new items reach followers from the push worker.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, json, request

from ..push import ap_documents, records
from ..push.ap_federate import ensure_actor
from ..push.ap_inbox import InboxError, arrival, queue
from . import inbox_limits
from .common import now, runtime
from .problems import problem

bp = Blueprint("activitypub", __name__)
OUTBOX_ITEMS = 20
ITEM_ID = re.compile(r"[0-9a-f-]{36}")
ACCOUNT = re.compile(r"acct:([a-z0-9-]{1,64})@([^@\s]{1,255})", re.IGNORECASE)


@bp.record_once
def _attach_limits(state) -> None:
    inbox_limits.init_app(state.app, state.app.extensions["feedserver"].settings)


def _json(document: dict, status: int = 200, media_type: str = ap_documents.ACTIVITY_JSON) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), status=status, mimetype=media_type)
    response.headers["Cache-Control"] = "public, max-age=300" if status == 200 else "public, max-age=60"
    response.headers["Vary"] = "Accept"
    return response


def _feed_or_404(feed_id: str):
    return runtime().settings.feeds.get(feed_id)


@bp.get("/.well-known/webfinger")
def webfinger():
    """acct:<feed-id>@<host> (or the actor's URL) -> the actor document's address."""
    settings = runtime().settings
    resource = request.args.get("resource", "")
    if not resource:
        return problem(400, "Bad Request", "The resource parameter is required.", parameter="resource")
    match = ACCOUNT.fullmatch(resource)
    feed_id = None
    if match and match[2].lower() == ap_documents.host(settings):
        feed_id = match[1].lower()
    elif resource.startswith(ap_documents.actor_url(settings, "")):
        feed_id = resource[len(ap_documents.actor_url(settings, "")) :]
    feed = settings.feeds.get(feed_id or "")
    if feed is None:
        return problem(404, "Not Found", "There is no account with this name here; see /opml for all feeds.")
    return _json(ap_documents.webfinger(settings, feed), media_type=ap_documents.JRD_JSON)


@bp.get("/ap/feeds/<feed_id>")
def actor(feed_id: str):
    """The feed's Service actor with its public key."""
    feed = _feed_or_404(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id.")
    stored = ensure_actor(runtime(), feed, now())
    return _json(
        ap_documents.actor_document(runtime().settings, feed, stored.public_key_pem, stored.created_at)
    )


@bp.get("/ap/feeds/<feed_id>/outbox")
def outbox(feed_id: str):
    """The newest announced items as Create activities."""
    feed = _feed_or_404(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id.")
    ensure_actor(runtime(), feed, now())  # a first look records the current items
    total, notes = records.recent_notes(runtime().store.engine, feed.id, OUTBOX_ITEMS)
    items = [ap_documents.create_activity(note) for note in notes]
    for item in items:
        item.pop("@context")
    url = ap_documents.actor_url(runtime().settings, feed.id) + "/outbox"
    return _json(ap_documents.collection(url, total, items))


@bp.get("/ap/feeds/<feed_id>/followers")
def followers(feed_id: str):
    """How many follow the feed (who they are is not published)."""
    feed = _feed_or_404(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id.")
    total = records.follower_counts(runtime().store.engine).get(feed.id, 0)
    return _json(
        ap_documents.collection(ap_documents.actor_url(runtime().settings, feed.id) + "/followers", total)
    )


@bp.get("/ap/feeds/<feed_id>/notes/<item_id>")
def note(feed_id: str, item_id: str):
    """One announced item as a Note; 410 with a Tombstone once it left the feed."""
    found = records.note(runtime().store.engine, feed_id, item_id) if ITEM_ID.fullmatch(item_id) else None
    if _feed_or_404(feed_id) is None or found is None:
        return problem(404, "Not Found", "There is no such note.")
    document, deleted = found
    if deleted is not None:
        return _json(ap_documents.tombstone(document, deleted), status=410)
    return _json({"@context": ap_documents.AS_CONTEXT, **document})


@bp.post("/ap/feeds/<feed_id>/inbox")
def inbox(feed_id: str):
    """Signed activities for a feed: Follow, Undo{Follow}, Delete{actor}; 202 once checked and queued."""
    feed = _feed_or_404(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id.")
    try:
        received = arrival(runtime(), feed, request, now())
        if received is not None:  # else there is nothing to act on: acknowledged, never verified
            _count(received.origin)
            queue(runtime(), received, now())
    except InboxError as exc:
        return _refusal(exc)
    return Response(status=202)


def _count(origin: str) -> None:
    wait = inbox_limits.origin_limits().hit(origin)
    if wait is not None:
        raise InboxError(429, "Too many activities from this server; try again later.", wait)


def _refusal(exc: InboxError) -> Response:
    response = problem(exc.status, _TITLES.get(exc.status, "Bad Request"), exc.detail)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = (
            'Signature realm="feedserver",headers="(request-target) host date digest"'
        )
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
        response.headers["Cache-Control"] = "no-store"  # a refusal for now is no answer to keep
    return response


_TITLES = {
    401: "Unauthorized",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
