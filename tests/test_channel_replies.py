"""Citizens' replies to the city's Mastodon and Bluesky posts reach the office of the post's feed, and its
answers go back as replies there (issue 20). The real clients talk to local servers: Mastodon.py reads mention
notifications from one that follows Mastodon's REST API (tests/mastodon_server.py, fed with a recorded
notification), atproto reads a PDS's listNotifications (tests/bluesky_server.py, documented shapes). The same
rules as for fediverse replies keep out what nobody should read."""

from __future__ import annotations

from datetime import UTC, datetime

from feedserver.push import channel_records, channel_replies
from feedserver.push import reply_records as records
from feedserver.scheduler import build_scheduler
from tests.channel_fixtures import TOKEN_VARIABLE
from tests.desk_support import API, approve, bearer, desk_feeds, new_announcement, staff
from tests.push_support import live_app, queue_empty, refresh, wait_for
from tests.test_channel_bluesky import channel as sky_channel
from tests.test_channel_mastodon import channel

BLOCKED = '[replies]\nblocked = ["spam.example"]\n'


def feeds(upstream) -> str:
    """The desk's feeds, presse posting to the channel."""
    presse = 'office = "presse"\n'
    return desk_feeds(upstream.url).replace(presse, presse + 'channels = ["stadt"]\n', 1)


def kept(app) -> list[records.Reply]:
    return records.listed(app.extensions["feedserver"].store.engine, None)


def poll(app) -> int:
    runtime = app.extensions["feedserver"]
    return channel_replies.poll(runtime, runtime.settings.channels["stadt"], datetime.now(UTC))


def test_a_reply_on_mastodon_reaches_the_posts_office_and_the_answer_goes_back_as_a_reply(
    tmp_path, upstream, mastodon
):
    with live_app(tmp_path, feeds(upstream), channel(mastodon) + BLOCKED) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        wait_for(lambda: queue_empty(app))
        client, tokens = app.test_client(), staff(app)
        news = {"title": "Hochwasser: Altstadt meiden", "text": "Pegel 6,20 m."}
        announcement = new_announcement(client, tokens["paul"], **news)
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        [ours] = wait_for(lambda: list(mastodon.statuses.values()))

        reply = mastodon.add_reply("erika@social.example", "Ist die <b>Brücke</b> gesperrt?", ours.id)
        mastodon.add_reply("lena", "Und die Schule?", ours.id)  # a local account of the same instance
        mastodon.add_reply("x@spam.example", "Werbung", ours.id)  # a blocked instance
        mastodon.add_reply("otto@social.example", "@stadt Hallo!", None)  # answers no post of the city's
        hostile = mastodon.add_reply(
            "h" * 400 + "@evil.example", "Hallo", ours.id
        )  # a handle too long to keep
        del mastodon.add_reply("nobody@evil.example", "Hallo", ours.id)["account"]["acct"]  # unreadable
        assert poll(app) == 2
        erika, lena = sorted(kept(app), key=lambda m: m.handle)
        host = mastodon.url.split("//")[1].split(":")[0]
        assert (erika.handle, lena.handle) == ("@erika@social.example", f"@lena@{host}")
        assert (erika.office, erika.feed_id, erika.channel, erika.in_reply_to) == (
            "presse",
            "presse",
            "stadt",
            ours.id,
        )
        assert erika.text == "@stadt Ist die Brücke gesperrt?" and erika.channel_ref == reply["status"]["id"]
        assert erika.remote_id == reply["status"]["uri"]

        assert poll(app) == 0  # read from where the last poll stopped: nothing twice
        engine = app.extensions["feedserver"].store.engine
        assert channel_records.cursor(engine, "stadt") == mastodon.notifications[-1]["id"] != hostile["id"]
        assert records.erase_handle(engine, "@lena@" + host) == 1
        assert poll(app) == 0 and len(kept(app)) == 1  # an erased message does not come back

        url = f"{API}/replies/{erika.id}/answer"
        too_long = client.post(url, json={"text": "x" * 490}, headers=bearer(tokens["anna"]))
        assert too_long.status_code == 422 and "text" in too_long.get_json()["errors"]
        answered = client.post(url, json={"text": "Ja, bis Montag.", "visibility": "direct"},
                               headers=bearer(tokens["anna"]))  # fmt: skip
        assert answered.status_code == 200, answered.get_json()
        [answer] = [s for s in mastodon.statuses.values() if s.in_reply_to_id == reply["status"]["id"]]
        assert (answer.text, answer.visibility) == ("@erika@social.example Ja, bis Montag.", "direct")
        assert answered.get_json()["answered_by"] == "anna" and answer.id in kept(app)[0].answer_id


def test_a_reply_on_bluesky_reaches_the_office_and_the_answer_is_a_public_reply_in_its_thread(
    tmp_path, upstream, pds
):
    presse = 'office = "presse"\n'
    sky_feeds = desk_feeds(upstream.url).replace(presse, presse + 'channels = ["sky"]\n', 1)
    with live_app(tmp_path, sky_feeds, sky_channel(pds)) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        wait_for(lambda: queue_empty(app))
        client, tokens = app.test_client(), staff(app)
        announcement = new_announcement(
            client, tokens["paul"], title="Sperrung Hauptstraße", text="Ab Montag."
        )
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        [rkey] = wait_for(lambda: list(pds.records))
        ours = f"at://{pds.did}/app.bsky.feed.post/{rkey}"
        erika = pds.add_reply("erika.bsky.social", "Gilt das auch für Radfahrer?", ours)
        for n in range(60):  # erika's is on the second page now
            pds.add_reply(
                f"leser{n}.bsky.social", f"Frage {n}", f"at://did:plc:other/app.bsky.feed.post/x{n}"
            )
        pds.add_reply("otto.example.org", "@stadt.bsky.social Hallo", "", reason="mention")
        runtime = app.extensions["feedserver"]
        assert channel_replies.poll(runtime, runtime.settings.channels["sky"], datetime.now(UTC)) == 1
        [message] = kept(app)
        assert (message.handle, message.instance, message.office, message.in_reply_to) == (
            "@erika.bsky.social", "bsky.social", "presse", ours)  # fmt: skip
        assert message.text == "Gilt das auch für Radfahrer?"
        assert channel_replies.poll(runtime, runtime.settings.channels["sky"], datetime.now(UTC)) == 0

        url = f"{API}/replies/{message.id}/answer"
        direct = client.post(
            url, json={"text": "Ja.", "visibility": "direct"}, headers=bearer(tokens["anna"])
        )
        assert direct.status_code == 422 and "visibility" in direct.get_json()["errors"]
        answered = client.post(url, json={"text": "Ja, auch für Radfahrer.", "visibility": "public"},
                               headers=bearer(tokens["anna"]))  # fmt: skip
        assert answered.status_code == 200, answered.get_json()
        [answer] = [r for r in pds.records.values() if "reply" in r]
        assert answer["text"] == "@erika.bsky.social Ja, auch für Radfahrer."
        assert answer["reply"]["parent"]["uri"] == erika["uri"] and answer["reply"]["root"]["uri"] == ours
        assert answer["facets"][0]["features"][0]["did"] == erika["author"]["did"]


def test_the_scheduler_reads_each_channels_replies_unless_it_says_not_to(tmp_path, upstream, mastodon):
    extra = channel(mastodon) + '\n[channels.leise]\ntype = "mastodon"\nbase_url = "https://m.example"\n'
    extra += f'access_token = {{ env = "{TOKEN_VARIABLE}" }}\nreplies = false\n'
    with live_app(tmp_path, desk_feeds(upstream.url), extra, worker=False) as app:
        jobs = {job.id for job in build_scheduler(app).get_jobs()}
        assert "replies:stadt" in jobs and "replies:leise" not in jobs
