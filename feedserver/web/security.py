"""Client-facing hardening: trusted hosts, request size limits and security headers per route class.

Route classes (by path, so 404s and errors under a prefix get that prefix's headers):
- data: feeds, the JSON API, /openapi.json, /opml, /healthz ... read by programs from any origin:
  `nosniff`, CSP `default-src 'none'`, CORS `*` without credentials.
- page: the human pages (/, /feeds/<id>, /api/docs, and any other HTML answer outside the classes
  below): own styles and scripts only (static/copy.js), never framed.
- widget: /widgets/<id>, /widget.js and /widget.css, made to be embedded: framing allowed, nothing else
  loosened.
- admin: /admin: never framed, never stored by any cache; the only class that may set a cookie.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import SecurityError

from .problems import problem

log = logging.getLogger(__name__)

MAX_PATH = 1024  # bytes of a request path (percent-decoded)
MAX_QUERY_STRING = 4096  # bytes of a query string (feeds allow less: web/feeds.py MAX_QUERY)
MAX_PARAMETERS = 50  # query parameters per request
MAX_ERROR_AGE = 60  # seconds a client error may be cached; server errors are never cached
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
FEED_PAGE = re.compile(r"^/feeds/[^/.]+$")
PAGE_PATHS = ("/", "/api/docs", "/stats")
EXPOSED = "ETag, Last-Modified, Link, Feedserver-Status, Retry-After"
SECURED = "feedserver_secured"  # attribute of a response that carries its route class's headers already
PREFLIGHT_HEADERS = "Accept, Accept-Language, Cache-Control, If-Modified-Since, If-None-Match"

CSP = {
    # A feed opened in a browser applies static/feed.xsl (XSLT counts as a script) and its style.css.
    "data": "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "page": "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
    "worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "widget": "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors *; base-uri 'none'; form-action 'none'",
    "admin": "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
}


def route_class(path: str) -> str:
    """Which header set a path gets: data, page, widget or admin."""
    if path == "/admin" or path.startswith("/admin/"):
        return "admin"
    if path in ("/widget.js", "/widget.css") or path.startswith("/widgets/"):
        return "widget"
    if path in PAGE_PATHS or FEED_PAGE.match(path):
        return "page"
    return "data"


def trusted_hosts(base_url: str, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """base_url's host, the configured extra hosts and loopback (for local probes and reverse proxies)."""
    hosts = [urlsplit(base_url).hostname or "", *extra, *LOOPBACK_HOSTS]
    return list(dict.fromkeys(h.lower() for h in hosts if h))


def init_app(app: Flask, base_url: str, extra_hosts: tuple[str, ...] | list[str] = ()) -> None:
    """Trust only known Host headers (Flask's TRUSTED_HOSTS: others get a 400 problem) and add the hooks."""
    app.config["TRUSTED_HOSTS"] = trusted_hosts(base_url, extra_hosts)
    hsts = uses_https(base_url)
    app.before_request(refuse_absurd_requests)

    @app.after_request
    def security_headers(response: Response) -> Response:
        if getattr(response, SECURED, False):
            return response  # built with its class's headers already (the feed hot path, route_headers)
        kind = route_class(request.path)
        if kind == "data" and response.mimetype == "text/html" and request.method != "OPTIONS":
            kind = "page"  # an HTML page added elsewhere (/stats ...) is a page, never readable cross-origin
        return apply_headers(response, kind, hsts)


def secured(response: Response) -> Response:
    """Mark a response that already carries every header of its route class (see route_headers), so the
    after_request hook leaves it alone; only for 2xx/3xx answers that set no cookie."""
    setattr(response, SECURED, True)
    return response


@lru_cache(maxsize=16)
def uses_https(base_url: str) -> bool:
    """True when the server is published over https (then every answer carries HSTS)."""
    return urlsplit(base_url).scheme == "https"


@lru_cache(maxsize=16)
def route_headers(kind: str, hsts: bool) -> tuple[tuple[str, str], ...]:
    """The headers every response of a route class gets, formatted once."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", CSP[kind]),
    ]
    if hsts:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    if kind in ("page", "admin"):
        headers.append(("X-Frame-Options", "DENY"))
    if kind == "data":  # any origin may read, never with credentials (_cors)
        headers += [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED)]
    return tuple(headers)


class LowerCaseHost:
    """WSGI middleware: the Host header in lower case. Host names are case-insensitive (RFC 9110 4.2.3), but
    werkzeug compares them with TRUSTED_HOSTS as given, which refused `Feeds.City.Example` with a 400."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST")
        if host is not None and not host.islower():
            environ["HTTP_HOST"] = host.lower()
        return self.app(environ, start_response)


def refuse_absurd_requests() -> Response | None:
    """414 for overlong paths or query strings, 400 for too many parameters; never echoing them."""
    environ = request.environ  # the raw WSGI values: measured without decoding them (every request)
    if len(environ.get("PATH_INFO", "")) > MAX_PATH:
        return problem(414, "URI Too Long", f"Paths are limited to {MAX_PATH} characters.")
    query = environ.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_STRING:
        return problem(414, "URI Too Long", f"Query strings are limited to {MAX_QUERY_STRING} bytes.")
    if query and sum(len(values) for values in request.args.listvalues()) > MAX_PARAMETERS:
        return problem(400, "Bad Request", f"At most {MAX_PARAMETERS} query parameters are accepted.")
    return None


def apply_headers(response: Response, kind: str, hsts: bool = False) -> Response:
    """The security headers of one route class, error caching bounded, and no cookie outside /admin."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass (perf: every request gets here)
    _add_missing(headers, present, route_headers(kind, hsts))
    if kind == "data":
        _cors(response, present)
    if kind == "admin":
        headers["Cache-Control"] = "no-store"
        if "frame-ancestors" not in headers["Content-Security-Policy"]:
            headers["Content-Security-Policy"] += "; frame-ancestors 'none'"
    elif "set-cookie" in present:
        # Public routes are cookie-free by promise (README); a cookie here would be a bug, so drop it.
        log.error("dropping a Set-Cookie header on the public route %s", request.path)
        del headers["Set-Cookie"]
    if response.status_code >= 400:
        _bound_error_caching(response)
    return response


def _add_missing(headers, present: set[str], pairs: tuple[tuple[str, str], ...]) -> None:
    """Headers.setdefault for several headers at once: werkzeug's setdefault scans the list and raises on
    every miss, which made these hooks the costliest part of serving a cached feed (bench/scale_bench.py)."""
    for name, value in pairs:
        if name.lower() not in present:
            headers.add(name, value)
            present.add(name.lower())


def _cors(response: Response, present: set[str]) -> None:
    """Never with credentials (the origin and exposed headers are in route_headers); preflights learn the
    conditional request headers."""
    headers = response.headers
    if "access-control-allow-credentials" in present:
        del headers["Access-Control-Allow-Credentials"]
    if request.method == "OPTIONS":
        headers.setdefault("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        headers.setdefault("Access-Control-Allow-Headers", PREFLIGHT_HEADERS)
        headers.setdefault("Access-Control-Max-Age", "86400")


def _bound_error_caching(response: Response) -> None:
    """Server errors are never cached; client errors at most a minute, and never privately stored long."""
    if response.status_code >= 500 or isinstance(request.routing_exception, SecurityError):
        # an untrusted Host must not leave a cached 400 behind in a cache that ignores the Host header
        response.headers["Cache-Control"] = "no-store"
        return
    control = response.cache_control
    if control.no_store:
        return
    if control.max_age is None or control.max_age > MAX_ERROR_AGE or control.s_maxage is not None:
        response.headers["Cache-Control"] = f"public, max-age={MAX_ERROR_AGE}"
