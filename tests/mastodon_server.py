"""A Mastodon server on 127.0.0.1 for the channel tests: the statuses and notifications parts of the
documented REST API (docs.joinmastodon.org/methods/statuses, /methods/notifications), answering with a
status and a mention notification recorded from real servers.

As Mastodon does: a bearer token is required (401 otherwise); a status longer than 500 characters, counting
every URL as 23, is refused with 422; a repeated `Idempotency-Key` of the same account gives back the status
made the first time; PUT edits (setting `edited_at`), DELETE removes (404 for an unknown id). A test can make
it lose the answer to the next post after making the status (a 502 from the proxy in front), or answer the
next request 429 with Mastodon's rate-limit headers.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
RECORDED = json.loads((FIXTURES / "status.json").read_text())
RECORDED_MENTION = json.loads((FIXTURES / "notifications.json").read_text())[0]
URL = re.compile(r"https?://\S+")
LIMIT = 500


@dataclass
class Status:
    """A status as the server keeps it."""

    id: str
    text: str
    language: str | None
    visibility: str
    created_at: str
    edited_at: str | None = None
    edits: list[str] = field(default_factory=list)
    in_reply_to_id: str | None = None


class MastodonServer:
    """One account (its token) on a local server."""

    def __init__(self, token: str = "city-token", username: str = "stadt"):
        self.token, self.username = token, username
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.start()
        self.statuses: dict[str, Status] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self.lose_next_answer = False
        self.limit_next = False
        self._ids = itertools.count(109440147874866834)
        self.notifications: list[dict] = []  # newest last
        self._notification_ids = itertools.count(22)
        self._lock = threading.Lock()
        statuses = re.compile(r"^/api/v1/statuses/(?P<id>[0-9]+)$")
        self.http.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self._post)
        self.http.expect_request(statuses, method="PUT").respond_with_handler(self._edit)
        notifications = "/api/v1/notifications"
        self.http.expect_request(notifications, method="GET").respond_with_handler(self._notifications)
        self.http.expect_request(statuses, method="DELETE").respond_with_handler(self._delete)

    @property
    def url(self) -> str:
        """The server's base URL (the channel's base_url)."""
        return self.http.url_for("/").rstrip("/")

    def stop(self) -> None:
        """Shut the server down."""
        self.http.clear()
        self.http.stop()

    # --- the API -------------------------------------------------------------------------------------------
    def _post(self, request: Request) -> Response:
        refused = self._refused(request, "POST")
        if refused:
            return refused
        text = request.form.get("status", "")
        if _length(text) > LIMIT:
            return _error(422, f"Validation failed: Text character limit of {LIMIT} exceeded")
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self.by_key:
                return _json(self._document(self.statuses[self.by_key[key]]))
            now = _now()
            status = Status(str(next(self._ids)), text, request.form.get("language"),
                            request.form.get("visibility", "public"), now,
                            in_reply_to_id=request.form.get("in_reply_to_id"))  # fmt: skip
            self.statuses[status.id] = status
            if key:
                self.by_key[key] = status.id
            if self.lose_next_answer:
                self.lose_next_answer = False
                return Response("Bad Gateway", status=502)  # made, but the answer never reaches the client
        return _json(self._document(status))

    def _edit(self, request: Request) -> Response:
        refused = self._refused(request, "PUT")
        if refused:
            return refused
        status = self.statuses.get(request.path.rsplit("/", 1)[1])
        if status is None:
            return _error(404, "Record not found")
        text = request.form.get("status", "")
        if _length(text) > LIMIT:
            return _error(422, f"Validation failed: Text character limit of {LIMIT} exceeded")
        status.edits.append(status.text)
        status.text, status.edited_at = text, _now()
        return _json(self._document(status))

    def _delete(self, request: Request) -> Response:
        refused = self._refused(request, "DELETE")
        if refused:
            return refused
        status = self.statuses.pop(request.path.rsplit("/", 1)[1], None)
        if status is None:
            return _error(404, "Record not found")
        return _json(self._document(status) | {"text": status.text})

    def _notifications(self, request: Request) -> Response:
        """GET /api/v1/notifications: newest first; types[], min_id (the page right after it), since_id,
        limit (40 by default, 80 at most)."""
        refused = self._refused(request, "GET")
        if refused:
            return refused
        types = request.args.getlist("types[]") or None
        found = [n for n in self.notifications if types is None or n["type"] in types]
        for name, keep in (("min_id", True), ("since_id", False)):
            if request.args.get(name):
                found = [n for n in found if int(n["id"]) > int(request.args[name])]
                if keep:
                    found = found[: int(request.args.get("limit", 40))]  # the oldest page after min_id
        limit = min(int(request.args.get("limit", 40)), 80)
        return Response(json.dumps(list(reversed(found))[:limit]), 200, content_type="application/json")

    def add_reply(self, acct: str, text: str, in_reply_to_id: str | None) -> dict:
        """A citizen's status mentioning the account (a reply to `in_reply_to_id`), as its mention
        notification: the recorded one with this author, text and ids."""
        notification = copy.deepcopy(RECORDED_MENTION)
        username, _, host = acct.partition("@")
        profile = f"https://{host}/@{username}" if host else f"{self.url}/@{username}"
        account = notification["account"] | {"username": username, "acct": acct, "url": profile,
                                              "uri": profile.replace("/@", "/users/")}  # fmt: skip
        status_id = str(next(self._ids))
        status = notification["status"] | {
            "id": status_id, "in_reply_to_id": in_reply_to_id, "account": account,
            "uri": f"{account['uri']}/statuses/{status_id}", "url": f"{profile}/{status_id}",
            "content": f"<p>@{self.username} {escape(text)}</p>",
        }  # fmt: skip
        notification |= {"id": str(next(self._notification_ids)), "account": account, "status": status}
        self.notifications.append(notification)
        return notification

    def _refused(self, request: Request, method: str) -> Response | None:
        self.requests.append((method, request.path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "The access token is invalid")
        if self.limit_next:
            self.limit_next = False
            reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
            headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            return Response(
                json.dumps({"error": "Too many requests"}), 429, headers, content_type="application/json"
            )
        return None

    def _document(self, status: Status) -> dict:
        document = copy.deepcopy(RECORDED)
        account = document["account"]
        account.update(username=self.username, acct=self.username, url=f"{self.url}/@{self.username}")
        paragraphs = "".join(f"<p>{escape(part)}</p>" for part in status.text.split("\n\n"))
        return document | {
            "id": status.id,
            "created_at": status.created_at,
            "edited_at": status.edited_at,
            "language": status.language,
            "visibility": status.visibility,
            "in_reply_to_id": status.in_reply_to_id,
            "content": paragraphs,
            "uri": f"{self.url}/users/{self.username}/statuses/{status.id}",
            "url": f"{self.url}/@{self.username}/{status.id}",
            "account": account,
            "application": {"name": "feedserver", "website": None},
        }


def _length(text: str) -> int:
    """Characters as Mastodon counts them: every URL as 23."""
    return len(URL.sub("x" * 23, text))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(document: dict) -> Response:
    return Response(json.dumps(document), 200, content_type="application/json; charset=utf-8")


def _error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status, content_type="application/json; charset=utf-8")
