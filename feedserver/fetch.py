"""The one HTTP client for upstreams: timeouts, deadline, byte cap, conditional GET, Retry-After, SSRF."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import urllib3

from .deadline import WATCHDOG, Exchange, WatchedConnection
from .errors import NotModified, ParseError, UpstreamError
from .netguard import AddressPolicy, GuardedAdapter, url_port
from .remembered import Remembered, bodies, condition_headers, request_key, response_validators

CHUNK = 64 * 1024
RETRY_STATUSES = {429, 503}
HTML_TYPES = ("text/html", "application/xhtml+xml")
XML_STARTS = (b"<?xml", b"<rss", b"<feed", b"<rdf:rdf", b"<alert")  # data a misconfigured server calls HTML
# An HTML document's first tag, once BOM, whitespace, XML declaration and comments are skipped (by a scan:
# a pattern repeating "<!--.*?-->" backtracks exponentially on a body of many comments).
HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
XML_DECLARATION = re.compile(rb"<\?xml[^<>]*>", re.IGNORECASE)
SPACE = re.compile(rb"\s*")
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class FetchSettings:
    """Limits and permissions for every upstream request (the `[fetch]` config table)."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 3
    allow_networks: tuple[str, ...] = ()
    # "host:port" of single local services the client may reach: only ever the demo upstream (feedserver.demo)
    allow_endpoints: tuple[str, ...] = ()
    allow_files: tuple[str, ...] = ()
    user_agent: str = "feedserver"
    deletion_guard_ratio: float = 0.5  # a fetch removing more than this share of current items is held
    deletion_guard_min: int = 10  # ... when it removes at least this many
    parse_budget: float = (
        60.0  # CPU seconds one refresh may spend parsing and normalizing (feedserver.budget)
    )


@dataclass(frozen=True)
class Payload:
    """One upstream response body with what a parser may need to know about it."""

    body: bytes
    url: str
    status: int = 200
    content_type: str = ""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    related: Mapping[str, Payload] = field(default_factory=dict)
    not_modified: bool = False  # the upstream answered 304: this is the body remembered from before

    def unchanged(self) -> bool:
        """True when this body and every related one were answered 304 (reused, not new)."""
        return self.not_modified and all(part.unchanged() for part in self.related.values())

    def text(self, encoding: str | None = None) -> str:
        """The body decoded with the given encoding, else the charset header, else UTF-8 (BOM dropped)."""
        charset = encoding or _charset(self.content_type) or "utf-8"
        text = self.body.decode(charset, errors="replace")
        return text.removeprefix("\ufeff")


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"').lower()
    return None


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class Http:
    """Upstream HTTP client for one feed; remembers conditional-GET validators per URL.

    Two kinds of conditional GET: `conditional=True` sends the feed's stored validators and raises
    NotModified on 304 (a single-document source: nothing changed); `reuse=True` sends the validators of
    the body remembered for that URL (feedserver.remembered) and on 304 returns that body, marked
    `not_modified` (one document of several, or data judged against the time of the fetch).
    """

    def __init__(
        self,
        settings: FetchSettings,
        validators: Mapping[str, Mapping[str, str]] | None = None,
        session: requests.Session | None = None,
    ):
        self.settings = settings
        self.validators: dict[str, dict[str, str]] = {k: dict(v) for k, v in (validators or {}).items()}
        self.requested: set[str] = set()  # URLs (with query) asked for by this client
        self.session = session or requests.Session()
        self.session.max_redirects = settings.max_redirects
        # Proxies from the environment would resolve names past the guard: upstream connections are direct.
        self.session.trust_env = False
        self.policy = AddressPolicy.from_networks(settings.allow_networks, settings.allow_endpoints)
        # the address actually connected is checked; the sockets it opens are cut at the deadline
        adapter = GuardedAdapter(self.policy, mixins=(WatchedConnection,))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | Iterable[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        conditional: bool = False,
        reuse: bool = False,
        expect: Iterable[str] = (),
        allow_html: bool = False,
    ) -> Payload:
        """GET url; on 304 raise NotModified (conditional) or return the remembered body (reuse)."""
        return self.request(
            "GET",
            url,
            params=params,
            headers=headers,
            conditional=conditional,
            reuse=reuse,
            expect=expect,
            allow_html=allow_html,
        )

    def post(self, url: str, *, data=None, json=None, headers=None, expect: Iterable[str] = ()) -> Payload:
        """POST to url (some providers export calendars only by POST)."""
        return self.request("POST", url, data=data, json=json, headers=headers, expect=expect)

    def request(
        self,
        method: str,
        url: str,
        *,
        conditional: bool = False,
        reuse: bool = False,
        expect: Iterable[str] = (),
        allow_html: bool = False,
        **kwargs,
    ) -> Payload:
        """Send one request within the configured limits and return the decoded body.

        An HTML page is a ParseError (a portal's maintenance or login page answered with 200) unless the
        source asks for HTML with allow_html.
        """
        payload = self._request(method, url, (conditional, reuse), tuple(expect), kwargs)
        if not allow_html and looks_like_html(payload):
            raise ParseError(f"{_safe(url)} answered with an HTML page instead of data")
        return payload

    def _request(self, method: str, url: str, modes: tuple[bool, bool], expect: tuple, kwargs) -> Payload:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            return self._read_file(url)
        if scheme == "demo":
            raise UpstreamError(
                "demo: URLs are served by the demo upstream, which runs only with [demo] enabled"
            )
        if scheme not in ("http", "https"):
            raise UpstreamError(f"unsupported URL scheme {scheme!r}")
        self.check_host(url)
        headers = {"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate"}
        headers.update(kwargs.pop("headers", None) or {})
        conditional, reuse = modes[0], modes[1] and method == "GET"
        key = request_key(url, kwargs.get("params"))  # validators belong to the URL with its query
        remembered = self._conditions(key, conditional, reuse, headers)
        # Timeouts bound each read, not their sum: the watchdog cuts the connections at the deadline, so a
        # server dripping its status line or headers is cut off too, not only one dripping its body.
        with WATCHDOG.exchange(self.settings.deadline) as exchange:
            try:
                with self._send(method, url, headers, exchange, kwargs) as response:
                    if response.status_code == 304 and remembered is not None:
                        return remembered_payload(remembered, url)
                    payload = self._finish(response, url, conditional, expect, exchange)
                    self._keep(key, response.headers, payload, conditional, reuse)
                    return payload
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                if exchange.overdue():  # whatever the cut connection raised, the deadline is the cause
                    raise self._late() from exc
                # urllib3 errors come from reading the body ourselves: cut off, broken compression
                raise UpstreamError(f"{type(exc).__name__} for {_safe(url)}: {exc}") from exc

    def check_host(self, url: str) -> None:
        """Refuse URLs whose host resolves to a loopback, private, link-local or metadata address.

        An early, readable refusal; the binding check is the one at connect time (netguard).
        """
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            raise UpstreamError("URL has no host")
        try:
            self.policy.resolve(host, url_port(parts))
        except socket.gaierror as exc:
            raise UpstreamError(f"cannot resolve {host}: {exc.strerror}") from exc

    def validators_in_use(self) -> dict[str, dict[str, str]]:
        """The validators of the URLs this client asked for (those of URLs no longer fetched are dropped)."""
        return {url: known for url, known in self.validators.items() if url in self.requested}

    def _send(self, method: str, url: str, headers: dict, exchange: Exchange, kwargs) -> requests.Response:
        """The response to the request, its redirects followed."""
        response = self.session.request(
            method,
            url,
            headers=headers,
            stream=True,
            timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            allow_redirects=False,
            **kwargs,
        )
        return self._follow_redirects(response, method, headers, exchange)

    def _follow_redirects(self, response, method, headers, exchange: Exchange):
        for _ in range(self.settings.max_redirects + 1):
            if not response.is_redirect:
                return response
            target = requests.compat.urljoin(response.url, response.headers["Location"])
            response.close()
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise UpstreamError("redirect to a non-HTTP URL refused")
            self.check_host(target)  # every hop is checked again
            self._check_deadline(exchange)
            response = self.session.request(
                "GET" if method == "POST" and response.status_code in (301, 302, 303) else method,
                target,
                headers=headers,
                stream=True,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                allow_redirects=False,
            )
        response.close()
        raise UpstreamError(f"more than {self.settings.max_redirects} redirects")

    def _finish(self, response, url, conditional, expect, exchange: Exchange) -> Payload:
        status = response.status_code
        if status == 304 and conditional:
            raise NotModified(url)
        if status >= 400 or status == 304:
            retry = (
                retry_after_seconds(response.headers.get("Retry-After")) if status in RETRY_STATUSES else None
            )
            raise UpstreamError(f"HTTP {status} from {_safe(url)}", status=status, retry_after=retry)
        content_type = response.headers.get("Content-Type", "")
        if expect and _media_type(content_type) not in expect:
            raise UpstreamError(
                f"unexpected content type {_media_type(content_type) or 'none'!r} from {_safe(url)}"
                f" (expected {', '.join(expect)})"
            )
        body = self._read_body(response, exchange)
        return Payload(body=body, url=url, status=status, content_type=content_type, fetched_at=_now())

    def _read_body(self, response, exchange: Exchange) -> bytes:
        chunks, size = [], 0
        raw = response.raw
        while True:
            self._check_deadline(exchange)
            chunk = raw.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)  # counted after decompression: a gzip bomb hits the cap
            if size > self.settings.max_bytes:
                raise UpstreamError(f"response larger than {self.settings.max_bytes} bytes")
            chunks.append(chunk)
        if exchange.expired:  # a body without a length ends where the watchdog cut it: that end is no end
            raise self._late()
        return b"".join(chunks)

    def _check_deadline(self, exchange: Exchange) -> None:
        if exchange.overdue():
            raise self._late()

    def _late(self) -> UpstreamError:
        return UpstreamError(f"no complete response within {self.settings.deadline:g} s")

    def _conditions(self, key: str, conditional: bool, reuse: bool, headers: dict) -> Remembered | None:
        """Add the validators to send; return the remembered body a 304 would stand for (reuse only)."""
        self.requested.add(key)
        remembered = bodies.get(key) if reuse else None
        if conditional:
            headers.update(condition_headers(self.validators.get(key, {})))
        elif remembered is not None:
            headers.update(condition_headers(remembered.validators))
        return remembered

    def _keep(self, key: str, headers, payload: Payload, conditional: bool, reuse: bool) -> None:
        """Store the validators of a new body: with the feed (conditional), with the body itself (reuse)."""
        known = response_validators(headers)
        if conditional:
            if known:
                self.validators[key] = known
            else:
                self.validators.pop(key, None)
        if reuse:
            if known:
                bodies.put(key, Remembered(known, payload.body, payload.content_type))
            else:
                bodies.forget(key)

    def _read_file(self, url: str) -> Payload:
        path = Path(unquote(urlsplit(url).path)).resolve()
        roots = [Path(root).resolve() for root in self.settings.allow_files]
        if not any(path.is_relative_to(root) for root in roots):
            raise UpstreamError("file: URL outside the directories allowed in [fetch] allow_files")
        try:
            size = path.stat().st_size
            if size > self.settings.max_bytes:
                raise UpstreamError(f"file larger than {self.settings.max_bytes} bytes")
            body = path.read_bytes()
        except OSError as exc:
            raise UpstreamError(f"cannot read {path.name}: {exc.strerror}") from exc
        return Payload(body=body, url=url, content_type=_guess_type(path), fetched_at=_now())


def remembered_payload(remembered: Remembered, url: str) -> Payload:
    """A remembered body as the payload of a 304 answer."""
    return Payload(remembered.body, url, content_type=remembered.content_type, not_modified=True)


def looks_like_html(payload: Payload) -> bool:
    """True when a body is an HTML document (by its media type or its first bytes), not a data format."""
    media_type = _media_type(payload.content_type)
    head = payload.body[:4096]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if media_type in HTML_TYPES and start.startswith(b"<") and not start.startswith(XML_STARTS):
        return True
    return _starts_as_html(head)


def _starts_as_html(head: bytes) -> bool:
    """True when the first tag after BOM, whitespace, XML declaration and comments opens an HTML page."""
    position = SPACE.match(head, len(BOM) if head.startswith(BOM) else 0).end()
    declaration = XML_DECLARATION.match(head, position)
    if declaration:
        position = SPACE.match(head, declaration.end()).end()
    while head.startswith(b"<!--", position):
        end = head.find(b"-->", position + 4)
        if end < 0:
            return False
        position = SPACE.match(head, end + 3).end()
    return HTML_TAG.match(head, position) is not None


def _guess_type(path: Path) -> str:
    return {
        ".ics": "text/calendar",
        ".json": "application/json",
        ".csv": "text/csv",
        ".xml": "application/xml",
        ".pb": "application/x-protobuf",
        ".zip": "application/zip",
    }.get(path.suffix.lower(), "application/octet-stream")


def _safe(url: str) -> str:
    """The URL without query string, so API keys in queries never reach logs or the status API."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _now() -> datetime:
    return datetime.now(UTC)
