"""Web Push, the SMS service's heir: each new item of a feed becomes a notification on the phones and browsers
that asked for it (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID, all by pywebpush).

After a feed changes, `sync` finds the items no notification was sent for yet (crisis notices on top of the
feed included), records them (the first look records what the feed holds, sending nothing) and queues one job
per matching subscription; a subscription matches when the item passes the filters it was made with, the
same as a feed URL's. `deliver` encrypts and POSTs one notification through the SSRF-guarded client; a push
service answering 404 or 410 means the browser is gone, and its subscription is deleted.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from pywebpush import WebPushException, webpush
from requests import RequestException

from ..config import FeedSettings
from ..config.webpush import vapid_key
from ..errors import FeedserverError
from ..filters import FilterError, parse_selection
from ..items import Item
from ..netguard import RefusedAddress
from ..renditions import accepted_filters, has_expired
from ..runtime import Runtime
from . import channel_records, outbox
from . import webpush_records as subscriptions
from .ap_documents import base
from .ap_federate import is_crisis
from .http import PushError, push_http

CHANNEL = "~webpush"  # the channel_records name of notifications (no configured channel can be named so)
TIMEOUT = 10.0
MAX_BODY = 300  # characters of an item's SMS line in a notification


def sync(runtime: Runtime, feed: FeedSettings, now: datetime) -> int:
    """Queue a notification of each new item for each subscription it matches; how many were queued."""
    if not runtime.settings.webpush.enabled:
        return 0
    engine = runtime.store.engine
    first_look = channel_records.mark_synced(engine, CHANNEL, feed.id, now)
    shown = _shown(runtime, feed, now)
    known = channel_records.posts(engine, CHANNEL, feed.id, [item.id for item in shown])
    fresh = sorted(
        (i for i in shown if i.id not in known), key=lambda i: (not is_crisis(i), i.published, i.id)
    )
    if not fresh:
        return 0
    audience = [] if first_look else subscriptions.for_feed(engine, feed.id)
    selections: dict[str, object] = {}
    queued = 0
    for item in fresh:
        record = channel_records.Post(CHANNEL, feed.id, item.id, item.title, feed.language,
                                      "backlog" if first_look else "notified", is_crisis(item))  # fmt: skip
        if not channel_records.add(engine, record, now) or first_look:
            continue  # another worker has it, or it is backlog
        body = payload(runtime, feed, item)
        for subscriber in audience:
            if is_crisis(item) or _matches(feed, subscriber.filters, item, shown, selections):
                priority = outbox.URGENT if is_crisis(item) else outbox.NORMAL
                outbox.enqueue(engine, outbox.WEBPUSH_DELIVER, now, feed_id=feed.id,
                               subscription_id=subscriber.id, body=body, priority=priority)  # fmt: skip
                queued += 1
    return queued


def _shown(runtime: Runtime, feed: FeedSettings, now: datetime) -> list[Item]:
    """What a reader of the feed sees now: crisis notices on top, then the feed's current messages."""
    crisis = runtime.overlay.on_top(feed.id, now).items
    messages = runtime.store.messages(feed.id, now, feed.max_items, timedelta(0))
    ids = {c.id for c in crisis}
    return crisis + [
        i for i in messages if i.id not in ids and i.published <= now and not has_expired(i, now)
    ]


def _matches(feed: FeedSettings, filters: dict, item: Item, shown: list[Item], memo: dict) -> bool:
    """Whether an item passes a subscription's filters (parsed once per sync and filter set)."""
    if not filters:
        return True
    key = json.dumps(filters, sort_keys=True)
    if key not in memo:
        try:
            memo[key] = parse_selection(filters, accepted_filters(feed), shown)
        except FilterError:
            memo[key] = None  # a value no item has any more: nothing matches it now
    selection = memo[key]
    return selection is not None and bool(selection.apply(accepted_filters(feed), [item]))


def payload(runtime: Runtime, feed: FeedSettings, item: Item) -> bytes:
    """The notification as the service worker shows it: feed title, SMS line, link, tag and language."""
    line = item.title if len(item.title) <= MAX_BODY else item.title[: MAX_BODY - 1] + "…"
    document = {
        "title": feed.title,
        "body": line,
        # The feed's own page, never the item's link elsewhere: there the notifications can be stopped too.
        "url": f"{base(runtime.settings)}/feeds/{feed.id}#item-{item.id}",
        "tag": item.id,  # one notice about one item, however many feeds of a browser carry it
        "lang": feed.language,
        "crisis": is_crisis(item),
    }
    return json.dumps(document, ensure_ascii=False).encode()


def deliver(runtime: Runtime, job: outbox.Job, now: datetime) -> None:
    """Encrypt and send one notification; a subscription its push service calls gone is deleted."""
    engine, settings = runtime.store.engine, runtime.settings.webpush
    subscriber = subscriptions.find(engine, job.subscription_id or 0)
    if subscriber is None or not settings.enabled:
        return  # unsubscribed meanwhile, or Web Push switched off
    crisis = bool(json.loads(job.body or b"{}").get("crisis"))
    try:
        webpush(
            subscriber.info,
            data=(job.body or b"").decode(),
            vapid_private_key=vapid_key(settings.private_key),
            vapid_claims={"sub": settings.subject},
            ttl=settings.ttl,
            timeout=TIMEOUT,
            headers={"Urgency": "high" if crisis else "normal"},
            requests_session=push_http(runtime.settings).session,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            subscriptions.drop(engine, subscriber.id)  # the browser unsubscribed or the address expired
            return
        raise PushError(
            f"push service answered {status}", retry=status not in (400, 403, 413), status=status
        ) from exc
    except RefusedAddress as exc:
        raise PushError(str(exc), retry=False) from exc
    except (RequestException, FeedserverError) as exc:
        raise PushError(f"{type(exc).__name__}: {exc}") from exc
