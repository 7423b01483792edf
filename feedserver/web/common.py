"""Helpers every blueprint uses: the runtime, conditional responses, language choice."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from flask import Response, current_app, request
from werkzeug.http import http_date, parse_date

from ..output import Served
from ..runtime import Runtime

MIN_MAX_AGE = 60
MAX_MAX_AGE = 3600


def runtime() -> Runtime:
    """The Runtime of the current app."""
    return current_app.extensions["feedserver"]


def now() -> datetime:
    """The current time, aware."""
    return datetime.now(UTC)


def max_age(served: Served, at: datetime) -> int:
    """Cache lifetime from the polling interval, never past the next scheduled reminder."""
    seconds = min(MAX_MAX_AGE, max(MIN_MAX_AGE, served.every // 4))
    valid_until = served.rendition.valid_until
    if valid_until is not None:
        seconds = max(0, min(seconds, int((valid_until - at).total_seconds())))
    return seconds


def serve_bytes(served: Served, at: datetime) -> Response:
    """The stored bytes with ETag/Last-Modified, or 304 when the client's copy is current."""
    rendition = served.rendition
    headers = [
        *_validators(rendition.etag, rendition.last_modified),
        ("Cache-Control", f"public, max-age={max_age(served, at)}"),
    ]
    if served.stale_since is not None:
        headers.append(("Feedserver-Status", f'stale; since="{served.stale_since.isoformat()}"'))
    if not_modified(rendition.etag, rendition.last_modified):
        return Response(status=304, headers=headers)
    headers.append(("Content-Type", rendition.media_type))  # the exact type with its charset
    return Response(rendition.body, headers=headers)


@lru_cache(maxsize=4096)
def _validators(etag: str, last_modified: datetime) -> tuple[tuple[str, str], ...]:
    """ETag and Last-Modified of a rendition, formatted once (this is on every feed request's path)."""
    return (("ETag", etag), ("Last-Modified", http_date(last_modified)))


def not_modified(etag: str, last_modified: datetime) -> bool:
    """RFC 9110 revalidation: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = parse_date(request.headers.get("If-Modified-Since"))
    if since is None:
        return False
    return last_modified.replace(microsecond=0) <= since.replace(tzinfo=since.tzinfo or UTC)


def language() -> str:
    """de or en: ?lang= first, then Accept-Language, then the server's default."""
    chosen = request.args.get("lang")
    if chosen in ("de", "en"):
        return chosen
    return request.accept_languages.best_match(["de", "en"]) or runtime().settings.server.language
