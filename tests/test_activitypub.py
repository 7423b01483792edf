"""ActivityPub: a remote server on 127.0.0.1 (played by the test, with its own key pair) finds a feed by
WebFinger, follows it with a signed Follow, gets a signed Accept and then a signed Create for each new item
(crisis items first), and a Delete when an item goes; unsigned or badly signed inbox requests are refused.

Signatures are made and checked here by hand (pycryptodome and the draft-cavage signing string), not with
the library the server uses, so the two implementations check each other."""

from __future__ import annotations

import base64
import hashlib
import json
import queue
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
from Crypto.Hash import SHA256
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Response

from feedserver.items import Item
from feedserver.push.ap_federate import announcement_order
from feedserver.push.worker import PushWorker
from feedserver.tables import ap_followers
from tests.desk_support import bearer, desk_feeds, staff
from tests.push_support import Upstream, feed_table, live_app, queue_empty, refresh, wait_for

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture(scope="module")
def alice_key():
    return RSA.generate(2048)


@pytest.fixture(scope="module")
def mallory_key():
    return RSA.generate(2048)


class RemoteServer:
    """A fediverse server on 127.0.0.1: alice's actor document, her inbox and the server's shared inbox."""

    def __init__(self, key):
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.start()
        self.key = key
        self.received: queue.Queue = queue.Queue()
        self.actor = self.http.url_for("/users/alice")
        self.http.expect_request("/users/alice", method="GET").respond_with_handler(self._actor)
        for path in ("/users/alice/inbox", "/inbox"):
            self.http.expect_request(path, method="POST").respond_with_handler(self._inbox)

    def _actor(self, request):
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Person",
            "preferredUsername": "alice",
            "inbox": self.actor + "/inbox",
            "endpoints": {"sharedInbox": self.http.url_for("/inbox")},
            "publicKey": {
                "id": self.actor + "#main-key",
                "owner": self.actor,
                "publicKeyPem": self.key.publickey().export_key().decode(),
            },
        }
        return Response(json.dumps(document), content_type="application/activity+json")

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


@pytest.fixture
def remote(alice_key):
    server = RemoteServer(alice_key)
    yield server
    server.stop()


@pytest.fixture
def upstream(httpserver):
    return Upstream(httpserver, [5, 4])


@pytest.fixture
def app(tmp_path, upstream):
    with live_app(tmp_path, feed_table(upstream.url), "[activitypub]\nretry_delay = 1\n") as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))  # the first look: the current items are backlog
        yield app


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
        "Content-Type": "application/activity+json",
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
    assert self_link["type"] == "application/activity+json"
    document = client.get(urlsplit(self_link["href"]).path).get_json()
    assert document["type"] == "Service" and document["preferredUsername"] == "waste-test"
    return document


def post_signed(client, url: str, activity: dict, key, key_id: str, **overrides):
    body = json.dumps(activity).encode()
    headers = signed("POST", url, body, key, key_id) | overrides
    return client.post(urlsplit(url).path, data=body, headers=headers, base_url=f"http://{headers['Host']}")


def follow(client, actor: dict, remote: RemoteServer):
    activity = {
        "id": remote.actor + "#follow-1",
        "type": "Follow",
        "actor": remote.actor,
        "object": actor["id"],
    }
    return post_signed(client, actor["inbox"], activity, remote.key, remote.actor + "#main-key"), activity


def followers(app) -> list[str]:
    with app.extensions["feedserver"].store.engine.connect() as connection:
        return [row.actor for row in connection.execute(select(ap_followers))]


def test_follow_is_accepted_and_new_items_arrive_as_signed_creates(app, upstream, remote):
    client = app.test_client()
    actor = discover_actor(client, app)
    response, follow_activity = follow(client, actor, remote)
    assert response.status_code == 202

    path, headers, body = remote.next()
    assert path == "/users/alice/inbox"  # the Accept goes to the follower's own inbox
    check_signature(path, headers, body, actor)
    accept = json.loads(body)
    assert accept["type"] == "Accept" and accept["actor"] == actor["id"]
    assert accept["object"]["id"] == follow_activity["id"]
    assert client.get(urlsplit(actor["followers"]).path).get_json()["totalItems"] == 1
    assert remote.received.empty()  # the backlog was not sent

    upstream.set([5, 4, 1])
    assert refresh(app).changes.added == 1
    path, headers, body = remote.next()
    assert path == "/inbox"  # later deliveries use the shared inbox the server offers
    check_signature(path, headers, body, actor)
    create = json.loads(body)
    assert create["type"] == "Create" and create["actor"] == actor["id"]
    note = create["object"]
    assert note["type"] == "Note" and note["attributedTo"] == actor["id"] and AS_PUBLIC in note["to"]
    assert "Morgen: Biotonne" in note["content"]
    assert client.get(urlsplit(note["id"]).path).get_json()["id"] == note["id"]  # dereferenceable
    outbox = client.get(urlsplit(actor["outbox"]).path).get_json()
    assert outbox["totalItems"] == 3 and outbox["orderedItems"][0]["object"]["id"] == note["id"]
    wait_for(lambda: queue_empty(app))
    assert remote.received.empty()  # one Create, sent once


def test_an_item_that_goes_is_deleted(app, upstream, remote):
    client = app.test_client()
    actor = discover_actor(client, app)
    assert follow(client, actor, remote)[0].status_code == 202
    assert json.loads(remote.next()[2])["type"] == "Accept"
    upstream.set([5, 4, 1])
    refresh(app)
    note = json.loads(remote.next()[2])["object"]
    upstream.set([5, 4])  # the new pickup was withdrawn upstream
    refresh(app)
    path, headers, body = remote.next()
    check_signature(path, headers, body, actor)
    delete = json.loads(body)
    assert delete["type"] == "Delete" and delete["object"] == {"id": note["id"], "type": "Tombstone"}
    gone = client.get(urlsplit(note["id"]).path)
    assert gone.status_code == 410 and gone.get_json()["type"] == "Tombstone"


def test_undo_follow_ends_the_deliveries(app, upstream, remote):
    client = app.test_client()
    actor = discover_actor(client, app)
    response, follow_activity = follow(client, actor, remote)
    assert response.status_code == 202 and followers(app) == [remote.actor]
    remote.next()  # the Accept
    undo = {"id": remote.actor + "#undo-1", "type": "Undo", "actor": remote.actor, "object": follow_activity}
    assert (
        post_signed(client, actor["inbox"], undo, remote.key, remote.actor + "#main-key").status_code == 202
    )
    assert followers(app) == []
    upstream.set([5, 4, 1])
    refresh(app)
    wait_for(lambda: queue_empty(app))
    assert remote.received.empty()


def test_unsigned_and_badly_signed_inbox_requests_are_refused(app, remote, mallory_key):
    client = app.test_client()
    actor = discover_actor(client, app)
    key_id = remote.actor + "#main-key"
    activity = {
        "id": remote.actor + "#follow-2",
        "type": "Follow",
        "actor": remote.actor,
        "object": actor["id"],
    }
    body = json.dumps(activity).encode()
    path = urlsplit(actor["inbox"]).path
    good = signed("POST", actor["inbox"], body, remote.key, key_id)
    base_url = f"http://{good['Host']}"
    attempts = {
        "unsigned": ({k: v for k, v in good.items() if k != "Signature"}, body),
        "another key": (signed("POST", actor["inbox"], body, mallory_key, key_id), body),
        "body changed": (good, body.replace(b"follow-2", b"follow-3")),
        "digest changed": (good | {"Digest": "SHA-256=" + base64.b64encode(b"x" * 32).decode()}, body),
        "hmac": (good | {"Signature": good["Signature"].replace("rsa-sha256", "hmac-sha256")}, body),
        "stale date": (
            signed("POST", actor["inbox"], body, remote.key, key_id, datetime.now(UTC) - timedelta(days=2)),
            body,
        ),
        "date not signed": (
            good
            | {
                "Signature": good["Signature"].replace(
                    "(request-target) host date digest", "(request-target) host digest"
                )
            },
            body,
        ),
    }
    for name, (headers, payload) in attempts.items():
        response = client.post(path, data=payload, headers=headers, base_url=base_url)
        assert response.status_code == 401, name
        assert response.mimetype == "application/problem+json", name
    # Signed correctly by alice, but claiming to be someone else: refused too.
    forged = activity | {"actor": remote.http.url_for("/users/bob")}
    assert post_signed(client, actor["inbox"], forged, remote.key, key_id).status_code == 401
    assert followers(app) == []
    wait_for(lambda: queue_empty(app))
    assert remote.received.empty()  # no Accept went anywhere


def test_crisis_items_are_delivered_before_other_news(tmp_path, upstream, remote):
    feeds = desk_feeds(upstream.url)
    with live_app(tmp_path, feeds, worker=False) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        worker = PushWorker(app, threads=1, poll=0.1).start()
        wait_for(lambda: queue_empty(app))
        client = app.test_client()
        actor = discover_actor(client, app)
        assert follow(client, actor, remote)[0].status_code == 202
        assert json.loads(remote.next()[2])["type"] == "Accept"
        worker.stop()  # news of both kinds piles up in the queue ...
        tokens = staff(app)
        upstream.set([5, 4, 1])
        refresh(app)
        created = client.post(
            "/api/v1/desk/announcements",
            json={"feed": "presse", "title": "Hochwasser: Altstadt meiden", "text": "Bitte meiden.",
                  "crisis": True, "targets": ["waste-test"]},
            headers=bearer(tokens["paul"]),
        )  # fmt: skip
        assert created.status_code == 201
        approved = client.post(
            f"/api/v1/desk/announcements/{created.get_json()['id']}/approve",
            json={"version": 1},
            headers=bearer(tokens["anna"]),
        )
        assert approved.status_code == 200
        worker = PushWorker(app, threads=1, poll=0.1).start()  # ... and is sent in order of urgency
        try:
            first = json.loads(remote.next()[2])["object"]
            second = json.loads(remote.next()[2])["object"]
        finally:
            worker.stop()
    assert "Hochwasser" in first["content"]
    assert "Biotonne" in second["content"]


def test_announcement_order_puts_crisis_first_then_oldest_first():
    def item(n: int, crisis: bool = False) -> Item:
        return Item(
            id=f"{n:036d}",
            key=str(n),
            title=str(n),
            published=datetime(2026, 1, n, tzinfo=UTC),
            data={"crisis": True} if crisis else {},
        )

    ordered = announcement_order([item(3), item(1), item(2, crisis=True), item(4, crisis=True)])
    assert [i.key for i in ordered] == ["2", "4", "1", "3"]


def test_unknown_accounts_and_bad_lookups(app):
    client = app.test_client()
    host = urlsplit(app.extensions["feedserver"].settings.server.base_url).netloc
    assert client.get(f"/.well-known/webfinger?resource=acct:nope@{host}").status_code == 404
    assert client.get("/.well-known/webfinger?resource=acct:waste-test@elsewhere.example").status_code == 404
    missing = client.get("/.well-known/webfinger")
    assert missing.status_code == 400 and missing.mimetype == "application/problem+json"
    assert client.get("/ap/feeds/nope").status_code == 404
    assert client.get("/ap/feeds/waste-test/notes/not-an-id").status_code == 404
    assert client.post("/ap/feeds/nope/inbox", data=b"{}").status_code == 404


def test_the_key_pair_is_made_once_and_kept(tmp_path, upstream):
    with live_app(tmp_path, feed_table(upstream.url), worker=False) as app:
        port = urlsplit(app.extensions["feedserver"].settings.server.base_url).port
        first = app.test_client().get("/ap/feeds/waste-test").get_json()["publicKey"]["publicKeyPem"]
    with live_app(tmp_path, feed_table(upstream.url), worker=False, port=port) as app:
        again = app.test_client().get("/ap/feeds/waste-test").get_json()["publicKey"]["publicKeyPem"]
    assert first == again and first.startswith("-----BEGIN PUBLIC KEY-----")
