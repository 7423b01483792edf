"""What every channel to the city's accounts shares: the text of a post, its idempotency key, a sent post,
a reply read from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    """A post the network has: its id there and its public address."""

    id: str
    url: str | None


@dataclass(frozen=True)
class Incoming:
    """A citizen's reply read from a channel: what an office sees and what an answer refers to."""

    remote_id: str  # the reply's own address on its network (kept unique)
    ref: str  # what an answer refers to (a Mastodon status id; a Bluesky post's URI and CID, as JSON)
    in_reply_to: str  # the network's id of the post it answers (channel_posts.remote_id when it is ours)
    actor: str  # the author's profile address
    handle: str  # @name@host (Mastodon), @name.domain (Bluesky)
    instance: str  # where the author's account lives: hourly limits and blocks count by it
    text: str  # the reply's text (HTML on Mastodon)


def fit(title: str, summary: str, link: str, limit: int, link_length: int | None = None) -> str:
    """Title, summary and link, shortened (never the link) to `limit` characters, a link counting
    `link_length` (its own length unless the network counts links otherwise)."""
    room = limit - (len(link) if link_length is None else link_length) - 2  # the link on its own line
    parts = [title.strip()]
    if summary.strip() and summary.strip() != title.strip():
        parts.append(summary.strip())
    text = "\n\n".join(parts)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return f"{text}\n\n{link}"


def idempotency_key(channel: str, feed_id: str, item_id: str) -> str:
    """The same key for every attempt at one item's post on one channel."""
    return hashlib.sha256(f"{channel}|{feed_id}|{item_id}".encode()).hexdigest()[:48]
