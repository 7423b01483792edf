"""The WebSub hub (W3C Recommendation): subscription requests, verification of intent, content distribution.

POST /websub answers 202 and queues a verification; the worker GETs the callback with a challenge and
activates (or ends) the subscription only when the callback echoes it. After a feed changes, each topic of
that feed with subscribers is fetched once and its bytes queued for every subscriber whose copy differs,
signed with X-Hub-Signature (HMAC-SHA256) when the subscriber gave a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import Flask

from ..runtime import Runtime
from . import http as push_http
from . import outbox, records, topics
from .http import PushError, url_problem

MODES = ("subscribe", "unsubscribe")
MAX_SECRET = 199  # bytes: "MUST be less than 200 bytes in length"
MAX_SUBSCRIPTIONS = 50_000  # a ceiling, so the table cannot be filled without bound
MAX_PENDING_VERIFICATIONS = 500
MIN_LEASE = 60
# Topic answers that name a real topic not servable right now (never fetched yet): still subscribable.
SUBSCRIBABLE = (200, 503)


class HubRequestError(Exception):
    """A subscription request the hub refuses at once (4xx); the message never echoes the request."""

    def __init__(self, detail: str, parameter: str, status: int = 400):
        super().__init__(detail)
        self.detail, self.parameter, self.status = detail, parameter, status


@dataclass(frozen=True)
class HubRequest:
    """A validated subscribe or unsubscribe request."""

    mode: str
    topic: topics.Topic
    callback: str
    lease: int
    secret: str | None


def parse_request(app: Flask, runtime: Runtime, form) -> HubRequest:
    """Validate hub.mode, hub.topic, hub.callback, hub.lease_seconds and hub.secret; raise HubRequestError."""
    settings = runtime.settings
    mode = form.get("hub.mode", "")
    if mode not in MODES:
        raise HubRequestError("hub.mode must be subscribe or unsubscribe.", "hub.mode")
    topic = topics.parse_topic(settings, form.get("hub.topic", ""))
    if topic is None or topics.fetch(app, settings, topic)[0] not in SUBSCRIBABLE:
        raise HubRequestError("hub.topic must be a feed URL of this server (see /opml).", "hub.topic")
    callback = form.get("hub.callback", "")
    problem = url_problem(settings, callback)
    if problem:
        raise HubRequestError(f"hub.callback {problem}.", "hub.callback")
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode()) > MAX_SECRET:
        raise HubRequestError(f"hub.secret must be shorter than {MAX_SECRET + 1} bytes.", "hub.secret")
    engine = runtime.store.engine
    # Ceilings: every request makes this server GET a URL of the requester's choosing, so they are bounded.
    if outbox.pending(engine, outbox.WEBSUB_VERIFY) >= MAX_PENDING_VERIFICATIONS or (
        mode == "subscribe" and records.subscription_count(engine) >= MAX_SUBSCRIPTIONS
    ):
        raise HubRequestError("This hub takes no more requests at the moment; try later.", "hub.mode", 503)
    return HubRequest(mode, topic, callback, _lease(form.get("hub.lease_seconds"), runtime), secret)


def _lease(value: str | None, runtime: Runtime) -> int:
    """The lease the hub grants: the requested one within [MIN_LEASE, max_lease], else the default."""
    push = runtime.settings.push
    if value is None or not value.strip().isdigit():
        if value not in (None, ""):
            raise HubRequestError("hub.lease_seconds must be a whole number of seconds.", "hub.lease_seconds")
        return push.default_lease
    return max(MIN_LEASE, min(int(value), push.max_lease))


def request_verification(runtime: Runtime, request: HubRequest, now: datetime) -> None:
    """Queue the verification of intent; the subscription changes only once the callback confirms."""
    meta = {"mode": request.mode, "topic": request.topic.url, "lease": request.lease}
    if request.secret:
        meta["secret"] = request.secret
    outbox.enqueue(
        runtime.store.engine, outbox.WEBSUB_VERIFY, now, target=request.callback, meta=meta, priority=0
    )


def verify(runtime: Runtime, job: outbox.Job, now: datetime) -> None:
    """GET the callback with a challenge; activate or end the subscription when it is echoed."""
    settings, engine = runtime.settings, runtime.store.engine
    topic = topics.parse_topic(settings, job.meta["topic"])
    if topic is None:
        raise PushError("the topic is no longer served", retry=False)
    challenge = secrets.token_urlsafe(32)
    query = {"hub.mode": job.meta["mode"], "hub.topic": topic.url, "hub.challenge": challenge}
    if job.meta["mode"] == "subscribe":
        query["hub.lease_seconds"] = str(job.meta["lease"])
    separator = "&" if "?" in job.target else "?"
    answer = push_http.get(settings, job.target + separator + urlencode(query))
    if answer.body.decode("utf-8", "replace").strip() != challenge:
        raise PushError("the callback did not echo the challenge: not verified", retry=False)
    if job.meta["mode"] == "subscribe":
        records.save_subscription(
            engine, topic.url, job.target, topic.feed_id, topic.format, job.meta.get("secret"),
            job.meta["lease"], now,
        )  # fmt: skip
    else:
        ended = records.remove_subscription(engine, topic.url, job.target)
        if ended is not None:
            outbox.drop_for_subscription(engine, ended)


def fan_out(app: Flask, runtime: Runtime, feed_id: str, now: datetime) -> int:
    """Queue the current content of every subscribed topic of a feed for subscribers who lack it; how many."""
    engine, settings = runtime.store.engine, runtime.settings
    by_topic = defaultdict(list)
    for subscription in records.subscriptions_for(engine, feed_id, now):
        by_topic[subscription.topic].append(subscription)
    queued = 0
    for topic_url, subscribers in by_topic.items():
        topic = topics.parse_topic(settings, topic_url)
        status, content = topics.fetch(app, settings, topic) if topic else (404, None)
        if content is None:
            continue  # not servable now (a feed removed from the config, or never fetched): nothing new
        for subscription in subscribers:
            # Claimed before queuing: equal content is never queued twice, even by two workers at once.
            if not records.mark_queued(engine, subscription.id, content.etag):
                continue
            meta = {"topic": topic_url, "content_type": content.content_type}
            outbox.enqueue(
                engine, outbox.WEBSUB_DELIVER, now, feed_id=feed_id, subscription_id=subscription.id,
                target=subscription.callback, body=content.body, meta=meta,
            )  # fmt: skip
            queued += 1
    return queued


def deliver(runtime: Runtime, job: outbox.Job, now: datetime) -> None:
    """POST queued content to one subscriber, signed when it gave a secret; 410 Gone ends the subscription."""
    subscription = records.subscription(runtime.store.engine, job.subscription_id)
    if subscription is None or subscription.expires_at <= now:
        return  # unsubscribed or expired meanwhile: nothing to send
    headers = {
        "Content-Type": job.meta["content_type"],
        "Link": topics.link_header(runtime.settings, job.meta["topic"]),
    }
    if subscription.secret:
        headers["X-Hub-Signature"] = signature(subscription.secret, job.body)
    try:
        push_http.post(runtime.settings, job.target, job.body, headers)
    except PushError as exc:
        if exc.status != 410:
            raise
        records.remove_subscription_by_id(runtime.store.engine, subscription.id)


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value: sha256=<hex HMAC of the body keyed with the subscriber's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
