"""Citizens' replies to the city's posts on its Mastodon and Bluesky accounts reach the office of the post's
feed.

A scheduler job per channel (every `replies_every` seconds, on the polling leader only) asks the account for
what came in since the last poll (Mastodon: mention notifications after the newest one read; Bluesky: reply
notifications after the last one seen), keeps each reply that answers one of the city's posts on that channel
under the rules of every citizen's message (replies.keep: blocks, hourly limits, plain text, size cap, an
office that reads the feed), and then moves the channel's cursor on. A mention that answers no post of the
city's has no feed, so no office: it is not kept. A failed poll keeps the cursor, so the next one reads the
same again; a message kept already is not kept twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ..config.channels import ChannelSettings
from ..runtime import Runtime
from . import channel_records, replies
from .channel_text import Incoming
from .http import PushError
from .social import ACCOUNTS

log = logging.getLogger(__name__)


def poll(runtime: Runtime, channel: ChannelSettings, now: datetime) -> int:
    """Read a channel's new replies and keep those to the city's posts; how many were kept."""
    engine = runtime.store.engine
    try:
        account = ACCOUNTS[channel.type](channel)
        incoming, cursor = account.replies_since(channel_records.cursor(engine, channel.name))
    except PushError as exc:
        log.warning("channel %s: replies not read: %s", channel.name, exc)
        return 0
    kept = sum(_keep(runtime, channel, message, now) for message in incoming)
    if cursor is not None:
        channel_records.save_cursor(engine, channel.name, cursor, now)
    return kept


def _keep(runtime: Runtime, channel: ChannelSettings, message: Incoming, now: datetime) -> bool:
    post = channel_records.post_by_remote_id(runtime.store.engine, channel.name, message.in_reply_to)
    feed = runtime.settings.feeds.get(post.feed_id) if post else None
    if feed is None:
        return False  # not an answer to one of the city's posts (or its feed is gone): nobody's to read
    values = {
        "remote_id": message.remote_id, "actor": message.actor, "handle": message.handle,
        "instance": message.instance, "in_reply_to": post.remote_id, "text": message.text,
        "channel": channel.name, "channel_ref": message.ref,
    }  # fmt: skip
    return replies.keep(runtime, feed, values, now) is not None
