"""ActivityPub delivery: new items become Create{Note}, vanished ones Delete, for every follower's inbox.

After a feed changes, its visible items are compared with the notes already announced. New ones are queued
as Create (crisis items first, then oldest first, so timelines end with the newest), announced ones that left
the feed (withdrawn, gone upstream, expired) as Delete. The first look at a feed records its items as the
backlog without sending them: following a feed brings news, not a hundred old messages at once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ..config import FeedSettings
from ..items import Item
from ..renditions import has_expired
from ..runtime import Runtime
from . import ap_documents, outbox, records
from . import http as push_http
from .ap_actors import feed_actor
from .http import PushError
from .signatures import sign


def is_crisis(item: Item) -> bool:
    """A crisis announcement from the editorial desk."""
    return bool(item.data.get("crisis")) or str(item.category or "") == "crisis"


def visible_items(runtime: Runtime, feed: FeedSettings, now: datetime) -> tuple[list[Item], set[str]]:
    """The messages a reader sees now (crisis items included), and the ids of every item still current."""
    crisis = runtime.overlay.on_top(feed.id, now).items
    messages = runtime.store.messages(feed.id, now, feed.max_items, timedelta(0))
    shown = crisis + [i for i in messages if not has_expired(i, now) and i.id not in {c.id for c in crisis}]
    current = {i.id for i in runtime.store.current_items(feed.id) if not has_expired(i, now)}
    return shown, current | {c.id for c in crisis}


def ensure_actor(runtime: Runtime, feed: FeedSettings, now: datetime) -> records.Actor:
    """The feed's actor, made on first use with its keys; its items at that moment are the backlog."""
    actor = feed_actor(runtime, feed.id)
    if actor.synced_at is None:
        sync(runtime, feed, now)
        actor = feed_actor(runtime, feed.id)
    return actor


def announcement_order(items: list[Item]) -> list[Item]:
    """Crisis items first, then oldest first."""
    return sorted(items, key=lambda item: (not is_crisis(item), item.published, item.id))


def sync(runtime: Runtime, feed: FeedSettings, now: datetime) -> tuple[int, int]:
    """Announce new items, correct changed ones and delete vanished ones to followers; (created, deleted)."""
    engine, settings = runtime.store.engine, runtime.settings
    actor = records.find_actor(engine, feed.id)
    if actor is None:
        return 0, 0  # nobody has looked at this actor yet, so nobody follows it: its keys are made then
    first_look = actor.synced_at is None
    known = records.note_states(engine, feed.id)
    shown, current = visible_items(runtime, feed, now)
    fresh = announcement_order([i for i in shown if i.id not in known or known[i.id] is not None])
    vanished = [item_id for item_id, deleted in known.items() if deleted is None and item_id not in current]
    inboxes = [] if first_look else _inboxes(engine, feed.id)
    created = deleted = 0
    # Each note changes state in one conditional statement: of two workers syncing at once, one sends it.
    for item in fresh:
        note = ap_documents.note_document(settings, feed, item)
        if records.announce_note(engine, feed.id, item.id, note, is_crisis(item), now):
            priority = outbox.URGENT if is_crisis(item) else outbox.NORMAL
            _queue(runtime, feed.id, inboxes, ap_documents.create_activity(note), now, priority)
            created += 1
    if not first_look:
        announced = [i for i in shown if i.id in known and known[i.id] is None]
        _correct(runtime, feed, announced, inboxes, now)
    for item_id in vanished:
        if records.mark_deleted(engine, feed.id, item_id, now):
            note = records.note(engine, feed.id, item_id)[0]
            _queue(runtime, feed.id, inboxes, ap_documents.delete_activity(note), now, outbox.NORMAL)
            deleted += 1
    if first_look:
        records.mark_synced(engine, feed.id, now)
    return created, deleted


def _correct(runtime: Runtime, feed: FeedSettings, announced: list[Item], inboxes: list[str], now) -> int:
    """Send an Update for every announced item whose note now reads differently (an approved correction,
    a changed delay): followers see the post edited in place, with the same id; the count sent."""
    engine, settings = runtime.store.engine, runtime.settings
    stored = records.current_notes(engine, feed.id)
    sent = 0
    for item in announced:
        old_text = stored.get(item.id)
        if old_text is None:
            continue
        old, new = json.loads(old_text), ap_documents.note_document(settings, feed, item)
        if _said(old) == _said(new):
            continue
        activity = ap_documents.update_activity(new, now)
        if records.revise_note(engine, feed.id, item.id, old_text, activity["object"]):
            priority = outbox.URGENT if is_crisis(item) else outbox.NORMAL
            _queue(runtime, feed.id, inboxes, activity, now, priority)
            sent += 1
    return sent


def _said(note: dict) -> dict:
    """What a note tells its reader (its text, link and tags), without its timestamps."""
    return {k: v for k, v in note.items() if k not in ("published", "updated")}


def _inboxes(engine, feed_id: str) -> list[str]:
    """One inbox per follower, or one per server where it offers a shared inbox."""
    return list(dict.fromkeys(f.delivery_inbox for f in records.followers(engine, feed_id)))


def _queue(runtime: Runtime, feed_id: str, inboxes: list[str], activity: dict, now, priority: int) -> None:
    body = json.dumps(activity, ensure_ascii=False).encode()
    for inbox in inboxes:
        outbox.enqueue(
            runtime.store.engine, outbox.AP_DELIVER, now, feed_id=feed_id, target=inbox, body=body,
            priority=priority, meta={"type": activity["type"]},
        )  # fmt: skip


def queue_accept(runtime: Runtime, feed_id: str, inbox: str, follow: dict, now: datetime) -> None:
    """Queue the Accept of a follow for the follower's own inbox, before anything else."""
    activity = ap_documents.accept_activity(runtime.settings, feed_id, follow)
    body = json.dumps(activity, ensure_ascii=False).encode()
    outbox.enqueue(
        runtime.store.engine, outbox.AP_DELIVER, now, feed_id=feed_id, target=inbox, body=body,
        priority=outbox.URGENT, meta={"type": "Accept"},
    )  # fmt: skip


def deliver(runtime: Runtime, job: outbox.Job, now: datetime) -> None:
    """POST one activity to an inbox, signed with the feed's key (signed now, so the Date is fresh)."""
    actor = feed_actor(runtime, job.feed_id)
    key = ap_documents.key_id(runtime.settings, job.feed_id)
    headers = {"Content-Type": ap_documents.ACTIVITY_JSON, "Accept": ap_documents.ACTIVITY_JSON}
    headers.update(sign("POST", job.target, key, actor.private_key_pem, job.body))
    try:
        push_http.post(runtime.settings, job.target, job.body, headers)
    except PushError as exc:
        if exc.status in (400, 401, 403, 404, 410, 422):
            raise PushError(str(exc), retry=False, status=exc.status) from exc  # refused: it will not change
        raise
