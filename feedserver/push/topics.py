"""WebSub topics: which URLs of this server can be subscribed to, their Link headers, and their content.

A topic is any feed URL, filters included (`/feeds/<id>.<fmt>?category=paper`), or the catalogue (`/`).
Its content is exactly what a GET of that URL answers, so the hub dispatches an internal GET through the
app: filters, renderers and caches are the very ones readers get, and nothing is rendered twice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Response

from ..config import Settings
from ..renditions import formats_of

HUB_PATH = "/websub"
INTERNAL = "feedserver.internal"  # WSGI environ flag: a hub's own request, not a reader (not counted)
FEED_PATH = re.compile(r"/feeds/([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)\.([a-z]{2,5})")
CATALOGUE = "html"  # the format name of the catalogue topic
LANGUAGES = ("de", "en")
MAX_TOPIC = 1024  # characters; feed URLs carry at most 1000 of query anyway


@dataclass(frozen=True)
class Topic:
    """A topic URL of this server, and what it names."""

    url: str
    path: str  # path and query below base_url, as the app routes it
    feed_id: str | None  # None: the catalogue
    format: str


@dataclass(frozen=True)
class Content:
    """A topic's current bytes, as a GET of it answers."""

    body: bytes
    content_type: str
    etag: str


def base(settings: Settings) -> str:
    """base_url without its trailing slash."""
    return settings.server.base_url.rstrip("/")


def hub_url(settings: Settings) -> str:
    """The URL of this server's own hub."""
    return base(settings) + HUB_PATH


def link_header(settings: Settings, self_url: str) -> str:
    """The WebSub discovery Link header value: this hub, and the canonical topic URL."""
    return f'<{hub_url(settings)}>; rel="hub", <{self_url}>; rel="self"'


def add_links(response: Response, settings: Settings, self_url: str) -> Response:
    """Advertise the hub and the topic URL on a response (feeds and the catalogue)."""
    response.headers.add("Link", link_header(settings, self_url))
    return response


def feed_topic_url(settings: Settings, feed_id: str, fmt: str, canonical_query: str = "") -> str:
    """The canonical topic URL of a feed format, with its filters in canonical order."""
    return f"{base(settings)}/feeds/{feed_id}.{fmt}" + (f"?{canonical_query}" if canonical_query else "")


def catalogue_topic_url(settings: Settings, lang: str) -> str:
    """The catalogue's topic URL in one language (the language is part of the content)."""
    return f"{base(settings)}/?lang={lang}"


def parse_topic(settings: Settings, url: str) -> Topic | None:
    """The topic a URL names on this server, or None when it is not one of ours."""
    root = base(settings)
    if len(url) > MAX_TOPIC or not url.startswith(root + "/") or "#" in url or any(c.isspace() for c in url):
        return None
    relative = url[len(root) :]
    path, _, query = relative.partition("?")
    if path == "/":
        return _catalogue(url, relative, query)
    match = FEED_PATH.fullmatch(path)
    if match is None:
        return None
    feed = settings.feeds.get(match[1])
    if feed is None or match[2] not in formats_of(feed):
        return None
    return Topic(url, relative, feed.id, match[2])


def _catalogue(url: str, relative: str, query: str) -> Topic | None:
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name != "lang" or value not in LANGUAGES for name, value in pairs) or len(pairs) > 1:
        return None
    return Topic(url, relative, None, CATALOGUE)


def fetch(app: Flask, settings: Settings, topic: Topic) -> tuple[int, Content | None]:
    """GET the topic through the app itself: its status, and its content when that is 200."""
    split = urlsplit(base(settings))
    client = app.test_client()
    response = client.get(
        topic.path,
        base_url=f"{split.scheme}://{split.netloc}{split.path}",
        environ_overrides={INTERNAL: True},
    )
    if response.status_code != 200:
        return response.status_code, None
    body = response.get_data()
    etag = hashlib.sha256(body).hexdigest()[:40]
    return 200, Content(body, response.headers.get("Content-Type", "application/octet-stream"), etag)
