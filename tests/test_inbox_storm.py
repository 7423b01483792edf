"""Issue 16, attack 2: inbox requests whose keyId points at a key server that drips one byte at a time.

No web thread waits for a remote server: the inbox queues the request and the push worker fetches the key.
The worker is bounded too: half its slots at most for inbox requests, one per remote origin, each fetch
within a total deadline (the headers may drip as well as the body). The inbox counts requests per origin
(429) and caps the queue of unverified requests (503). The key servers here hold every connection until
the test releases them, so each assertion is about structure, not speed."""

from __future__ import annotations

import json
import logging
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from Crypto.PublicKey import RSA

from bench.inbox_parts import (
    Dripper,
    feed_actor,
    free_port,
    healthz,
    signed_follows,
    start_serve,
    stop,
    storm,
    storm_config,
)
from feedserver.push import ap_remote, outbox, worker
from tests.ap_support import FAST_RETRY, RemoteServer, discover_actor, followed, post_signed, signed
from tests.push_support import feed_table, live_app, queue_empty, wait_for


@pytest.fixture(scope="module")
def key():
    return RSA.generate(2048)


@pytest.fixture
def dripper(request):
    origins, mode = getattr(request, "param", (1, "body"))
    server = Dripper(origins, mode)
    yield server
    server.release()


def inbox_jobs(app) -> int:
    return outbox.pending(app.extensions["feedserver"].store.engine, outbox.AP_INBOX)


def post_follows(client, feed: dict, origins: list[str], count: int) -> list[int]:
    """Signed Follows of the feed by accounts on the origins, through the test client; the statuses."""
    requests = signed_follows(feed["id"], origins, count)
    return [post(client, feed, body, headers).status_code for body, headers in requests]


def post(client, feed: dict, body: bytes, headers: dict):
    """POST a body with its headers to the feed's inbox."""
    path = urlsplit(feed["inbox"]).path
    return client.post(path, data=body, headers=headers, base_url=f"http://{headers['Host']}")


@pytest.mark.parametrize("dripper", [(5, "body")], indirect=True, ids=["5-origins"])
def test_healthz_answers_while_50_inbox_posts_point_at_dripping_key_servers(tmp_path, dripper):
    """`feedserver serve` as deployed (8 web threads, its push worker inside); before the fix each POST held a
    web thread until the key fetch gave up, and /healthz waited behind them."""
    port = free_port()
    server = start_serve(storm_config(tmp_path, port), port, tmp_path / "serve.log")
    try:
        result = storm(port, signed_follows(feed_actor(port), dripper.origins, 50), probe_timeout=5.0)
        assert result.healthz_failures == 0  # every probe during the POSTs answered within 5 s
        assert result.statuses == Counter({202: 50})
        wait_for(lambda: dripper.total_held() >= 1, timeout=30)  # the worker meets a dripping key server
        assert healthz(port, timeout=5.0) is not None
        assert dripper.total_held() >= 1 and not dripper.released.is_set()
    finally:
        dripper.release()
        stop(server)


def test_one_dripping_origin_holds_one_worker_slot(tmp_path, upstream, dripper, monkeypatch, key):
    """Ten requests from a dripping origin take one slot; alice's follow is accepted meanwhile."""
    monkeypatch.setattr(ap_remote, "FETCH_DEADLINE", 600.0)  # nothing is cut off during the test
    remote = RemoteServer(key)
    with live_app(tmp_path, feed_table(upstream.url), FAST_RETRY, threads=4) as app:
        try:
            client = app.test_client()
            actor = discover_actor(client, app)
            assert post_follows(client, actor, dripper.origins, 10) == [202] * 10
            wait_for(lambda: dripper.total_held() == 1)
            followed(client, app, actor, remote)
            wait_for(lambda: inbox_jobs(app) == 10)  # alice's is done; one fetching, nine wait for the slot
            assert dripper.most == Counter({dripper.ports[0]: 1}) and dripper.total_held() == 1
        finally:
            dripper.release()
            remote.stop()


@pytest.mark.parametrize("dripper", [(1, "body"), (1, "headers")], indirect=True, ids=["body", "headers"])
def test_a_dripping_key_fetch_is_cut_at_its_deadline(tmp_path, upstream, dripper, monkeypatch, caplog):
    """Whether the body or the headers drip, each attempt ends at the deadline; after the last the request is
    dropped with one log line. The key server never finished an answer."""
    monkeypatch.setattr(ap_remote, "FETCH_DEADLINE", 1.0)
    with live_app(tmp_path, feed_table(upstream.url), FAST_RETRY) as app:
        try:
            client = app.test_client()
            actor = discover_actor(client, app)
            assert post_follows(client, actor, dripper.origins, 1) == [202]
            with caplog.at_level(logging.INFO, logger="feedserver.push.worker"):
                wait_for(lambda: queue_empty(app), timeout=60)
            wait_for(lambda: dripper.given_up[dripper.ports[0]] == worker.INBOX_ATTEMPTS)
            assert not dripper.released.is_set()
        finally:
            dripper.release()
    lines = [r.getMessage() for r in caplog.records if "ap-inbox" in r.getMessage()]
    assert len(lines) == worker.INBOX_ATTEMPTS and "dropped" in lines[-1]
    assert all("within 1 s" in line for line in lines), lines


def test_a_key_server_that_timed_out_takes_its_origins_queued_requests_with_it(
    tmp_path, upstream, dripper, monkeypatch, key
):
    """After one fetch from a dripping origin ran out of time, that origin's other queued requests are dropped
    at once (their senders retry): they free the queue after one deadline instead of holding it for hours
    while real followers get 503, and requests of other origins are still handled."""
    monkeypatch.setattr(ap_remote, "FETCH_DEADLINE", 1.0)
    remote = RemoteServer(key)
    with live_app(tmp_path, feed_table(upstream.url), "[activitypub]\nretry_delay = 3600\n") as app:
        try:
            client = app.test_client()
            actor = discover_actor(client, app)
            assert post_follows(client, actor, dripper.origins, 5) == [202] * 5
            wait_for(lambda: dripper.given_up[dripper.ports[0]] == 1)
            wait_for(lambda: inbox_jobs(app) == 0)
            followed(client, app, actor, remote)
            assert dripper.accepted[dripper.ports[0]] == 1  # one deadline for the origin, not one per request
        finally:
            dripper.release()
            remote.stop()


@contextmanager
def _inbox(tmp_path, upstream, extra: str = ""):
    """The app without a push worker (whatever is queued stays queued, nothing is ever fetched), a test client
    and the feed's actor document."""
    with live_app(tmp_path, feed_table(upstream.url), extra, worker=False) as app:
        client = app.test_client()
        yield app, client, discover_actor(client, app)


def test_inbox_requests_are_limited_per_origin(tmp_path, upstream):
    with _inbox(tmp_path, upstream, '[activitypub]\ninbox_rate_limit = "3/hour"\n') as (app, client, actor):
        one, other = "http://127.0.0.1:9", "http://127.0.0.1:10"  # never fetched: no worker
        assert post_follows(client, actor, [one], 3) == [202] * 3
        refused = post(client, actor, *signed_follows(actor["id"], [one], 1)[0])
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert post_follows(client, actor, [other], 1) == [202]
        assert inbox_jobs(app) == 4


def test_the_queue_of_unverified_requests_is_capped(tmp_path, upstream):
    """At most inbox_queue_limit requests wait, and one origin may take a tenth of them."""
    with _inbox(tmp_path, upstream, "[activitypub]\ninbox_queue_limit = 10\n") as (app, client, actor):
        origins = [f"http://127.0.0.1:{port}" for port in range(20001, 20012)]
        assert post_follows(client, actor, origins[:1] * 2, 2) == [202, 503]
        assert post_follows(client, actor, origins[1:10], 9) == [202] * 9
        full = post(client, actor, *signed_follows(actor["id"], origins[10:], 1)[0])
        assert full.status_code == 503 and int(full.headers["Retry-After"]) > 0
        assert inbox_jobs(app) == 10


def test_activities_with_nothing_to_act_on_are_not_queued(tmp_path, upstream, key):
    """Likes, boosts, deletions of accounts nobody follows: acknowledged without fetching a key."""
    with _inbox(tmp_path, upstream) as (app, client, actor):
        someone = "http://127.0.0.1:9/users/someone"
        note = actor["id"] + "/notes/00000000-0000-0000-0000-000000000000"
        activities = [
            {"type": "Like", "object": note},
            {"type": "Announce", "object": note},
            {"type": "Delete", "object": someone},
            {"type": "Follow", "object": "http://127.0.0.1:9/users/other"},
            {"type": "Undo", "object": {"type": "Like", "object": note}},
        ]
        for n, activity in enumerate(activities):
            signed_activity = activity | {"id": f"{someone}#{n}", "actor": someone}
            response = post_signed(client, actor["inbox"], signed_activity, key, someone + "#main-key")
            assert response.status_code == 202, activity["type"]
        assert inbox_jobs(app) == 0


def test_an_oversized_or_shapeless_body_is_refused_before_anything_else(tmp_path, upstream, key):
    with _inbox(tmp_path, upstream) as (app, client, actor):
        key_id = "http://127.0.0.1:9/users/someone#main-key"
        big = b"[" + b" " * (256 * 1024) + b"]"
        assert post(client, actor, big, signed("POST", actor["inbox"], big, key, key_id)).status_code == 413
        for body in (b"[]", b"not json", json.dumps({"actor": "x"}).encode()):
            response = post(client, actor, body, signed("POST", actor["inbox"], body, key, key_id))
            assert response.status_code == 400, body
        assert inbox_jobs(app) == 0
