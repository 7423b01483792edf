"""What every channel to the city's accounts shares: the text of a post, its idempotency key, a sent post."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    """A post the network has: its id there and its public address."""

    id: str
    url: str | None


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
