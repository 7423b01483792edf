"""The last body of each upstream URL with its validators, kept across refreshes so a 304 can reuse it.

A source that fetches several documents (a CAP index and its alerts, GTFS-Realtime with its static zip, a
station list and its readings) cannot turn a 304 of one of them into "nothing changed": it needs that
document's body to parse the others with. Bodies live here, per process, least recently used first out,
bounded in bytes; a body that is gone (evicted, or the process restarted) is simply fetched again in full.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import requests

MAX_BYTES = 128 * 1024 * 1024  # a large static GTFS zip is 20-50 MB; most documents are a few KB


@dataclass(frozen=True)
class Remembered:
    """One response body and what is needed to ask whether it is still current."""

    validators: Mapping[str, str]  # "etag", "last_modified"
    body: bytes
    content_type: str


class Bodies:
    """URL -> Remembered, least recently used evicted first once the bodies exceed `limit` bytes."""

    def __init__(self, limit: int = MAX_BYTES):
        self.limit = limit
        self._entries: OrderedDict[str, Remembered] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # refreshes of different feeds run in parallel scheduler threads

    def get(self, url: str) -> Remembered | None:
        """The remembered body of a URL, or None."""
        with self._lock:
            found = self._entries.get(url)
            if found is not None:
                self._entries.move_to_end(url)
            return found

    def put(self, url: str, remembered: Remembered) -> None:
        """Remember a body (one larger than the whole limit is not kept)."""
        with self._lock:
            self._drop(url)
            if len(remembered.body) > self.limit:
                return
            self._entries[url] = remembered
            self._size += len(remembered.body)
            while self._size > self.limit:
                self._drop(next(iter(self._entries)))

    def forget(self, url: str) -> None:
        """Drop the body of one URL."""
        with self._lock:
            self._drop(url)

    def clear(self) -> None:
        """Drop every body (as a restart would)."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    @property
    def size(self) -> int:
        """Bytes of the bodies held."""
        return self._size

    def _drop(self, url: str) -> None:
        old = self._entries.pop(url, None)
        if old is not None:
            self._size -= len(old.body)


def request_key(url: str, params: Mapping[str, str | Iterable[str]] | None) -> str:
    """The URL as requested, query included (different queries are different documents)."""
    if not params:
        return url
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    return prepared.url or url


VALIDATORS = (  # (stored key, response header, request header that sends it back)
    ("etag", "ETag", "If-None-Match"),
    ("last_modified", "Last-Modified", "If-Modified-Since"),
)


def condition_headers(validators: Mapping[str, str]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for stored validators."""
    return {request: validators[key] for key, _, request in VALIDATORS if validators.get(key)}


def response_validators(headers) -> dict[str, str]:
    """ETag and Last-Modified of a response, as stored validators."""
    return {key: headers[response] for key, response, _ in VALIDATORS if headers.get(response)}


bodies = Bodies()  # per process: an Http and a Source live for one refresh, the bodies across refreshes
