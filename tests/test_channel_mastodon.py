"""The city's Mastodon account as a channel: the real client (Mastodon.py) against a local server that follows
Mastodon's REST API (tests/mastodon_server.py). News is posted once, a correction edits the same status, a
withdrawal deletes it; a lost answer, a rate limit and a refused token are handled as a real server needs."""

from __future__ import annotations

import pytest

from feedserver.config import from_mapping
from feedserver.errors import ConfigError
from feedserver.push import channel_records
from feedserver.push.mastodon_account import fit
from tests.ap_support import FAST_RETRY
from tests.channel_fixtures import TOKEN_VARIABLE
from tests.desk_support import API, approve, bearer, desk_feeds, edit, new_announcement, staff
from tests.mastodon_server import MastodonServer, _length
from tests.push_support import feed_table, live_app, queue_empty, refresh, wait_for


def channel(server: MastodonServer, **options) -> str:
    lines = "".join(f"{name} = {value}\n" for name, value in options.items())
    return f"""{FAST_RETRY}
[channels.stadt]
type = "mastodon"
base_url = "{server.url}"
access_token = {{ env = "{TOKEN_VARIABLE}" }}
{lines}"""


def waste_feed(upstream, **keys) -> str:
    return feed_table(upstream.url) + "".join(f"{name} = {value}\n" for name, value in keys.items())


def recorded(app, state: str | None = None) -> list[channel_records.Post]:
    """The waste feed's rows on the channel (in one state)."""
    found = channel_records.posts(app.extensions["feedserver"].store.engine, "stadt", "waste-test").values()
    return [p for p in found if state is None or p.state == state]


def texts(server: MastodonServer) -> list[str]:
    return sorted(status.text for status in server.statuses.values())


def test_news_is_posted_once_in_the_feeds_language_and_the_backlog_is_not(tmp_path, upstream, mastodon):
    with live_app(tmp_path, waste_feed(upstream, channels='["stadt"]'), channel(mastodon)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        assert mastodon.statuses == {}  # the first look: what the feed held is backlog
        upstream.set([5, 4, 1])
        assert refresh(app).changes.added == 1
        wait_for(lambda: len(mastodon.statuses) == 1)
        wait_for(lambda: queue_empty(app))
        [status] = mastodon.statuses.values()
        assert status.text.startswith("Morgen: Biotonne") and "/feeds/waste-test#item-" in status.text
        assert (status.language, status.visibility) == ("de", "public")
        assert refresh(app).ok  # the same data again posts nothing
        wait_for(lambda: queue_empty(app))
        assert len(mastodon.statuses) == 1 and [m for m, _ in mastodon.requests].count("POST") == 1
        [post] = recorded(app, "sent")
        assert post.remote_id == status.id and post.remote_url.endswith(status.id)


def test_a_crisis_goes_to_every_channel_and_its_correction_and_withdrawal_too(tmp_path, upstream, mastodon):
    with live_app(tmp_path, desk_feeds(upstream.url), channel(mastodon)) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        wait_for(lambda: queue_empty(app))
        client, tokens = app.test_client(), staff(app)
        crisis = {"title": "Hochwasser: Altstadt meiden", "text": "Pegel 6,20 m.", "crisis": True}
        announcement = new_announcement(client, tokens["paul"], **crisis, targets=["waste-test"])
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        [status] = wait_for(lambda: list(mastodon.statuses.values()))
        assert "Pegel 6,20 m." in status.text

        version = edit(client, tokens["paul"], announcement, text="Pegel 6,80 m, weiter steigend.")
        assert approve(client, tokens["bernd"], announcement, version).status_code == 200
        wait_for(lambda: status.edited_at is not None)
        assert "6,80 m" in status.text and status.edits == [status.edits[0]] and "6,20 m" in status.edits[0]

        url = f"{API}/announcements/{announcement}/withdraw"
        assert client.post(url, headers=bearer(tokens["paul"])).status_code == 200
        wait_for(lambda: mastodon.statuses == {})
        wait_for(lambda: queue_empty(app))
        assert [m for m, _ in mastodon.requests].count("POST") == 1  # one status, edited, then deleted


def test_a_lost_answer_is_retried_with_the_same_idempotency_key_and_posts_nothing_twice(
    tmp_path, upstream, mastodon
):
    with live_app(tmp_path, waste_feed(upstream, channels='["stadt"]'), channel(mastodon)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        mastodon.lose_next_answer = True
        upstream.set([5, 4, 1])
        refresh(app)
        wait_for(lambda: [m for m, _ in mastodon.requests].count("POST") == 2)  # the retry
        wait_for(lambda: queue_empty(app))
        assert len(mastodon.statuses) == 1
        [post] = recorded(app, "sent")
        assert post.remote_id in mastodon.statuses


def test_a_rate_limit_is_waited_out_and_a_refused_token_is_not_retried(tmp_path, upstream, mastodon):
    with live_app(tmp_path, waste_feed(upstream, channels='["stadt"]'), channel(mastodon)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        mastodon.limit_next = True
        upstream.set([5, 4, 1])
        refresh(app)
        wait_for(lambda: len(mastodon.statuses) == 1)
        mastodon.token = "revoked"
        upstream.set([5, 4, 2, 1])
        refresh(app)
        wait_for(lambda: queue_empty(app))
        refused = recorded(app, "queued")
        assert len(refused) == 1 and "token refused" in refused[0].error
        assert [m for m, _ in mastodon.requests].count("POST") == 3  # 429, success, 401 once (no retry)


def test_the_hourly_limit_and_the_channel_filter_keep_a_data_feed_from_flooding(tmp_path, upstream, mastodon):
    feed = waste_feed(upstream, channels='["stadt"]', channel_filter='"category=organic"')
    with live_app(tmp_path, feed, channel(mastodon, max_per_hour=1)) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        upstream.set([5, 4, 2, 1])
        refresh(app)
        wait_for(lambda: queue_empty(app))
        assert len(mastodon.statuses) == 1  # two new pickups, one post an hour
        assert sorted(p.state for p in recorded(app)) == ["backlog", "backlog", "sent", "skipped"]
        upstream.set([5, 4, 2, 1, 0], label="Restmüll")
        refresh(app)
        wait_for(lambda: queue_empty(app))
        assert all("Restmüll" not in text for text in texts(mastodon))


def test_a_long_text_is_shortened_to_what_mastodon_accepts_and_keeps_its_link():
    link = "https://feeds.example.org/feeds/presse#item-" + "x" * 200
    text = fit("Hochwasser", "Bitte meiden. " * 80, link, 500)
    assert _length(text) <= 500 and text.endswith(link) and "…" in text
    assert fit("Kurz", "Kurz", link, 500) == f"Kurz\n\n{link}"


def test_channel_settings_name_file_key_and_problem(monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, "s3cr3t-token")
    base = {
        "source": "ics", "title": "T", "licence": "cc0-1.0", "url": "https://example.org/a.ics",
    }  # fmt: skip
    table = {
        "type": "mastodon",
        "base_url": "https://social.example",
        "access_token": {"env": TOKEN_VARIABLE},
    }
    with pytest.raises(ConfigError, match=r"feeds\.w\.channels.*no channel 'other'"):
        from_mapping({"channels": {"stadt": table}, "feeds": {"w": base | {"channels": ["other"]}}})
    with pytest.raises(ConfigError, match=r"channels\.stadt\.access_token.*env"):
        from_mapping({"channels": {"stadt": table | {"access_token": "literal-secret"}}})
    with pytest.raises(ConfigError, match=r"feeds\.w\.channel_filter"):
        feed = base | {"channels": ["stadt"], "channel_filter": "colour=red"}
        from_mapping({"channels": {"stadt": table}, "feeds": {"w": feed}})
    with pytest.raises(ConfigError, match=r"channels\.stadt\.type"):
        from_mapping({"channels": {"stadt": table | {"type": "myspace"}}})
    settings = from_mapping({"channels": {"stadt": table}, "feeds": {"w": base | {"channels": ["stadt"]}}})
    assert settings.feeds["w"].channels == ("stadt",) and "s3cr3t" not in repr(settings.channels["stadt"])
