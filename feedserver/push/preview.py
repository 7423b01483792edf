"""What an item would look like on each channel, for the desk's preview while writing.

Every text comes from the code that makes the real thing (social.post_text for the posts, webpush.payload for
the notification), so the preview cannot drift from what is sent; only the counting is added here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..config import FeedSettings
from ..items import Item
from ..runtime import Runtime
from .channel_text import shortened
from .social import ACCOUNTS, post_text
from .webpush import MAX_BODY, payload


@dataclass(frozen=True)
class Preview:
    """One channel's rendering of an item: its text, its length as the network counts it, and the limit."""

    network: str  # mastodon, bluesky or webpush
    name: str  # the channel's name ([channels.NAME]); "" for Web Push
    text: str
    length: int
    limit: int
    cut: bool  # the text had to be shortened to fit


def previews(runtime: Runtime, feed: FeedSettings, item: Item, channels: list[str]) -> list[Preview]:
    """The item as a post on each of these configured channels, then as a push notification."""
    found = []
    for name in channels:
        channel = runtime.settings.channels[name]
        text = post_text(runtime, channel, feed, item)
        length = ACCOUNTS[channel.type].measure(text)
        cut = shortened(item.title, item.summary, text)
        found.append(Preview(channel.type, name, text, length, channel.max_characters, cut))
    notification = json.loads(payload(runtime, feed, item))
    body = notification["body"]
    shown = f"{notification['title']}\n{body}"  # what a phone shows: the feed's title over the SMS line
    found.append(Preview("webpush", "", shown, len(body), MAX_BODY, body != item.title))
    return found
