"""The city's Bluesky account as a channel: the real SDK (atproto) against a local PDS that answers the XRPC
procedures as documented (tests/bluesky_server.py). News is posted with a link facet and a card within 300
graphemes; a correction deletes and reposts (Bluesky has no edit); a withdrawal deletes; a lost answer is
found again instead of posted twice."""

from __future__ import annotations

from feedserver.push import channel_records
from feedserver.push.bluesky_account import record_key
from tests.ap_support import FAST_RETRY
from tests.bluesky_server import TID, BlueskyServer
from tests.channel_fixtures import PASSWORD_VARIABLE
from tests.desk_support import API, approve, bearer, desk_feeds, edit, new_announcement, staff
from tests.push_support import feed_table, live_app, queue_empty, refresh, wait_for


def channel(server: BlueskyServer) -> str:
    return f"""{FAST_RETRY}
[channels.sky]
type = "bluesky"
base_url = "{server.url}"
handle = "{server.handle}"
app_password = {{ env = "{PASSWORD_VARIABLE}" }}
"""


def waste_feed(upstream) -> str:
    return feed_table(upstream.url) + 'channels = ["sky"]\n'


def sent(app) -> list[channel_records.Post]:
    found = channel_records.posts(app.extensions["feedserver"].store.engine, "sky", "waste-test").values()
    return [p for p in found if p.state == "sent"]


def test_news_is_a_post_with_its_link_as_facet_and_card(tmp_path, upstream, pds):
    with live_app(tmp_path, waste_feed(upstream), channel(pds)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        assert pds.records == {}  # backlog
        upstream.set([5, 4, 1])
        refresh(app)
        wait_for(lambda: len(pds.records) == 1)
        wait_for(lambda: queue_empty(app))
        [(rkey, record)] = pds.records.items()
        assert TID.match(rkey) and record["langs"] == ["de"] and record["text"].startswith("Morgen: Biotonne")
        [facet] = record["facets"]
        link = facet["features"][0]["uri"]
        assert "/feeds/waste-test#item-" in link and record["text"].endswith(link)
        assert record["embed"]["external"]["uri"] == link and record["embed"]["external"]["title"]
        [post] = sent(app)
        assert post.remote_id == f"at://{pds.did}/app.bsky.feed.post/{rkey}"
        assert post.remote_url == f"https://bsky.app/profile/{pds.did}/post/{rkey}"


def test_a_correction_deletes_and_reposts_and_a_withdrawal_deletes(tmp_path, upstream, pds):
    with live_app(tmp_path, desk_feeds(upstream.url), channel(pds)) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        wait_for(lambda: queue_empty(app))
        client, tokens = app.test_client(), staff(app)
        crisis = {"title": "Hochwasser: Altstadt meiden", "text": "Pegel 6,20 m.", "crisis": True}
        announcement = new_announcement(client, tokens["paul"], **crisis, targets=["waste-test"])
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        wait_for(lambda: any("6,20 m" in t for t in pds.texts()))
        first = set(pds.records)
        version = edit(client, tokens["paul"], announcement, text="Pegel 6,80 m, weiter steigend.")
        assert approve(client, tokens["bernd"], announcement, version).status_code == 200
        wait_for(lambda: any("6,80 m" in t for t in pds.texts()))
        wait_for(lambda: queue_empty(app))
        assert len(pds.records) == 1 and not first & set(pds.records)  # the old post is gone, a new one made
        url = f"{API}/announcements/{announcement}/withdraw"
        assert client.post(url, headers=bearer(tokens["paul"])).status_code == 200
        wait_for(lambda: pds.records == {})


def test_a_lost_answer_finds_the_post_it_made_instead_of_posting_again(tmp_path, upstream, pds):
    with live_app(tmp_path, waste_feed(upstream), channel(pds)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        pds.lose_next_answer = True
        upstream.set([5, 4, 1])
        refresh(app)
        wait_for(lambda: len(sent(app)) == 1)
        wait_for(lambda: queue_empty(app))
        assert len(pds.records) == 1 and pds.calls.count("createRecord") == 1
        assert pds.calls.count("getRecord") == 2  # the retry looked and found it


def test_a_refused_app_password_is_not_retried_and_its_reason_is_kept(tmp_path, upstream, pds):
    pds.password = "other-password"
    with live_app(tmp_path, waste_feed(upstream), channel(pds)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        upstream.set([5, 4, 1])
        refresh(app)
        wait_for(lambda: queue_empty(app))
        posts = channel_records.posts(app.extensions["feedserver"].store.engine, "sky", "waste-test").values()
        [queued] = [p for p in posts if p.state == "queued"]
        assert "login refused" in queued.error and pds.calls.count("createSession") == 1


def test_record_keys_are_tids_that_a_retry_repeats():
    from datetime import UTC, datetime

    created = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert record_key("k", created) == record_key("k", created) != record_key("other", created)
    assert TID.match(record_key("k", created))
