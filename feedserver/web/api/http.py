"""HTTP for the JSON API: JSON with validators and 304s, cache lifetimes, CORS, opaque paging cursors."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime

from flask import Response
from werkzeug.http import http_date

from ...api_query import CURSOR_PATTERN
from ..common import MAX_MAX_AGE, MIN_MAX_AGE, not_modified
from .store import Body

JSON = "application/json"
EXPOSED = (
    "ETag, Last-Modified, Link, Feedserver-Status, Retry-After, RateLimit-Limit, RateLimit-Remaining, "
    "RateLimit-Reset"
)
ALLOWED_HEADERS = "Accept, Accept-Language, Cache-Control, If-Modified-Since, If-None-Match"
PREFLIGHT_SECONDS = 86400
SERVER_MAX_AGE = 60  # responses about all feeds
CURSOR = re.compile(CURSOR_PATTERN)


class CursorError(ValueError):
    """A cursor that is not of the form this server hands out."""


def feed_max_age(every: int) -> int:
    """Cache lifetime for a feed's responses: a quarter of its polling interval, 1 to 60 minutes."""
    return min(MAX_MAX_AGE, max(MIN_MAX_AGE, every // 4))


def json_response(
    body: Body, max_age: int, at: datetime, stale_since=None, link: str | None = None
) -> Response:
    """The body with ETag, Last-Modified and Cache-Control, or 304 when the client's copy is current."""
    if body.valid_until is not None:
        max_age = max(0, min(max_age, int((body.valid_until - at).total_seconds())))
    last_modified = body.generated_at.replace(microsecond=0)
    headers = {
        "ETag": body.etag,
        "Last-Modified": http_date(last_modified),
        "Cache-Control": f"public, max-age={max_age}",
    }
    if stale_since is not None:
        headers["Feedserver-Status"] = f'stale; since="{stale_since.isoformat()}"'
    if link:
        headers["Link"] = link
    if not_modified(body.etag, last_modified):
        return Response(status=304, headers=headers)
    return Response(body.payload, headers=headers, content_type=JSON)


def add_cors(response: Response) -> Response:
    """Any origin may read the API, never with credentials; the validators and limits are readable."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    response.headers.pop("Access-Control-Allow-Credentials", None)
    return response


def preflight() -> Response:
    """The answer to a CORS preflight: GET and HEAD with the conditional request headers."""
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    response.headers["Cache-Control"] = f"public, max-age={PREFLIGHT_SECONDS}"
    return response


def encode_cursor(key: tuple[int, str]) -> str:
    """An opaque cursor for a paging position (an item's time key and its id, a UUID)."""
    raw = key[0].to_bytes(8, "big", signed=True) + uuid.UUID(key[1]).bytes
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The paging position in a cursor; CursorError for anything not of the form this server hands out."""
    if not CURSOR.fullmatch(cursor):
        raise CursorError("not a cursor")
    raw = base64.urlsafe_b64decode(cursor)
    return int.from_bytes(raw[:8], "big", signed=True), str(uuid.UUID(bytes=raw[8:]))
