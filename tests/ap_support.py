"""Helpers for the ActivityPub tests: fediverse servers on 127.0.0.1 played by the test (each with its own
key pair), signing by hand, and following a feed.

Signatures are made and checked here by hand (pycryptodome and the draft-cavage signing string), not with
the library the server uses, so the two implementations check each other."""

from __future__ import annotations

import base64
import hashlib
import json
import queue
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from Crypto.Hash import SHA256
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Response

from feedserver.tables import ap_followers
from tests.push_support import feed_table, live_app, queue_empty, refresh, wait_for

ACTIVITY_JSON = "application/activity+json"
FAST_RETRY = "[activitypub]\nretry_delay = 1\n"


class RemoteServer:
    """A fediverse server on 127.0.0.1: one account's actor document, its inbox and the shared inbox.

    `keys` are the account's key pairs; its document lists them (one object, or a list when several), each
    with the id `<actor>#key-<n>` (`#main-key` for the first).
    """

    def __init__(self, *keys, name: str = "alice"):
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.start()
        self.keys = list(keys)
        self.received: queue.Queue = queue.Queue()
        self.actor = self.http.url_for(f"/users/{name}")
        self.name = name
        self.http.expect_request(f"/users/{name}", method="GET").respond_with_handler(self._actor)
        for path in (f"/users/{name}/inbox", "/inbox"):
            self.http.expect_request(path, method="POST").respond_with_handler(self._inbox)

    @property
    def key(self):
        """The account's main key pair."""
        return self.keys[0]

    def key_id(self, n: int = 0) -> str:
        """The id of the account's n-th key."""
        return self.actor + ("#main-key" if n == 0 else f"#key-{n}")

    def url(self, path: str) -> str:
        """An address on this server."""
        return self.http.url_for(path)

    def serve(self, path: str, document: dict) -> str:
        """Serve any JSON document at a path (what an uploaded file or another account could be); its URL."""
        self.http.expect_request(path, method="GET").respond_with_json(document, content_type=ACTIVITY_JSON)
        return self.url(path)

    def actor_document(self) -> dict:
        """The account's actor document, listing its public keys."""
        keys = [
            {"id": self.key_id(n), "owner": self.actor, "publicKeyPem": key.publickey().export_key().decode()}
            for n, key in enumerate(self.keys)
        ]
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": self.actor + "/inbox",
            "endpoints": {"sharedInbox": self.url("/inbox")},
            "publicKey": keys[0] if len(keys) == 1 else keys,
        }

    def _actor(self, request):
        return Response(json.dumps(self.actor_document()), content_type=ACTIVITY_JSON)

    def _inbox(self, request):
        self.received.put((request.path, dict(request.headers), request.get_data()))
        return Response("", 202)

    def next(self, timeout: float = 10.0):
        """The next delivery: (inbox path, headers, activity)."""
        path, headers, body = self.received.get(timeout=timeout)
        return path, headers, body

    def stop(self):
        self.http.clear()
        self.http.stop()


def signed(method: str, url: str, body: bytes, key, key_id: str, date: datetime | None = None) -> dict:
    """Headers of a draft-cavage rsa-sha256 signature over (request-target) host date digest, by hand."""
    split = urlsplit(url)
    date_value = format_datetime(date or datetime.now(UTC), usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    lines = [f"(request-target): {method.lower()} {split.path}", f"host: {split.netloc}"]
    signing = "\n".join([*lines, f"date: {date_value}", f"digest: {digest}"])
    signature = base64.b64encode(pkcs1_15.new(key).sign(SHA256.new(signing.encode()))).decode()
    return {
        "Host": split.netloc,
        "Date": date_value,
        "Digest": digest,
        "Content-Type": ACTIVITY_JSON,
        "Signature": f'keyId="{key_id}",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest",signature="{signature}"',
    }


def check_signature(path: str, headers: dict, body: bytes, actor_document: dict) -> None:
    """Verify a delivery from the feed the way a receiving server does: Digest, then the RSA signature."""
    params = dict(part.split("=", 1) for part in headers["Signature"].split(","))
    params = {k: v.strip('"') for k, v in params.items()}
    assert params["keyId"] == actor_document["publicKey"]["id"]
    assert params["algorithm"] == "rsa-sha256"
    assert params["headers"].split() == ["(request-target)", "host", "date", "digest"]
    assert headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    lines = []
    for name in params["headers"].split():
        value = f"post {path}" if name == "(request-target)" else headers[name.title()]
        lines.append(f"{name}: {value}")
    key = RSA.import_key(actor_document["publicKey"]["publicKeyPem"])
    pkcs1_15.new(key).verify(SHA256.new("\n".join(lines).encode()), base64.b64decode(params["signature"]))


def discover_actor(client, app) -> dict:
    """WebFinger acct:waste-test@<host>, then the actor document it points to."""
    host = urlsplit(app.extensions["feedserver"].settings.server.base_url).netloc
    finger = client.get(f"/.well-known/webfinger?resource=acct:waste-test@{host}")
    assert finger.status_code == 200 and finger.mimetype == "application/jrd+json"
    (self_link,) = [link for link in finger.get_json()["links"] if link["rel"] == "self"]
    assert self_link["type"] == ACTIVITY_JSON
    document = client.get(urlsplit(self_link["href"]).path).get_json()
    assert document["type"] == "Service" and document["preferredUsername"] == "waste-test"
    return document


def post_signed(client, url: str, activity: dict, key, key_id: str, **overrides):
    """POST an activity to an inbox, signed by hand with a key under a keyId."""
    body = json.dumps(activity).encode()
    headers = signed("POST", url, body, key, key_id) | overrides
    return client.post(urlsplit(url).path, data=body, headers=headers, base_url=f"http://{headers['Host']}")


def follow_activity(actor: dict, remote: RemoteServer, n: int = 1) -> dict:
    """A Follow of the feed's actor by the remote account."""
    activity = {"id": f"{remote.actor}#follow-{n}", "type": "Follow", "actor": remote.actor}
    return activity | {"object": actor["id"]}


def follow(client, actor: dict, remote: RemoteServer):
    """The remote account follows the feed: (the inbox's answer, the Follow sent)."""
    activity = follow_activity(actor, remote)
    return post_signed(client, actor["inbox"], activity, remote.key, remote.key_id()), activity


def followed(client, app, actor: dict, remote: RemoteServer) -> dict:
    """Follow the feed and wait for the Accept; the Follow sent."""
    response, activity = follow(client, actor, remote)
    assert response.status_code == 202
    assert json.loads(remote.next()[2])["type"] == "Accept"
    assert remote.actor in followers(app)
    return activity


def followers(app) -> list[str]:
    """Every follower of any feed."""
    with app.extensions["feedserver"].store.engine.connect() as connection:
        return [row.actor for row in connection.execute(select(ap_followers))]


def settled(app) -> None:
    """Wait until the push worker has handled every queued inbox request and delivery."""
    wait_for(lambda: queue_empty(app))


@contextmanager
def feed_app(tmp_path, upstream):
    """The app with the waste feed of `upstream` on a live port, refreshed once, its first deliveries done."""
    with live_app(tmp_path, feed_table(upstream.url), FAST_RETRY) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))  # the first look: the current items are backlog
        yield app
