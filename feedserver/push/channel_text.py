"""What every channel to the city's accounts shares: the text of a post, its idempotency key, a sent post,
a reply read from it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


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

    def fits(self) -> bool:
        """Whether every part fits where it is kept (a hostile server may send anything)."""
        required = ((self.remote_id, 2048), (self.ref, 2048), (self.actor, 2048), (self.handle, 300),
                    (self.instance, 253))  # fmt: skip
        if not all(isinstance(value, str) and 0 < len(value) <= most for value, most in required):
            return False
        answers = isinstance(self.in_reply_to, str) and len(self.in_reply_to) <= 2048
        return answers and isinstance(self.text, str)


def readable(parse, notifications) -> list[Incoming]:
    """The notifications `parse` can read and whose parts fit; the others are skipped (and logged)."""
    found = []
    for notification in notifications:
        try:
            incoming = parse(notification)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            log.warning("a reply notification was skipped: unreadable (%s)", type(exc).__name__)
            continue
        if incoming.fits():
            found.append(incoming)
        else:
            log.warning("a reply notification was skipped: a part is missing or too long")
    return found


def fit(title: str, summary: str, link: str, limit: int, link_length: int | None = None) -> str:
    """Title, summary and link, shortened (never the link) to `limit` characters, a link counting
    `link_length` (its own length unless the network counts links otherwise)."""
    room = limit - (len(link) if link_length is None else link_length) - 2  # the link on its own line
    text = _body(title, summary)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return f"{text}\n\n{link}"


def shortened(title: str, summary: str, text: str) -> bool:
    """Whether `fit` had to cut title and summary to make `text`."""
    return not text.startswith(_body(title, summary) + "\n\n")


def _body(title: str, summary: str) -> str:
    parts = [title.strip()]
    if summary.strip() and summary.strip() != title.strip():
        parts.append(summary.strip())
    return "\n\n".join(parts)


def idempotency_key(channel: str, feed_id: str, item_id: str) -> str:
    """The same key for every attempt at one item's post on one channel."""
    return hashlib.sha256(f"{channel}|{feed_id}|{item_id}".encode()).hexdigest()[:48]
