"""Announcements choose their channels in the desk: the form and the API offer the channels of the
announcement's feed, refuse any other, keep the choice with the version through the four-eyes approval, and
delivery posts only where the approved version says; a crisis goes to every channel whatever was ticked."""

from __future__ import annotations

import pytest

from tests.ap_support import FAST_RETRY
from tests.channel_fixtures import TOKEN_VARIABLE
from tests.desk_support import (
    ANNOUNCEMENT_FEEDS,
    API,
    admin_app,
    approve,
    bearer,
    create,
    csrf_of,
    draft,
    edit,
    login,
    new_announcement,
    staff,
)
from tests.mastodon_server import MastodonServer
from tests.push_support import live_app, queue_empty, refresh, wait_for

# presse posts to two accounts; bauamt to none; a third account (land) is configured for no announcements feed
PRESSE = 'office = "presse"\n'
FEEDS = ANNOUNCEMENT_FEEDS.replace(PRESSE, PRESSE + 'channels = ["stadt", "kreis"]\n')


def channels(urls: dict[str, str]) -> str:
    """[channels.NAME] tables of Mastodon accounts at these base URLs."""
    return "".join(
        f'[channels.{name}]\ntype = "mastodon"\nbase_url = "{url}"\n'
        f'access_token = {{ env = "{TOKEN_VARIABLE}" }}\n'
        for name, url in urls.items()
    )


OFFLINE = channels(
    {"stadt": "https://stadt.example", "kreis": "https://kreis.example", "land": "https://l.example"}
)


@pytest.fixture
def servers(monkeypatch):
    """Two Mastodon accounts on local servers: stadt and kreis."""
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    found = {"stadt": MastodonServer(), "kreis": MastodonServer(username="kreis")}
    yield found
    for server in found.values():
        server.stop()


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    return admin_app(tmp_path, monkeypatch, extra=OFFLINE, feeds=FEEDS)


@pytest.fixture
def api_app(make_app, monkeypatch, frozen):
    """The same feeds and channels for the desk API (no /admin), with the desk's staff."""
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    app = make_app(FEEDS, OFFLINE)
    assert refresh(app, "presse").ok
    return app


def texts(server: MastodonServer) -> list[str]:
    return [status.text.split("\n\n")[0] for status in server.statuses.values()]


# --- the desk API ---------------------------------------------------------------------------------------
def test_the_api_stores_the_choice_with_the_version_and_refuses_channels_the_feed_does_not_post_to(api_app):
    app = api_app
    client, tokens = app.test_client(), staff(app)
    created = create(client, tokens["paul"], channels=["stadt"])
    assert created.status_code == 201
    assert created.get_json()["versions"][0]["channels"] == ["stadt"]
    everywhere = create(client, tokens["paul"]).get_json()
    assert everywhere["versions"][0]["channels"] is None  # no choice: every channel of the feed

    for refused in (["land"], ["unknown-account"], ["stadt", "land"]):  # configured elsewhere, or nowhere
        response = create(client, tokens["paul"], channels=refused)
        assert response.status_code == 422
        body = response.get_json()
        assert list(body["errors"]) == ["channels"] and "land" not in str(body) and "unknown" not in str(body)
    carl = create(client, tokens["carl"], feed="bauamt", channels=["stadt"])  # bauamt posts nowhere
    assert carl.status_code == 422 and list(carl.get_json()["errors"]) == ["channels"]
    for malformed in ("stadt", [1], ["<script>"], ["a" * 80], [f"c{n}" for n in range(51)], {"x": 1}):
        response = create(client, tokens["paul"], channels=malformed)
        assert response.status_code == 422 and list(response.get_json()["errors"]) == ["channels"]
        assert "<script>" not in response.get_data(as_text=True)


def test_an_edit_of_the_choice_alone_is_a_new_version_needing_approval(api_app):
    app = api_app
    client, tokens = app.test_client(), staff(app)
    announcement = new_announcement(client, tokens["paul"], channels=["stadt", "kreis"])
    assert approve(client, tokens["anna"], announcement, 1).status_code == 200
    assert edit(client, tokens["paul"], announcement, channels=["kreis"]) == 2
    found = client.get(f"{API}/announcements/{announcement}", headers=bearer(tokens["paul"])).get_json()
    assert [v["channels"] for v in found["versions"]] == [["kreis", "stadt"], ["kreis"]]
    assert (found["status"], found["published_version"]) == ("pending", 1)
    unchanged = client.patch(
        f"{API}/announcements/{announcement}", json={"channels": ["kreis"]}, headers=bearer(tokens["paul"])
    )
    refused = client.patch(
        f"{API}/announcements/{announcement}", json={"channels": ["land"]}, headers=bearer(tokens["paul"])
    )
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["channels"]  # an edit too
    assert unchanged.get_json()["current_version"] == 2  # the same choice again adds no version


def test_the_openapi_document_describes_the_choice(api_app):
    app = api_app
    document = app.test_client().get("/openapi.json").get_json()
    for schema in ("AnnouncementCreate", "AnnouncementUpdate", "VersionOut"):
        field = document["components"]["schemas"][schema]["properties"]["channels"]
        assert field["type"] == ["array", "null"] and field["items"]["type"] == "string"


# --- /admin ---------------------------------------------------------------------------------------------
def test_the_form_offers_the_feeds_channels_says_a_crisis_goes_everywhere_and_keeps_the_choice(app):
    anna = login(app, "anna")
    form = anna.get("/admin/new?lang=en").get_data(as_text=True)
    assert 'value="stadt" checked' in form and 'value="kreis" checked' in form  # all ticked at first
    assert 'value="kreis"' in form and 'value="land"' not in form  # land: no feed of anna's posts there
    assert "A crisis announcement goes to every channel" in form
    assert "Kanäle" in anna.get("/admin/new").get_data(as_text=True)

    created = draft(anna, channels_offered="1", channels="kreis")
    assert created.status_code == 302
    detail = anna.get(created.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "<dt>Channels</dt><dd>kreis</dd>" in detail
    edit_form = anna.get(created.headers["Location"] + "/edit").get_data(as_text=True)
    assert 'value="kreis" checked' in edit_form and 'value="stadt" checked' not in edit_form

    nothing = draft(anna, channels_offered="1")  # every box unticked: posted nowhere but the feeds
    assert nothing.status_code == 302
    assert "<dt>Kanäle</dt><dd>keine</dd>" in anna.get(nothing.headers["Location"]).get_data(as_text=True)


def test_the_form_refuses_a_channel_the_feed_does_not_post_to(app):
    anna = login(app, "anna")
    for forged in ("land", "nirgends", "<b>x</b>"):
        refused = draft(anna, channels_offered="1", channels=forged)
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert 'id="channels-error"' in page and "<b>x</b>" not in page
    token = csrf_of(anna.get("/admin/new"))
    forged = anna.post("/admin/new", data={"csrf_token": token, "feed": "presse", "title": "T",
                                           "channels_offered": "1", "channels": ["stadt"] * 600})  # fmt: skip
    assert forged.status_code == 422  # more boxes than a form can have: refused, not truncated silently


# --- delivery -------------------------------------------------------------------------------------------
def test_delivery_posts_only_where_the_approved_version_says_and_a_crisis_everywhere(tmp_path, servers):
    with live_app(tmp_path, FEEDS, FAST_RETRY + channels({n: s.url for n, s in servers.items()})) as app:
        for feed_id in ("presse", "bauamt"):
            assert refresh(app, feed_id).ok
        client, tokens = app.test_client(), staff(app)
        stadt, kreis = servers["stadt"], servers["kreis"]
        announcement = new_announcement(client, tokens["paul"], title="Nur Stadt", channels=["stadt"])
        wait_for(lambda: queue_empty(app))
        assert stadt.statuses == {} and kreis.statuses == {}  # not approved: nowhere
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        wait_for(lambda: texts(stadt) == ["Nur Stadt"])
        wait_for(lambda: queue_empty(app))
        assert kreis.statuses == {}

        version = edit(client, tokens["paul"], announcement, channels=["kreis"])
        wait_for(lambda: queue_empty(app))
        assert texts(stadt) == ["Nur Stadt"] and kreis.statuses == {}  # the pending choice changes nothing
        assert approve(client, tokens["bernd"], announcement, version).status_code == 200
        wait_for(lambda: texts(kreis) == ["Nur Stadt"] and stadt.statuses == {})  # moved: deleted, posted

        crisis = {"title": "Sturmwarnung", "crisis": True, "targets": ["presse"], "channels": []}
        warning = new_announcement(client, tokens["paul"], **crisis)
        assert approve(client, tokens["anna"], warning, 1).status_code == 200
        wait_for(lambda: "Sturmwarnung" in texts(stadt) and "Sturmwarnung" in texts(kreis))


def test_every_channel_ticked_means_every_channel_and_an_unchanged_edit_form_adds_no_version(app):
    anna = login(app, "anna")
    ticked = draft(anna, channels_offered="1", channels=["stadt", "kreis"]).headers["Location"]
    assert "every channel of the feed: stadt, kreis" in anna.get(f"{ticked}?lang=en").get_data(as_text=True)
    detail = draft(anna).headers["Location"]  # no choice at all, as the API's default
    form = anna.get(f"{detail}/edit")
    page = form.get_data(as_text=True)
    assert 'value="stadt" checked' in page and 'value="kreis" checked' in page
    unchanged = {
        "csrf_token": csrf_of(form),
        "title": "Wochenmarkt fällt aus",
        "text": "Wegen Glätte.",
        "channels_offered": "1",
        "channels": ["kreis", "stadt"],
    }
    assert anna.post(f"{detail}/edit", data=unchanged).status_code == 302
    assert "Version 2" not in anna.get(f"{detail}?lang=en").get_data(as_text=True)
