"""ActivityPub: a remote server on 127.0.0.1 (played by the test, with its own key pair) finds a feed by
WebFinger, follows it with a signed Follow, gets a signed Accept and then a signed Create for each new item
(crisis items first), and a Delete when an item goes; unsigned or badly signed inbox requests are refused.

The inbox only checks what it can without the network and queues the request; the push worker verifies it
and acts, so the tests wait for the worker (tests/ap_support.py). Forged keys and foreign objects:
tests/test_ap_trust.py; floods and dripping key servers: tests/test_inbox_storm.py."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from feedserver.items import Item
from feedserver.push.ap_federate import announcement_order
from feedserver.push.worker import PushWorker
from tests.ap_support import (
    check_signature,
    discover_actor,
    feed_app,
    follow,
    follow_activity,
    followed,
    followers,
    post_signed,
    settled,
    signed,
)
from tests.desk_support import desk_feeds, publish, staff
from tests.push_support import feed_table, live_app, queue_empty, refresh, wait_for

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def app(tmp_path, upstream):
    with feed_app(tmp_path, upstream) as app:
        yield app


def test_follow_is_accepted_and_new_items_arrive_as_signed_creates(app, upstream, remote):
    client = app.test_client()
    actor = discover_actor(client, app)
    response, follow_sent = follow(client, actor, remote)
    assert response.status_code == 202

    path, headers, body = remote.next()
    assert path == "/users/alice/inbox"  # the Accept goes to the follower's own inbox
    check_signature(path, headers, body, actor)
    accept = json.loads(body)
    assert accept["type"] == "Accept" and accept["actor"] == actor["id"]
    assert accept["object"]["id"] == follow_sent["id"]
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
    follow_sent = followed(client, app, actor, remote)
    undo = {"id": remote.actor + "#undo-1", "type": "Undo", "actor": remote.actor, "object": follow_sent}
    assert post_signed(client, actor["inbox"], undo, remote.key, remote.key_id()).status_code == 202
    wait_for(lambda: followers(app) == [])
    upstream.set([5, 4, 1])
    refresh(app)
    settled(app)
    assert remote.received.empty()


def test_a_request_not_properly_signed_is_refused_at_the_door(app, remote):
    """What needs no key is checked in the request: 401, and nothing is queued."""
    client = app.test_client()
    actor = discover_actor(client, app)
    key_id = remote.key_id()
    body = json.dumps(follow_activity(actor, remote, 2)).encode()
    path = urlsplit(actor["inbox"]).path
    good = signed("POST", actor["inbox"], body, remote.key, key_id)
    base_url = f"http://{good['Host']}"
    stale = datetime.now(UTC) - timedelta(days=2)
    private = json.dumps(
        {"id": "http://10.0.0.1/u#f", "type": "Follow", "actor": "http://10.0.0.1/u"}
    ).encode()
    attempts = {
        "unsigned": ({k: v for k, v in good.items() if k != "Signature"}, body),
        "body changed": (good, body.replace(b"follow-2", b"follow-3")),
        "digest changed": (good | {"Digest": "SHA-256=" + base64.b64encode(b"x" * 32).decode()}, body),
        "hmac": (good | {"Signature": good["Signature"].replace("rsa-sha256", "hmac-sha256")}, body),
        "stale date": (signed("POST", actor["inbox"], body, remote.key, key_id, stale), body),
        "key on a private network": (
            signed("POST", actor["inbox"], private, remote.key, "http://10.0.0.1/u#main-key"),
            private,
        ),
        "date not signed": (
            good | {"Signature": good["Signature"].replace("host date digest", "host digest")},
            body,
        ),
    }
    for name, (headers, payload) in attempts.items():
        response = client.post(path, data=payload, headers=headers, base_url=base_url)
        assert response.status_code == 401, name
        assert response.mimetype == "application/problem+json", name
        assert response.headers["WWW-Authenticate"].startswith("Signature "), name
        assert queue_empty(app), name


def test_a_request_whose_signature_does_not_hold_is_dropped_by_the_worker(app, remote, keys, caplog):
    """Well-formed but signed with another key, or by alice in bob's name: 202, then one log line and no
    follower, no Accept."""
    client = app.test_client()
    actor = discover_actor(client, app)
    activity = follow_activity(actor, remote, 2)
    another_key = post_signed(client, actor["inbox"], activity, keys["mallory"], remote.key_id())
    in_bobs_name = activity | {"id": remote.url("/users/bob#follow-2"), "actor": remote.url("/users/bob")}
    as_bob = post_signed(client, actor["inbox"], in_bobs_name, remote.key, remote.key_id())
    assert another_key.status_code == as_bob.status_code == 202
    with caplog.at_level(logging.WARNING, logger="feedserver.push.worker"):
        settled(app)
    assert followers(app) == []
    assert remote.received.empty()  # no Accept went anywhere
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 2
    assert "does not verify" in dropped[0] or "does not verify" in dropped[1]
    assert any("not the owner of the signing key" in line for line in dropped)
    assert all("\n" not in line for line in dropped)  # one line each


def test_crisis_items_are_delivered_before_other_news(tmp_path, upstream, remote):
    feeds = desk_feeds(upstream.url)
    with live_app(tmp_path, feeds, worker=False) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        worker = PushWorker(app, threads=1, poll=0.1).start()
        wait_for(lambda: queue_empty(app))
        client = app.test_client()
        actor = discover_actor(client, app)
        followed(client, app, actor, remote)
        worker.stop()  # news of both kinds piles up in the queue ...
        tokens = staff(app)
        upstream.set([5, 4, 1])
        refresh(app)
        crisis = {"crisis": True, "targets": ["waste-test"]}
        publish(client, tokens, title="Hochwasser: Altstadt meiden", text="Bitte meiden.", **crisis)
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
