"""What the JSON API keeps between requests: item snapshots per data version and generated bodies.

A request reads the feed's state (one small query); items are loaded again only when the data version
(`data_changed_at`) moved, and a body is generated again only when the state, the query or the time-bound
data changed, so its ETag and `generated_at` stay the same until then, across instances with Redis.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from flask import current_app

from ...items import READING, Item
from ...store import FeedState
from ..common import runtime

SNAPSHOTS_KEPT = 64  # per process: feeds x versions held in memory
BODY_SECONDS = 3600  # generated bodies live at most this long in the cache (bounds its size)
GENERATION = "api1"  # bump when the shape of the bodies changes, so old cached bodies are not served


@dataclass(frozen=True)
class Snapshot:
    """A feed's current items at one data version, newest first, with their paging keys."""

    items: tuple[Item, ...]  # every current item (state and messages), oldest first, as the store gives
    messages: tuple[Item, ...]  # items the API lists, in API order
    keys: tuple[tuple[int, str], ...]  # position of each message: (-published in µs, id), ascending


@dataclass(frozen=True)
class Body:
    """A generated response body and its validators."""

    payload: bytes
    etag: str
    generated_at: datetime
    valid_until: datetime | None
    next_url: str | None = None  # a page's links.next, for the Link header


def position(item: Item) -> tuple[int, str]:
    """Where an item sits in API order: newest first, ties broken by id."""
    return (-_micros(item.published), item.id)


def after(snapshot: Snapshot, key: tuple[int, str]) -> int:
    """Index of the first message after a paging position."""
    return bisect_right(snapshot.keys, key)


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds


class Snapshots:
    """A small per-process LRU of item snapshots keyed by (feed id, data version)."""

    def __init__(self, size: int = SNAPSHOTS_KEPT):
        self.size = size
        self.entries: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, feed_id: str, state: FeedState) -> Snapshot:
        """The feed's items at its current data version, loaded from the store on a miss."""
        key = (feed_id, str(state.data_changed_at))
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        snapshot = _load(feed_id)
        with self.lock:
            self.entries[key] = snapshot
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return snapshot


def _load(feed_id: str) -> Snapshot:
    items = tuple(runtime().store.current_items(feed_id))
    messages = tuple(sorted((i for i in items if i.data.get("kind") != READING), key=position))
    return Snapshot(items, messages, tuple(position(i) for i in messages))


def snapshots() -> Snapshots:
    """The current app's snapshot cache."""
    return current_app.extensions["feedserver_api"]["snapshots"]


def state_version(state: FeedState) -> str:
    """Everything about a feed's state that responses show, as a short stable string."""
    parts = (
        state.last_attempt,
        state.last_success,
        state.last_error,
        state.failures,
        state.stale_since,
        state.retry_at,
        state.data_changed_at,
    )
    return _digest("|".join(map(str, parts)))


def settings_version() -> str:
    """A fingerprint of the configuration (titles, licences, options) the bodies show."""
    return current_app.extensions["feedserver_api"]["settings_version"]


def fingerprint(settings) -> str:
    """Digest of the configuration the bodies show, computed once per app (source options, which may hold
    resolved secrets, are left out: they reach the bodies only through the data)."""
    server = settings.server
    shown = [server.base_url, server.title, server.licence, server.attribution]
    for feed in settings.feeds.values():
        shown.append(dataclasses.replace(feed, options=MappingProxyType({})))
    return _digest(repr(shown))


Built = tuple[dict | bytes, datetime | None]  # (document or its to_json bytes, valid until)


def cached_body(key: str, build: Callable[[datetime], Built], at: datetime) -> Body:
    """The body for a key (which names every input): from the cache, else generated and cached.
    `build` returns the document, or its JSON already serialized with to_json."""
    cache = runtime().cache
    full_key = f"{GENERATION}:{_digest(key + '|' + settings_version())}"
    body = cache.get(full_key)
    if body is None or (body.valid_until is not None and body.valid_until <= at):
        document, valid_until = build(at)
        serialized = isinstance(document, bytes)
        payload = document if serialized else to_json(document)
        etag = f'"{hashlib.sha256(payload).hexdigest()[:40]}"'
        next_link = None if serialized else (document.get("links") or {}).get("next")
        body = Body(payload, etag, at, valid_until, next_link)
        seconds = BODY_SECONDS
        if valid_until is not None:
            seconds = max(1, min(seconds, int((valid_until - at).total_seconds()) + 1))
        cache.set(full_key, body, timeout=seconds)
    return body


def to_json(document: dict | list) -> bytes:
    """The API's JSON: compact, UTF-8, keys in schema order."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class Entries:
    """Per process, the serialized catalogue entry of each feed at its state version: when one of 10,000
    feeds changes, the list is rebuilt from 9,999 kept entries plus one new one, not from 10,000 item loads
    and dumps. One entry per feed (about 1 kB each), replaced when the feed's state changes."""

    def __init__(self):
        self._entries: dict[str, tuple[str, bytes]] = {}  # feed id -> (state version, JSON)

    def get(self, feed_id: str, state: FeedState, make: Callable[[], dict]) -> bytes:
        """The feed's entry at this state, made (and kept) when missing or outdated."""
        version = state_version(state)
        kept = self._entries.get(feed_id)
        if kept is not None and kept[0] == version:
            return kept[1]
        entry = to_json(make())
        self._entries[feed_id] = (version, entry)  # one assignment: safe with concurrent threads
        return entry


def entries() -> Entries:
    """The current app's catalogue entries."""
    return current_app.extensions["feedserver_api"]["entries"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]
