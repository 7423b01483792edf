"""Outgoing push requests (WebSub callbacks, ActivityPub inboxes and key fetches) through the upstream client.

They obey the same SSRF policy as upstream fetches ([fetch] allow_networks, checked on the address actually
connected), but with short limits: a subscriber is not an upstream, and a slow one must not hold a worker.
The deadline is total, as for every request through the client: whatever the server drips, it ends there.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from ..config import Settings
from ..errors import FeedserverError, UpstreamError
from ..fetch import Http, Payload
from ..netguard import AddressPolicy, RefusedAddress

MAX_URL = 1024  # callbacks, inboxes, key ids; topic + callback must fit one PostgreSQL index row
MAX_ANSWER = 256 * 1024  # a callback's or inbox's answer is ignored; key documents are small
DEADLINE = 15.0  # seconds for a whole exchange


class PushError(Exception):
    """A push request failed; `retry` says whether trying again later may help."""

    def __init__(self, message: str, retry: bool = True, status: int | None = None):
        super().__init__(message)
        self.retry = retry
        self.status = status


def push_http(settings: Settings, deadline: float = DEADLINE) -> Http:
    """A client for one push request: no redirects followed, short timeouts, small answers."""
    fetch = settings.fetch
    limits = replace(
        fetch,
        max_redirects=0,  # WebSub: a redirect is a failure; ActivityPub inboxes do not move
        connect_timeout=min(fetch.connect_timeout, 5.0, deadline),
        read_timeout=min(fetch.read_timeout, 10.0, deadline),
        deadline=min(fetch.deadline, deadline),
        max_bytes=MAX_ANSWER,
    )
    return Http(limits)


def url_problem(settings: Settings, url: str) -> str | None:
    """Why a callback or inbox URL is refused before any request (scheme, length, a local literal host)."""
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.hostname:
        return "must be an absolute http or https URL"
    if len(url) > MAX_URL or any(c.isspace() for c in url) or split.fragment:
        return f"must be at most {MAX_URL} characters, without spaces or fragment"
    if split.username or split.password:
        return "must not carry credentials"
    refusal = AddressPolicy.from_networks(settings.fetch.allow_networks).refusal(url)
    return "points to a network this server does not deliver to" if refusal else None


def origin(url: str) -> str | None:
    """scheme://host:port of an http(s) URL, the port always given (80 and 443 when implied); else None."""
    if not isinstance(url, str):
        return None
    try:
        split = urlsplit(url)
        port = split.port or {"http": 80, "https": 443}.get(split.scheme.lower())
    except ValueError:
        return None  # a port that is not a number
    if split.scheme.lower() not in ("http", "https") or not split.hostname:
        return None
    host = split.hostname.lower()
    return f"{split.scheme.lower()}://{f'[{host}]' if ':' in host else host}:{port}"


def get(
    settings: Settings, url: str, headers: dict[str, str] | None = None, deadline: float = DEADLINE
) -> Payload:
    """GET within the push limits (and a shorter deadline when given); PushError on any failure."""
    return _send(lambda http: http.get(url, headers=headers, allow_html=True), settings, deadline)


def post(settings: Settings, url: str, body: bytes, headers: dict[str, str]) -> Payload:
    """POST a body within the push limits; PushError on any failure (with the status when there was one)."""
    return _send(
        lambda http: http.request("POST", url, data=body, headers=headers, allow_html=True), settings
    )


def _send(exchange, settings: Settings, deadline: float = DEADLINE) -> Payload:
    try:
        return exchange(push_http(settings, deadline))
    except RefusedAddress as exc:
        raise PushError(str(exc), retry=False) from exc  # the address policy: trying again will not help
    except UpstreamError as exc:
        raise PushError(str(exc), status=exc.status) from exc
    except FeedserverError as exc:  # any other refusal of the answer
        raise PushError(str(exc)) from exc
