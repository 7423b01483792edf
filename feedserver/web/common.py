"""Helpers every blueprint uses: the runtime, conditional responses, language choice."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Response, current_app, has_request_context, request
from werkzeug.datastructures import Headers
from werkzeug.http import http_date, parse_date

from ..display import zone_abbreviation
from ..runtime import Runtime
from ..serving import Served

MIN_MAX_AGE = 60
MAX_MAX_AGE = 3600
PROGRAM_BLUEPRINTS = frozenset({"api", "desk_api"})  # JSON for programs: their texts are part of the contract


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


class StoredResponse(Response):
    """Stored bytes with headers this server built itself: no Location to resolve, Content-Length set from
    the bytes, no entity headers on a 304. So werkzeug's per-response copy and check of every header
    (get_wsgi_headers) is skipped: on the feed hot path it cost as much as all our own work."""

    default_mimetype = None  # the stored media type is always given; a 304 has none

    def get_wsgi_headers(self, environ) -> Headers:
        """The headers as they are."""
        return self.headers


def serve_bytes(served: Served, at: datetime, extra: tuple[tuple[str, str], ...] = ()) -> Response:
    """The stored bytes with ETag/Last-Modified (and `extra` headers), or 304 when the client's copy is
    current."""
    rendition = served.rendition
    always, full_only = _validators(
        rendition.etag, rendition.last_modified, rendition.media_type, served.stale_since
    )
    headers = [*always, ("Cache-Control", f"public, max-age={max_age(served, at)}"), *extra]
    if not_modified(rendition.etag, rendition.last_modified):
        # RFC 9110 15.4.5: a 304 repeats ETag and the caching headers, not Last-Modified next to an ETag
        return StoredResponse(status=304, headers=headers)
    headers += full_only
    return StoredResponse(rendition.body, headers=headers)


@lru_cache(maxsize=4096)
def _validators(etag: str, last_modified: datetime, media_type: str, stale_since: datetime | None) -> tuple:
    """(headers of 200s and 304s, headers of 200s only) of a rendition, formatted once: ETag and the stale
    mark; Last-Modified and the exact media type."""
    always = [("ETag", etag)]
    if stale_since is not None:
        always.append(("Feedserver-Status", f'stale; since="{stale_since.isoformat()}"'))
    # the exact media type with its charset
    return tuple(always), (("Last-Modified", http_date(last_modified)), ("Content-Type", media_type))


def not_modified(etag: str, last_modified: datetime) -> bool:
    """RFC 9110 revalidation: If-None-Match wins over If-Modified-Since."""
    environ = request.environ  # read once: the headers straight from WSGI (hot path)
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    if since is None:
        return False
    return last_modified.replace(microsecond=0) <= since.replace(tzinfo=since.tzinfo or UTC)


TIME_FORMATS = {"de": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}


def local_text(value: datetime, zone: ZoneInfo, lang: str) -> str:
    """A time in the zone with its abbreviation in the page's language: 21.11.2026 10:00 MEZ."""
    local = value.astimezone(zone)
    abbreviation = zone_abbreviation(local, lang)
    return f"{local.strftime(TIME_FORMATS.get(lang, TIME_FORMATS['en']))} {abbreviation}".strip()


def language() -> str:
    """de or en: ?lang= first, then Accept-Language, then the server's default."""
    chosen = request.args.get("lang")
    if chosen in ("de", "en"):
        return chosen
    return request.accept_languages.best_match(["de", "en"]) or runtime().settings.server.language


def locale() -> str:
    """gettext's language (Flask-Babel's locale selector): the page's language() as the public pages choose
    it; English for the JSON APIs; the server's language outside a request (the scheduler, the CLI)."""
    if not has_request_context():
        return runtime().settings.server.language
    if request.blueprint in PROGRAM_BLUEPRINTS:
        return "en"
    return language()
