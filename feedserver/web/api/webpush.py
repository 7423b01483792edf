"""/api/v1 Web Push subscriptions: a browser asks for notifications of a feed (with the feed URL's filters)
and stops them again. Only on when [webpush] has the server's VAPID key.

A subscription is personal data: only what delivery needs is stored (the push address, the browser's public
key and auth secret, the filters and the language), nothing about the person, no cookie. Deleting needs the
auth secret, which only the subscribed browser knows, so nobody can stop someone else's notifications.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from flask import Blueprint, Response, jsonify, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ...config import FeedSettings
from ...filters import FilterError, parse_selection
from ...push import webpush_records as subscriptions
from ...push.http import url_problem
from ...renditions import accepted_filters
from ..common import now, runtime
from ..problems import problem

bp = Blueprint("api_webpush", __name__, url_prefix="/api/v1")
MAX_BODY = 4096  # bytes of a subscription request
SERVICE_WORKER = "/static/sw.js"


class KeysSchema(Schema):
    class Meta:
        unknown = RAISE

    p256dh = fields.String(required=True, validate=validate.Length(80, 100))
    auth = fields.String(required=True, validate=validate.Length(16, 32))


class PushSubscriptionSchema(Schema):
    """What the browser's PushSubscription.toJSON() gives (expirationTime is ignored)."""

    class Meta:
        unknown = RAISE

    endpoint = fields.String(required=True, validate=validate.Length(1, 1024))
    keys = fields.Nested(KeysSchema, required=True)
    expirationTime = fields.Raw(allow_none=True)  # noqa: N815 - the browser's own name


class SubscribeSchema(Schema):
    """A subscription to a feed, with the feed URL's filters and the language of the notifications."""

    class Meta:
        unknown = RAISE

    subscription = fields.Nested(PushSubscriptionSchema, required=True)
    filters = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    language = fields.String(validate=validate.OneOf(["de", "en"]), load_default=None)


class UnsubscribeSchema(Schema):
    """Proof of a subscription: its push address and the browser's auth secret."""

    class Meta:
        unknown = RAISE

    endpoint = fields.String(required=True, validate=validate.Length(1, 1024))
    auth = fields.String(required=True, validate=validate.Length(1, 64))


@bp.get("/webpush")
def webpush_key():
    """The key browsers subscribe with.
    ---
    get:
      operationId: webPushKey
      tags: [webpush]
      summary: The server's Web Push (VAPID) application server key
      responses:
        "200":
          description: The public key (base64url) for PushManager.subscribe and the service worker's address.
    """
    key = runtime().settings.webpush.application_server_key
    return jsonify({"data": {"application_server_key": key, "service_worker": SERVICE_WORKER}})


@bp.post("/feeds/<feed_id>/webpush")
def subscribe(feed_id: str):
    """Ask for notifications of a feed.
    ---
    post:
      operationId: subscribeWebPush
      tags: [webpush]
      summary: Subscribe a browser to a feed's notifications
      requestBody:
        required: true
        content:
          application/json:
            schema: feedserver.web.api.webpush.SubscribeSchema
      responses:
        "201":
          description: Subscribed (or the same browser's subscription updated).
        "400": BadRequest
        "404": NotFound
        "413":
          description: The request is larger than 4096 bytes.
        "503":
          description: The server holds as many subscriptions as it is configured for.
    """
    rt = runtime()
    feed = rt.settings.feeds.get(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id; /api/v1/feeds lists them all.")
    body, refusal = _body(SubscribeSchema())
    if refusal is not None:
        return refusal
    endpoint, keys = body["subscription"]["endpoint"], body["subscription"]["keys"]
    refusal = _endpoint_refusal(endpoint) or _keys_refusal(keys) or _filters_refusal(feed, body["filters"])
    if refusal is not None:
        return refusal
    if subscriptions.count(rt.store.engine) >= rt.settings.webpush.max_subscriptions:
        response = problem(503, "Service Unavailable", "No more subscriptions are taken at the moment.")
        response.headers["Retry-After"] = "3600"
        return response
    language = body["language"] or feed.language
    found = subscriptions.save(rt.store.engine, feed.id, endpoint, keys, body["filters"], language, now())
    document = {"id": found, "feed_id": feed.id, "filters": body["filters"], "language": language}
    response = jsonify({"data": document})
    response.status_code = 201
    return response


@bp.delete("/feeds/<feed_id>/webpush")
def unsubscribe(feed_id: str):
    """Stop a browser's notifications of a feed.
    ---
    delete:
      operationId: unsubscribeWebPush
      tags: [webpush]
      summary: Unsubscribe (proved by the subscription's auth secret)
      requestBody:
        required: true
        content:
          application/json:
            schema: feedserver.web.api.webpush.UnsubscribeSchema
      responses:
        "204":
          description: The subscription and everything stored with it is deleted.
        "400": BadRequest
        "404": NotFound
    """
    body, refusal = _body(UnsubscribeSchema())
    if refusal is not None:
        return refusal
    if not subscriptions.remove(runtime().store.engine, feed_id, body["endpoint"], body["auth"]):
        return problem(404, "Not Found", "No subscription of this feed has this address and secret.")
    return Response(status=204)


def _body(schema: Schema) -> tuple[dict, Response | None]:
    """The JSON body loaded by `schema`, or a 4xx problem naming the first bad field (never echoing it)."""
    if (request.content_length or 0) > MAX_BODY:
        return {}, problem(413, "Content Too Large", f"A subscription request has at most {MAX_BODY} bytes.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return {}, problem(400, "Bad Request", "The body must be a JSON object.")
    try:
        return schema.load(data), None
    except ValidationError as exc:
        field = sorted(exc.messages)[0] if isinstance(exc.messages, dict) else "body"
        return {}, problem(400, "Bad Request", f"`{field}` is missing or not valid.", parameter=field)


def _endpoint_refusal(endpoint: str) -> Response | None:
    """A push address must be https on a public host (http only where [fetch] allows a local network)."""
    reason = url_problem(runtime().settings, endpoint)
    if reason is None and not endpoint.startswith("https://") and not runtime().settings.fetch.allow_networks:
        reason = "must be an https URL"
    if reason:
        return problem(400, "Bad Request", f"The push endpoint {reason}.", parameter="subscription.endpoint")
    return None


def _keys_refusal(keys: dict) -> Response | None:
    """The browser's key must be a point on P-256 and its auth secret 16 bytes (RFC 8291)."""
    try:
        point = _unbase64(keys["p256dh"])
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65 or len(_unbase64(keys["auth"])) != 16:
            raise ValueError("wrong length")
    except (ValueError, binascii.Error):
        detail = "The subscription's keys are not a P-256 key and a 16-byte secret."
        return problem(400, "Bad Request", detail, parameter="subscription.keys")
    return None


def _filters_refusal(feed: FeedSettings, filters: dict) -> Response | None:
    """The filters must be ones the feed's URLs accept."""
    try:
        parse_selection(filters, accepted_filters(feed), runtime().store.current_items(feed.id))
    except FilterError as exc:
        return problem(400, "Bad Request", f"Filter {exc.name!r}: {exc.problem}.", valid=list(exc.valid))
    return None


def _unbase64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
