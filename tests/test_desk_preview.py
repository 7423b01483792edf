"""The desk form's preview ("Vorschau"): the draft as the SMS line, as each chosen channel's post and as a
push notification, with "n / limit" counters and a warning when a text had to be cut; made by the code that
makes the real posts (the preview of an edit is the very text the channel then gets), and nothing is saved."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from feedserver.desk import records
from feedserver.push import channel_records, social
from tests.desk_support import admin_app, csrf_of, login
from tests.test_desk_channels import FEEDS, OFFLINE, TOKEN_VARIABLE

ARTICLE = re.compile(
    r'<h3 id="h-preview-\d+">([^<]+)</h3>\s*<pre class="preview">(.*?)</pre>\s*'
    r'<p class="counter[^"]*">([^<]+)</p>\s*(<p class="warning"[^>]*>[^<]*</p>)?',
    re.S,
)


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    return admin_app(tmp_path, monkeypatch, extra=OFFLINE, feeds=FEEDS)


def preview(browser, url: str = "/admin/new", **fields):
    """Submit the form with its "Preview" button: a presse draft unless `fields` say otherwise."""
    form = {
        "csrf_token": csrf_of(browser.get(url)),
        "feed": "presse",
        "title": "Wochenmarkt fällt aus",
        "text": "Wegen Glätte.",
        "channels_offered": "1",
        "channels": ["stadt", "kreis"],
        "preview": "1",
    }
    return browser.post(url, data=form | fields)


def shown(response) -> dict[str, tuple[str, str, bool]]:
    """Each preview on the page: its heading -> (text, counter, whether it warns of a cut)."""
    found = ARTICLE.findall(response.get_data(as_text=True))
    return {title: (html.unescape(text), counter, bool(warning)) for title, text, counter, warning in found}


def announcements(app) -> list:
    """Every announcement in the database."""
    with app.extensions["feedserver"].store.engine.connect() as connection:
        return records.announcements_in(connection, None)


def test_each_chosen_channel_is_previewed_with_its_counter_and_nothing_is_saved(app):
    anna = login(app, "anna")
    response = preview(anna, "/admin/new?lang=en")
    assert response.status_code == 200
    previews = shown(response)
    assert list(previews) == ["SMS line", "Mastodon (stadt)", "Mastodon (kreis)", "Push notification"]
    assert previews["SMS line"] == ("Wochenmarkt fällt aus", "21 / 160 characters", False)
    text, counter, cut = previews["Mastodon (stadt)"]
    assert text.startswith("Wochenmarkt fällt aus\n\nWegen Glätte.\n\nhttp") and not cut
    assert counter == f"{len('Wochenmarkt fällt aus') + len('Wegen Glätte.') + 4 + 23} / 500 characters"
    assert previews["Push notification"][0] == "Pressemitteilungen\nWochenmarkt fällt aus"
    assert 'value="Wochenmarkt fällt aus"' in response.get_data(as_text=True)  # the form keeps the draft
    assert announcements(app) == []  # a preview saves nothing

    only_kreis = shown(preview(anna, "/admin/new?lang=en", channels="kreis"))
    assert list(only_kreis) == ["SMS line", "Mastodon (kreis)", "Push notification"]


def test_a_text_too_long_for_a_channel_is_cut_with_a_warning_and_the_link_kept(app):
    anna = login(app, "anna")
    long_text = "Wegen Glätte fällt der Markt aus. " * 30
    previews = shown(preview(anna, "/admin/new?lang=en", text=long_text))
    text, counter, cut = previews["Mastodon (stadt)"]
    assert cut and counter == "500 / 500 characters" and "…\n\nhttp://" in text
    assert text.rsplit("\n\n", 1)[1].startswith("http://") and "#item-" in text  # the link, whole
    assert not previews["SMS line"][2] and not previews["Push notification"][2]
    german = preview(anna, text=long_text).get_data(as_text=True)
    assert "Vorschau" in german and "500 / 500 Zeichen" in german and "Gekürzt" in german


def test_a_crisis_is_previewed_on_every_channel_whatever_is_ticked(app):
    anna = login(app, "anna")
    crisis = preview(anna, "/admin/new?lang=en", crisis="on", all_feeds="on", channels=[])
    assert [t for t in shown(crisis) if t.startswith("Mastodon")] == [
        "Mastodon (stadt)", "Mastodon (kreis)", "Mastodon (land)"
    ]  # fmt: skip


def test_the_preview_of_an_edit_is_the_text_the_channel_then_gets(app):
    anna, bernd = login(app, "anna"), login(app, "bernd")
    form = {"feed": "presse", "title": "Markt", "channels_offered": "1", "channels": "stadt"}
    created = anna.post("/admin/new", data=form | {"csrf_token": csrf_of(anna.get("/admin/new"))})
    detail = created.headers["Location"]
    edit_url = f"{detail}/edit?lang=en"
    fields = {"title": "Markt fällt aus", "text": "Wegen Glätte.", "channels": "stadt"}
    previewed = shown(preview(anna, edit_url, **fields))["Mastodon (stadt)"][0]
    token = csrf_of(anna.get(edit_url))
    saved = anna.post(edit_url, data={"csrf_token": token, "channels_offered": "1"} | fields)
    assert saved.status_code == 302
    page = bernd.get(detail)
    assert (
        bernd.post(f"{detail}/approve", data={"version": "2", "csrf_token": csrf_of(page)}).status_code == 302
    )
    runtime = app.extensions["feedserver"]
    with app.app_context():
        social.sync(runtime, runtime.feed("presse"), datetime.now(UTC))  # what the push worker does next
    [post] = channel_records.posts(runtime.store.engine, "stadt", "presse").values()
    assert post.text == previewed  # the post the queue delivers is the previewed text, to the character


def test_a_preview_of_invalid_input_shows_the_errors_and_no_preview(app):
    anna = login(app, "anna")
    for fields in ({"title": ""}, {"channels": "land"}, {"link": "javascript:alert(1)"}, {"feed": "bauamt"}):
        response = preview(anna, **fields)
        assert response.status_code in (403, 422), fields
        page = response.get_data(as_text=True)
        assert 'class="preview"' not in page and "javascript:alert" not in page.split("<form", 1)[0]
    no_token = anna.post("/admin/new", data={"feed": "presse", "title": "T", "preview": "1"})
    assert no_token.status_code == 400  # the preview is a POST like any other: CSRF-checked
    assert announcements(app) == []


def test_a_bluesky_channel_is_previewed_within_its_300_and_the_link_whole(tmp_path, monkeypatch, frozen):
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    bluesky = (
        '[channels.kreis]\ntype = "bluesky"\nbase_url = "https://pds.example"\nhandle = "kreis.example"\n'
        f'app_password = {{ env = "{TOKEN_VARIABLE}" }}\n'
    )
    mastodon = '[channels.stadt]\ntype = "mastodon"\nbase_url = "https://stadt.example"\n'
    mastodon += f'access_token = {{ env = "{TOKEN_VARIABLE}" }}\n'
    app = admin_app(tmp_path, monkeypatch, extra=mastodon + bluesky, feeds=FEEDS)
    anna = login(app, "anna")
    previews = shown(
        preview(anna, "/admin/new?lang=en", text="Glätte und Schnee: der Markt fällt aus. " * 12)
    )
    text, counter, cut = previews["Bluesky (kreis)"]
    assert cut and counter == "300 / 300 characters" and len(text) == 300
    assert text.rsplit("\n\n", 1)[1].startswith("http://") and "#item-" in text.rsplit("\n\n", 1)[1]
    length, limit = re.match(r"(\d+) / (\d+) characters", previews["Mastodon (stadt)"][1]).groups()
    assert limit == "500" and 490 < int(length) <= 500  # the same draft, each network's limit
