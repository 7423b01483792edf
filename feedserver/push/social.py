"""Channels to the city's own accounts (Mastodon): news of a feed becomes posts, corrections edits, and items
that leave the feed deletions, through the one durable push queue.

After a feed changes, `sync` compares what each channel should carry (the feed's current messages that pass
its `channel_filter` on the channels the feed chose, narrowed to those an item chose itself, as a desk
announcement does; crisis notices on every channel) with what it recorded,
and queues one job per post to make, edit or delete. The first look at a feed records its items as backlog:
choosing a channel brings news, not a hundred old posts at once. `deliver` reconciles one post with the
network from its row, so a job that runs twice (a restart, a retry) does no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..config import FeedSettings
from ..config.channels import ChannelSettings
from ..filters import parse_selection
from ..items import CHANNELS, Item
from ..renditions import accepted_filters, has_expired
from ..runtime import Runtime
from . import channel_records as records
from . import outbox
from .ap_documents import item_link
from .ap_federate import is_crisis
from .bluesky_account import BlueskyAccount
from .channel_text import Sent, idempotency_key
from .http import PushError
from .mastodon_account import MastodonAccount

log = logging.getLogger(__name__)
ACCOUNTS = {"mastodon": MastodonAccount, "bluesky": BlueskyAccount}  # channel type -> its account class
HOUR = timedelta(hours=1)


def sync(runtime: Runtime, feed: FeedSettings, now: datetime) -> int:
    """Queue the posts, edits and deletions a feed's change means for every channel; how many were queued."""
    channels = runtime.settings.channels
    if not channels:
        return 0
    items = [
        i
        for i in runtime.store.messages(feed.id, now, feed.max_items, timedelta(0))
        if not has_expired(i, now)
    ]
    current = {i.id for i in runtime.store.current_items(feed.id) if not has_expired(i, now)}
    crisis = [i for i in items if is_crisis(i)]
    chosen = _chosen(feed, items, now)
    queued = 0
    for channel in channels.values():
        ordinary = [i for i in chosen if not is_crisis(i) and allows(i, channel.name)]
        carried = crisis + (ordinary if channel.name in feed.channels else [])
        # An item whose own choice (a desk announcement's) leaves this channel out is not current here: a
        # correction that drops a channel deletes the post there.
        dropped = {i.id for i in items if not is_crisis(i) and not allows(i, channel.name)}
        queued += _sync_channel(runtime, channel, feed, carried, current - dropped, now)
    return queued


def allows(item: Item, channel: str) -> bool:
    """Whether an item goes to this channel of its feed: every one unless it chose some (data["channels"])."""
    chosen = item.data.get(CHANNELS)
    return chosen is None or channel in chosen


def _chosen(feed: FeedSettings, items: list[Item], now: datetime) -> list[Item]:
    """The items that pass the feed's channel_filter (all of them without one)."""
    if not feed.channel_filter or not feed.channels:
        return items
    selection = parse_selection(dict(feed.channel_filter), accepted_filters(feed), items)
    return selection.apply(accepted_filters(feed), items)


def _sync_channel(
    runtime, channel: ChannelSettings, feed, carried: list[Item], current: set[str], now
) -> int:
    engine = runtime.store.engine
    known = records.posts(engine, channel.name, feed.id, [item.id for item in carried])
    chosen = channel.name in feed.channels
    if not chosen and not carried and not known:
        return 0  # the usual case: a feed that never posted here and has no crisis notice
    # Crisis notices are never backlog: one that is live when a channel is added still has to go out.
    first_look = chosen and records.mark_synced(engine, channel.name, feed.id, now)
    queued = 0
    for item in sorted(carried, key=lambda i: (not is_crisis(i), i.published, i.id)):
        text = post_text(runtime, channel, feed, item)
        old = known.get(item.id)
        if old is None:
            crisis = is_crisis(item)
            state = "backlog" if first_look and not crisis else _admission(engine, channel, item, now)
            draft = records.Post(channel.name, feed.id, item.id, text, feed.language, state, crisis)
            if records.add(engine, draft, now) and state == "queued":
                queued += queue(runtime, draft, now)
        elif old.state in records.LIVE and old.text != text and records.revise(engine, old, text, now):
            queued += queue(runtime, old, now)
    for old in known.values():
        if old.state in records.LIVE and old.item_id not in current and records.withdraw(engine, old, now):
            queued += queue(runtime, old, now)
    return queued


def carried_by(runtime: Runtime, feed: FeedSettings, item: Item) -> list[str]:
    """The channels an item of this feed goes to: every one for a crisis, else the feed's that it allows
    (its channel_filter aside: that one judges an item among the feed's others)."""
    if is_crisis(item):
        return list(runtime.settings.channels)
    return [name for name in feed.channels if name in runtime.settings.channels and allows(item, name)]


def post_text(runtime: Runtime, channel: ChannelSettings, feed: FeedSettings, item: Item) -> str:
    """The text of an item's post on a channel (what is posted, and what the desk's preview shows)."""
    link = item_link(runtime.settings, feed.id, item)
    return ACCOUNTS[channel.type].compose(item.title, item.summary, link, channel.max_characters)


def _admission(engine, channel: ChannelSettings, item: Item, now: datetime) -> str:
    """queued, or skipped when the channel posted its hourly share already (crisis notices always go)."""
    if is_crisis(item) or records.queued_since(engine, channel.name, now - HOUR) < channel.max_per_hour:
        return "queued"
    log.info("channel %s: hourly limit of %d posts reached, item %s not posted", channel.name,
             channel.max_per_hour, item.id)  # fmt: skip
    return "skipped"


def queue(runtime: Runtime, post: records.Post, now: datetime) -> int:
    """Queue the job that makes the network's copy of a post what its row says (crisis notices first)."""
    priority = outbox.URGENT if post.crisis else outbox.NORMAL
    outbox.enqueue(
        runtime.store.engine, outbox.CHANNEL_DELIVER, now, feed_id=post.feed_id, target=post.channel,
        meta={"item": post.item_id}, priority=priority,
    )  # fmt: skip
    return 1


def deliver(runtime: Runtime, job: outbox.Job, now: datetime) -> None:
    """Make the network's copy of one post what its row says: post it, edit it or delete it."""
    channel = runtime.settings.channels.get(job.target or "")
    post = records.post(runtime.store.engine, job.target or "", job.feed_id or "", job.meta.get("item", ""))
    if channel is None or post is None:
        raise PushError("the channel or the post is no longer configured", retry=False)
    account = ACCOUNTS[channel.type](channel)
    try:
        _reconcile(runtime, account, post, now)
    except PushError as exc:
        records.mark_failed(runtime.store.engine, post, str(exc), now)
        raise


def _reconcile(runtime: Runtime, account, post: records.Post, now: datetime) -> None:
    engine = runtime.store.engine
    key = idempotency_key(post.channel, post.feed_id, post.item_id)
    if post.state == "withdrawn":
        if post.remote_id:
            account.delete(post.remote_id)
        records.mark_deleted(engine, post, now)
    elif post.state in ("queued", "failed") and post.remote_id is None:
        sent = account.post(post.text, post.language, key, post.queued_at or now)
        records.mark_sent(engine, post, sent.id, sent.url, post.text, now)
        _reconcile_again(runtime, account, post, now)
    elif post.remote_id and post.text != post.sent_text:
        # A network without edits (Bluesky) reposts: that post gets its own key, one per correction.
        correction = idempotency_key(post.channel, post.feed_id, f"{post.item_id}|{post.text}")
        before = Sent(post.remote_id, post.remote_url)
        sent = account.edit(before, post.text, post.language, correction, post.changed_at or now)
        records.mark_sent(engine, post, sent.id, sent.url, post.text, now)


def _reconcile_again(runtime: Runtime, account, before: records.Post, now: datetime) -> None:
    """The row may have changed while the post was on its way (a correction, a withdrawal): follow it."""
    after = records.post(runtime.store.engine, before.channel, before.feed_id, before.item_id)
    if after is not None and (after.state == "withdrawn" or after.text != after.sent_text):
        _reconcile(runtime, account, after, now)
