"""A corrected announcement reaches fediverse followers as an Update of the same Note (Mastodon shows the
post edited in place), a withdrawn one as a Delete: whoever got the first text gets the correction."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from feedserver.push.worker import PushWorker
from tests.ap_support import check_signature, discover_actor, followed
from tests.desk_support import API, approve, bearer, desk_feeds, edit, new_announcement, staff
from tests.push_support import live_app, queue_empty, refresh, wait_for

CRISIS = {
    "title": "Hochwasser: Altstadt meiden",
    "text": "Pegel 6,20 m.",
    "crisis": True,
    "targets": ["waste-test"],
}


def delivered(remote, actor: dict) -> dict:
    """The next activity the remote inbox got, its signature checked as Mastodon checks it."""
    path, headers, body = remote.next()
    check_signature(path, headers, body, actor)
    return json.loads(body)


def test_an_approved_correction_is_an_update_and_a_withdrawal_a_delete(tmp_path, upstream, remote):
    with live_app(tmp_path, desk_feeds(upstream.url), worker=False) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        worker = PushWorker(app, threads=1, poll=0.1).start()
        try:
            wait_for(lambda: queue_empty(app))
            client = app.test_client()
            actor = discover_actor(client, app)
            followed(client, app, actor, remote)
            tokens = staff(app)
            announcement = new_announcement(client, tokens["paul"], **CRISIS)
            assert approve(client, tokens["anna"], announcement, 1).status_code == 200
            create = delivered(remote, actor)
            assert create["type"] == "Create" and "Pegel 6,20 m." in create["object"]["content"]

            version = edit(client, tokens["paul"], announcement, text="Pegel 6,80 m, weiter steigend.")
            assert approve(client, tokens["bernd"], announcement, version).status_code == 200
            update = delivered(remote, actor)
            note = update["object"]
            assert update["type"] == "Update" and update["actor"] == actor["id"]
            assert note["id"] == create["object"]["id"] and "updated" in note
            assert "6,80 m" in note["content"] and "6,20 m" not in note["content"]
            assert note["published"] == create["object"]["published"]
            served = client.get(urlsplit(note["id"]).path).get_json()
            assert "6,80 m" in served["content"] and served["updated"] == note["updated"]

            withdrawn = client.post(
                f"{API}/announcements/{announcement}/withdraw", headers=bearer(tokens["paul"])
            )
            assert withdrawn.status_code == 200
            delete = delivered(remote, actor)
            assert delete["type"] == "Delete" and delete["object"]["id"] == note["id"]
            wait_for(lambda: queue_empty(app))
            assert remote.received.empty()  # each change once: no second Update, no Create again
        finally:
            worker.stop()


def test_an_unchanged_item_sends_nothing_when_the_feed_is_published_again(tmp_path, upstream, remote):
    with live_app(tmp_path, desk_feeds(upstream.url)) as app:
        assert refresh(app, "waste-test").ok
        wait_for(lambda: queue_empty(app))
        client = app.test_client()
        actor = discover_actor(client, app)
        followed(client, app, actor, remote)
        upstream.set([5, 4, 1])
        assert refresh(app, "waste-test").changes.added == 1
        assert delivered(remote, actor)["type"] == "Create"
        assert refresh(app, "waste-test").ok  # same data again
        wait_for(lambda: queue_empty(app))
        assert remote.received.empty()
