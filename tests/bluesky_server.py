"""A Bluesky PDS on 127.0.0.1 for the channel tests: the XRPC procedures a poster needs
(com.atproto.server.createSession, com.atproto.repo.createRecord, getRecord, deleteRecord) and the account's
notifications (app.bsky.notification.listNotifications, newest first, paged with a cursor), answering in the
documented shapes (tests/fixtures/bluesky). It checks what a PDS checks of a post: the bearer token, a TID
record key, at most 300 graphemes, facets whose byte offsets hold their link or @mention."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CREATED = json.loads((Path(__file__).parent / "fixtures" / "bluesky" / "create-record.json").read_text())
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
XRPC = "/xrpc/"


def _jwt(payload: dict) -> str:
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2lnbmF0dXJl"


class BlueskyServer:
    """One account (handle, app password) on a local PDS."""

    def __init__(self, handle: str = "stadt.bsky.social", password: str = "abcd-efgh-ijkl-mnop"):
        self.handle, self.password = handle, password
        self.did = "did:plc:z72i7hdynmk6r22z27h6tvur"
        self.records: dict[str, dict] = {}
        self.calls: list[str] = []
        self.lose_next_answer = False
        self.notifications: list[dict] = []  # oldest first
        self._clock = itertools.count(1)
        self._lock = threading.Lock()
        now = int(time.time())
        self.access = _jwt({"scope": "com.atproto.appPass", "sub": self.did, "iat": now, "exp": now + 7200})
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.start()
        routes = {
            "com.atproto.server.createSession": ("POST", self._session),
            "com.atproto.repo.getRecord": ("GET", self._get),
            "com.atproto.repo.createRecord": ("POST", self._create),
            "com.atproto.repo.deleteRecord": ("POST", self._delete),
            "app.bsky.notification.listNotifications": ("GET", self._notifications),
        }
        for nsid, (method, handler) in routes.items():
            self.http.expect_request(XRPC + nsid, method=method).respond_with_handler(handler)

    @property
    def url(self) -> str:
        return self.http.url_for("/").rstrip("/")

    def stop(self) -> None:
        self.http.clear()
        self.http.stop()

    def texts(self) -> list[str]:
        return sorted(record["text"] for record in self.records.values())

    def _session(self, request: Request) -> Response:
        self.calls.append("createSession")
        body = request.get_json(silent=True) or {}
        if (body.get("identifier"), body.get("password")) != (self.handle, self.password):
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        refresh = _jwt({"scope": "com.atproto.refresh", "sub": self.did, "exp": int(time.time()) + 86400})
        return _json({"did": self.did, "handle": self.handle, "accessJwt": self.access, "refreshJwt": refresh,
                      "active": True})  # fmt: skip

    def _get(self, request: Request) -> Response:
        self.calls.append("getRecord")
        if request.headers.get("Authorization") != f"Bearer {self.access}":
            return _error(401, "AuthenticationRequired", "Authentication Required")
        rkey = request.args.get("rkey", "")
        if rkey not in self.records:
            uri = f"at://{request.args.get('repo')}/{request.args.get('collection')}/{rkey}"
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return _json({"uri": self._uri(rkey), "cid": CREATED["cid"], "value": self.records[rkey]})

    def _create(self, request: Request) -> Response:
        self.calls.append("createRecord")
        if request.headers.get("Authorization") != f"Bearer {self.access}":
            return _error(401, "AuthenticationRequired", "Authentication Required")
        body = request.get_json()
        record, rkey = body["record"], body.get("rkey", "")
        problem = _invalid(body, record, rkey)
        if problem:
            return _error(400, "InvalidRequest", problem)
        with self._lock:
            if rkey in self.records:
                return _error(400, "InvalidRequest", "Record already exists")
            self.records[rkey] = record
            if self.lose_next_answer:
                self.lose_next_answer = False
                return Response("Bad Gateway", status=502)
        return _json(CREATED | {"uri": self._uri(rkey)})

    def _delete(self, request: Request) -> Response:
        self.calls.append("deleteRecord")
        if request.headers.get("Authorization") != f"Bearer {self.access}":
            return _error(401, "AuthenticationRequired", "Authentication Required")
        self.records.pop(request.get_json().get("rkey", ""), None)  # deleting what is gone succeeds
        return _json({"commit": CREATED["commit"]})

    def add_reply(self, handle: str, text: str, parent_uri: str, reason: str = "reply") -> dict:
        """A citizen's post answering `parent_uri` (one of the account's), as the account's notification."""
        did = "did:plc:" + base64.b32encode(handle.encode()).decode().lower().rstrip("=")[:24]
        tick = next(self._clock)
        uri = f"at://{did}/app.bsky.feed.post/3kcitizen{tick:04d}"
        moment = (datetime(2026, 12, 5, 9, 0, tzinfo=UTC) + timedelta(seconds=tick)).isoformat()
        stamp = moment.replace("+00:00", "Z")
        parent = {"uri": parent_uri, "cid": CREATED["cid"]}
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": stamp, "langs": ["de"]}
        if reason == "reply":
            record["reply"] = {"root": parent, "parent": parent}
        notification = {
            "uri": uri, "cid": CREATED["cid"], "reason": reason, "record": record, "isRead": False,
            "indexedAt": stamp, "labels": [],
            "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0], "labels": []},
        }  # fmt: skip
        if reason == "reply":
            notification["reasonSubject"] = parent_uri
        self.notifications.append(notification)
        return notification

    def _notifications(self, request: Request) -> Response:
        self.calls.append("listNotifications")
        if request.headers.get("Authorization") != f"Bearer {self.access}":
            return _error(401, "AuthenticationRequired", "Authentication Required")
        newest_first = list(reversed(self.notifications))
        start = int(request.args.get("cursor") or 0)
        limit = min(int(request.args.get("limit", 50)), 100)
        page = newest_first[start : start + limit]
        more = start + limit < len(newest_first)
        body = {"notifications": page, "seenAt": None} | ({"cursor": str(start + limit)} if more else {})
        return _json({k: v for k, v in body.items() if v is not None})

    def _uri(self, rkey: str) -> str:
        return f"at://{self.did}/app.bsky.feed.post/{rkey}"


def _invalid(body: dict, record: dict, rkey: str) -> str | None:
    """What a PDS refuses in a post (None when it is valid)."""
    if body.get("collection") != "app.bsky.feed.post" or record.get("$type") != "app.bsky.feed.post":
        return "Invalid collection or record type"
    if not TID.match(rkey):
        return "Invalid record key: must be a TID"
    text = record.get("text", "")
    if len(text) > 300 or len(text.encode()) > 3000:
        return "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    for facet in record.get("facets", []):
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        held, feature = text.encode()[start:end].decode(), facet["features"][0]
        if feature["$type"] == "app.bsky.richtext.facet#mention":
            if not (held.startswith("@") and feature.get("did", "").startswith("did:")):
                return "Invalid facet: byte range does not hold its mention"
        elif held != feature["uri"]:
            return "Invalid facet: byte range does not hold its link"
    return None


def _json(document: dict) -> Response:
    return Response(json.dumps(document), 200, content_type="application/json; charset=utf-8")


def _error(status: int, error: str, message: str) -> Response:
    return Response(json.dumps({"error": error, "message": message}), status, content_type="application/json")
