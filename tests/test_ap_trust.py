"""Issue 16, attack 1: impersonation through the inbox. A key document may claim any owner; only the owner's
own actor document, fetched from the owner's URL, can vouch for a key (push/ap_trust.py). And a server
speaks for its own origin only: the keyId, the actor and what an activity creates or deletes share one.

alice (on server A, `remote`) follows the feed for real; mallory has her own server B (`elsewhere`) and can
also put a file on A (an upload). Every forged request must leave alice's follow as it was and send her
nothing."""

from __future__ import annotations

import logging

import pytest
from Crypto.PublicKey import RSA

from tests.ap_support import (
    RemoteServer,
    discover_actor,
    feed_app,
    follow_activity,
    followed,
    followers,
    post_signed,
    settled,
)
from tests.push_support import queue_empty, refresh, wait_for


@pytest.fixture
def elsewhere(keys):
    server = RemoteServer(keys["mallory"], name="mallory")
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, upstream):
    with feed_app(tmp_path, upstream) as app:
        yield app


@pytest.fixture(params=["on another server", "uploaded to alice's server"])
def forged_key(request, remote, elsewhere, keys) -> str:
    """The keyId of a document that names alice as the owner of mallory's key (the reproduced attack)."""
    server, path = (elsewhere, "/key") if request.param == "on another server" else (remote, "/media/1.json")
    pem = keys["mallory"].publickey().export_key().decode()
    key_id = server.url(path)
    public_key = {"id": key_id, "owner": remote.actor, "publicKeyPem": pem}
    server.serve(path, {"id": remote.actor, "type": "Person", "publicKey": public_key})
    return key_id


def refused_or_dropped(response, key_id: str, remote: RemoteServer) -> None:
    """A key on another origin is refused at the door; one on alice's origin passes it, to be dropped."""
    expected = 202 if key_id.startswith(remote.url("/")) else 401
    assert response.status_code == expected


def test_a_key_claiming_alice_cannot_delete_her_follow(app, remote, keys, forged_key, caplog):
    client = app.test_client()
    actor = discover_actor(client, app)
    followed(client, app, actor, remote)
    delete = {"id": remote.actor + "#delete", "type": "Delete", "actor": remote.actor, "object": remote.actor}
    response = post_signed(client, actor["inbox"], delete, keys["mallory"], forged_key)
    with caplog.at_level(logging.WARNING, logger="feedserver.push.worker"):
        settled(app)
    assert followers(app) == [remote.actor]
    refused_or_dropped(response, forged_key, remote)
    if response.status_code == 202:
        assert any("does not list that key" in r.getMessage() for r in caplog.records)


def test_a_key_claiming_alice_cannot_follow_in_her_name(app, upstream, remote, keys, forged_key):
    client = app.test_client()
    actor = discover_actor(client, app)
    activity = follow_activity(actor, remote)
    response = post_signed(client, actor["inbox"], activity, keys["mallory"], forged_key)
    settled(app)
    upstream.set([5, 4, 1])
    assert refresh(app).changes.added == 1
    settled(app)
    assert remote.received.empty()  # no Accept, no Create went to alice
    assert followers(app) == []
    refused_or_dropped(response, forged_key, remote)


def _foreign(actor: dict, alice: str, alice_follow: dict, mallory: str) -> dict[str, dict]:
    """Activities mallory signs with her own key on her own server, naming objects of alice's server."""
    base = {"actor": mallory}
    return {
        "Delete of alice": base | {"id": mallory + "#d", "type": "Delete", "object": alice},
        "Undo of alice's Follow": base | {"id": mallory + "#u", "type": "Undo", "object": alice_follow},
        "Undo of a Follow with an id on A": base
        | {"id": mallory + "#u2", "type": "Undo", "object": alice_follow | {"actor": mallory}},
        "Follow with an id on A": base | {"id": alice + "#f2", "type": "Follow", "object": actor["id"]},
        "Delete with an id on A": base | {"id": alice + "#d2", "type": "Delete", "object": mallory},
        "Create of a note on A": base
        | {"id": mallory + "#c", "type": "Create", "object": {"id": alice + "/notes/1", "type": "Note"}},
    }


def test_activities_naming_objects_of_another_origin_are_refused(app, remote, elsewhere):
    client = app.test_client()
    actor = discover_actor(client, app)
    alice_follow = followed(client, app, actor, remote)
    followed(client, app, actor, elsewhere)
    settled(app)  # the Accepts' jobs are gone too
    for name, activity in _foreign(actor, remote.actor, alice_follow, elsewhere.actor).items():
        response = post_signed(client, actor["inbox"], activity, elsewhere.key, elsewhere.key_id())
        assert response.status_code == 401, name
        assert response.mimetype == "application/problem+json", name
        assert queue_empty(app), name  # refused before anything was queued
    assert sorted(followers(app)) == sorted([remote.actor, elsewhere.actor])
    assert remote.received.empty() and elsewhere.received.empty()


def test_an_actor_may_list_several_keys_and_sign_with_any(app, remote, keys):
    remote.keys.append(keys["second"])  # publicKey is now a list of two
    client = app.test_client()
    actor = discover_actor(client, app)
    activity = follow_activity(actor, remote)
    assert post_signed(client, actor["inbox"], activity, keys["second"], remote.key_id(1)).status_code == 202
    assert remote.next()[0] == "/users/alice/inbox"  # the Accept
    assert followers(app) == [remote.actor]


def test_a_key_the_actor_lists_by_reference_is_fetched_from_its_own_document(app, remote, keys):
    carol, key_id = remote.url("/users/carol"), remote.url("/users/carol/key")
    document = remote.actor_document() | {"id": carol, "inbox": carol + "/inbox", "publicKey": [key_id]}
    remote.serve("/users/carol", document)
    pem = keys["second"].publickey().export_key().decode()
    remote.serve("/users/carol/key", {"id": key_id, "owner": carol, "publicKeyPem": pem})
    client = app.test_client()
    actor = discover_actor(client, app)
    activity = {"id": carol + "#follow", "type": "Follow", "actor": carol, "object": actor["id"]}
    assert post_signed(client, actor["inbox"], activity, keys["second"], key_id).status_code == 202
    wait_for(lambda: followers(app) == [carol])


def test_a_rotated_key_is_fetched_again(app, remote):
    client = app.test_client()
    actor = discover_actor(client, app)
    follow_sent = followed(client, app, actor, remote)  # alice's document (and old key) is cached now
    remote.keys[0] = RSA.generate(2048)
    undo = {"id": remote.actor + "#undo", "type": "Undo", "actor": remote.actor, "object": follow_sent}
    assert post_signed(client, actor["inbox"], undo, remote.key, remote.key_id()).status_code == 202
    wait_for(lambda: followers(app) == [])
