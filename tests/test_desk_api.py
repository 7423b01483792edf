"""The desk API end to end: tokens from the CLI, four-eyes approval, and what the feeds show afterwards."""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
import icalendar
import pytest

from tests.conftest import refresh_feed
from tests.desk_support import (
    API,
    NOW,
    approve,
    bearer,
    cli,
    create,
    desk_app,
    desk_feeds,
    serve_calendar,
    staff,
)

LATER = NOW + timedelta(hours=2)
EVENT_START = NOW + timedelta(days=2)


@pytest.fixture
def app(make_app, httpserver, fixture_bytes, frozen):
    waste_url = serve_calendar(httpserver, fixture_bytes)
    return desk_app(make_app, "waste-test", "presse", "bauamt", waste_url=waste_url)


def feed_titles(client, feed_id, fmt="rss"):
    response = client.get(f"/feeds/{feed_id}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        return [item["title"] for item in response.get_json()["items"]]
    if fmt == "ics":
        calendar = icalendar.Calendar.from_ical(response.data)
        return [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


def test_author_drafts_self_approval_is_refused_another_approver_approves_item_appears_at_publish_time(
    client, tokens, frozen
):
    draft = create(
        client,
        tokens["anna"],
        publish_at=LATER.isoformat(),
        starts=EVENT_START.isoformat(),
        ends=(EVENT_START + timedelta(hours=5)).isoformat(),
        link="https://example.org/stadtfest",
    )
    assert draft.status_code == 201
    body = draft.get_json()
    assert draft.headers["Location"].endswith(f"{API}/announcements/{body['id']}")
    assert (body["status"], body["current_version"], body["published_version"]) == ("pending", 1, None)

    own = approve(client, tokens["anna"], body["id"], 1)
    assert own.status_code == 403
    assert own.mimetype == "application/problem+json"
    assert "someone other than its author" in own.get_json()["detail"]

    approved = approve(client, tokens["bernd"], body["id"], 1)
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "approved"
    assert approved.get_json()["versions"][0]["approved_by"] == "bernd"

    for fmt in ("rss", "atom", "json", "ics"):
        assert "Stadtfest am Markt" not in feed_titles(client, "presse", fmt), fmt  # not before publish_at

    frozen.move_to(LATER + timedelta(minutes=1))
    for fmt in ("rss", "atom", "json", "ics"):
        assert feed_titles(client, "presse", fmt) == ["Stadtfest am Markt"], fmt
    entry = feedparser.parse(client.get("/feeds/presse.atom").data).entries[0]
    assert entry.link == "https://example.org/stadtfest"
    assert entry.published_parsed[:5] == LATER.timetuple()[:5]
    [event] = icalendar.Calendar.from_ical(client.get("/feeds/presse.ics").data).walk("VEVENT")
    assert event.decoded("DTSTART") == EVENT_START
    assert event.decoded("DTEND") == EVENT_START + timedelta(hours=5)


def test_an_author_without_the_approver_role_cannot_approve_at_all(client, tokens):
    created = create(client, tokens["anna"]).get_json()
    refused = approve(client, tokens["paul"], created["id"], 1)
    assert refused.status_code == 403
    assert "approver" in refused.get_json()["detail"]


def test_an_edit_after_approval_is_pending_again_and_the_last_approved_version_stays_published(
    client, tokens
):
    created = create(client, tokens["paul"]).get_json()
    assert approve(client, tokens["anna"], created["id"], 1).status_code == 200
    first_id = feedparser.parse(client.get("/feeds/presse.rss").data).entries[0].id

    edited = client.patch(
        f"{API}/announcements/{created['id']}",
        json={"title": "Stadtfest abgesagt"},
        headers=bearer(tokens["paul"]),
    )
    assert edited.status_code == 200
    body = edited.get_json()
    assert (body["status"], body["current_version"], body["published_version"]) == ("pending", 2, 1)
    assert body["versions"][0]["title"] == "Stadtfest am Markt"  # version 1 is unchanged
    assert feed_titles(client, "presse") == ["Stadtfest am Markt"]  # readers never see unapproved text

    stale = approve(client, tokens["anna"], created["id"], 1)
    assert stale.status_code == 409
    assert stale.get_json()["current_version"] == 2
    assert approve(client, tokens["anna"], created["id"], 2).status_code == 200
    entries = feedparser.parse(client.get("/feeds/presse.rss").data).entries
    assert [(e.title, e.id) for e in entries] == [("Stadtfest abgesagt", first_id)]  # same item, new text
    assert approve(client, tokens["bernd"], created["id"], 2).status_code == 409  # already approved


def test_put_replaces_the_content_and_an_identical_edit_adds_no_version(client, tokens):
    created = create(client, tokens["paul"], link="https://example.org/a").get_json()
    url = f"{API}/announcements/{created['id']}"
    replaced = client.put(url, json={"title": "Neu"}, headers=bearer(tokens["paul"])).get_json()
    assert replaced["current_version"] == 2
    assert replaced["versions"][1]["link"] is None and replaced["versions"][1]["text"] == ""
    assert replaced["versions"][1]["publish_at"] == replaced["versions"][0]["publish_at"]
    same = client.patch(url, json={"title": "Neu"}, headers=bearer(tokens["paul"])).get_json()
    assert same["current_version"] == 2


def test_a_crisis_appears_on_top_of_a_targeted_waste_feed_within_one_request_and_leaves_on_withdrawal(
    client, tokens
):
    before = feed_titles(client, "waste-test", "json")  # cached now: the approval must invalidate it
    assert before and "Hochwasser" not in before[0]
    created = create(
        client, tokens["paul"], title="Hochwasser: Altstadt meiden", crisis=True, targets=["waste-test"]
    )
    assert feed_titles(client, "waste-test", "json") == before  # a pending crisis shows nowhere
    assert approve(client, tokens["anna"], created.get_json()["id"], 1).status_code == 200

    for fmt in ("json", "rss", "atom"):
        titles = feed_titles(client, "waste-test", fmt)
        assert titles[0] == "Hochwasser: Altstadt meiden", fmt
        assert titles[1:] == before, fmt
    assert "Hochwasser: Altstadt meiden" in feed_titles(client, "waste-test", "ics")
    filtered = client.get("/feeds/waste-test.json?category=paper").get_json()["items"]
    assert filtered[0]["title"] == "Hochwasser: Altstadt meiden"  # filters never hide a crisis
    assert "Hochwasser: Altstadt meiden" not in feed_titles(client, "bauamt")  # not targeted

    withdrawn = client.post(
        f"{API}/announcements/{created.get_json()['id']}/withdraw", headers=bearer(tokens["paul"])
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert feed_titles(client, "waste-test", "json") == before
    assert feed_titles(client, "presse") == []


def test_a_crisis_for_every_feed_reaches_all_of_them_and_leaves_at_expiry(client, tokens, frozen):
    expires = NOW + timedelta(hours=1)
    body = {"title": "Warnung: Stromausfall", "crisis": True, "targets": "*", "expires": expires.isoformat()}
    created = create(client, tokens["anna"], **body).get_json()
    approve(client, tokens["bernd"], created["id"], 1)
    for feed_id in ("presse", "bauamt", "waste-test"):
        assert feed_titles(client, feed_id)[0] == "Warnung: Stromausfall", feed_id
    frozen.move_to(expires + timedelta(seconds=1))
    for feed_id in ("presse", "bauamt", "waste-test"):
        assert "Warnung: Stromausfall" not in feed_titles(client, feed_id), feed_id


def test_staff_of_another_office_are_refused(client, tokens):
    created = create(client, tokens["anna"]).get_json()
    url = f"{API}/announcements/{created['id']}"
    assert create(client, tokens["carl"]).status_code == 403
    assert client.get(url, headers=bearer(tokens["carl"])).status_code == 403
    assert client.patch(url, json={"title": "x"}, headers=bearer(tokens["carl"])).status_code == 403
    assert approve(client, tokens["dora"], created["id"], 1).status_code == 403
    assert client.post(f"{url}/withdraw", headers=bearer(tokens["carl"])).status_code == 403
    assert client.get(f"{API}/announcements", headers=bearer(tokens["carl"])).get_json() == []
    assert create(client, tokens["carl"], feed="bauamt").status_code == 201


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer fsd_" + "x" * 43}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}],
    ids=["missing", "unknown", "wrong-scheme"],
)
def test_requests_without_a_valid_token_get_401(client, tokens, headers):
    response = client.get(f"{API}/announcements", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_revoked_token_stops_working_and_only_its_hash_is_stored(app, client, tokens):
    assert client.get(f"{API}/me", headers=bearer(tokens["paul"])).get_json() == {
        "name": "paul",
        "role": "author",
        "offices": ["presse"],
    }
    database = (app.extensions["feedserver"].settings.storage_url).removeprefix("sqlite:///")
    with open(database, "rb") as handle:
        assert tokens["paul"].encode() not in handle.read()
    listing = cli(app, "tokens", "list", "paul").stdout
    token_id = listing.split()[0]
    cli(app, "tokens", "revoke", token_id)
    assert client.get(f"{API}/me", headers=bearer(tokens["paul"])).status_code == 401


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"link": "javascript:alert(1)//SECRET-INPUT"}, "link"),
        ({"title": ""}, "title"),
        ({"starts": "2026-11-22T10:00:00"}, "starts"),  # no offset: ambiguous
        ({"expires": "2026-11-20T10:00:00+00:00"}, "expires"),  # before publication
        ({"targets": ["waste-test"]}, "targets"),  # targets without crisis
        ({"crisis": True}, "targets"),  # crisis without targets
        ({"crisis": True, "targets": ["nowhere"]}, "targets"),
        ({"feed": "waste-test"}, "feed"),  # not an announcements feed
        ({"<img src=x>SECRET-INPUT": 1}, "_unknown"),
    ],
)
def test_invalid_fields_get_422_with_field_errors_that_never_echo_the_input(client, tokens, fields, field):
    response = create(client, tokens["anna"], **fields)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert b"SECRET-INPUT" not in response.data and b"javascript" not in response.data
    assert b"nowhere" not in response.data


def test_a_body_that_is_not_json_gets_400_and_an_unknown_id_404(client, tokens):
    response = client.post(
        f"{API}/announcements", data="title=x", content_type="text/plain", headers=bearer(tokens["anna"])
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    for announcement_id in (999, 2**40):
        missing = client.get(f"{API}/announcements/{announcement_id}", headers=bearer(tokens["anna"]))
        assert missing.status_code == 404
    assert approve(client, tokens["anna"], 999, 1).status_code == 404


def test_withdrawal_keeps_the_history_and_every_action_is_in_the_audit_log(client, tokens):
    created = create(client, tokens["paul"]).get_json()
    url = f"{API}/announcements/{created['id']}"
    approve(client, tokens["anna"], created["id"], 1)
    client.patch(url, json={"text": "Mit Feuerwerk."}, headers=bearer(tokens["paul"]))
    approve(client, tokens["bernd"], created["id"], 2)
    client.post(f"{url}/withdraw", headers=bearer(tokens["anna"]))

    kept = client.get(url, headers=bearer(tokens["paul"])).get_json()
    assert kept["status"] == "withdrawn" and kept["withdrawn_by"] == "anna"
    assert [v["version"] for v in kept["versions"]] == [1, 2]
    assert client.patch(url, json={"title": "Zu spät"}, headers=bearer(tokens["paul"])).status_code == 409
    assert approve(client, tokens["anna"], created["id"], 2).status_code == 409

    log = client.get(f"{url}/audit", headers=bearer(tokens["paul"])).get_json()
    assert [(e["actor"], e["action"], e["version"]) for e in reversed(log)] == [
        ("paul", "create", 1),
        ("anna", "approve", 1),
        ("paul", "edit", 2),
        ("bernd", "approve", 2),
        ("anna", "withdraw", 2),
    ]
    assert all(e["at"] == NOW.isoformat() for e in log)
    assert client.get(f"{API}/audit", headers=bearer(tokens["carl"])).get_json() == []  # other office
    assert len(client.get(f"{API}/audit", headers=bearer(tokens["bernd"])).get_json()) == 5


def test_the_list_filters_by_status_and_feed(client, tokens):
    first = create(client, tokens["paul"]).get_json()
    create(client, tokens["paul"], title="Zweite Meldung")
    approve(client, tokens["anna"], first["id"], 1)
    listed = client.get(f"{API}/announcements?status=pending", headers=bearer(tokens["anna"])).get_json()
    assert [a["versions"][-1]["title"] for a in listed] == ["Zweite Meldung"]
    assert client.get(f"{API}/announcements?feed=bauamt", headers=bearer(tokens["anna"])).get_json() == []
    bad = client.get(f"{API}/announcements?status=<b>nope</b>", headers=bearer(tokens["anna"]))
    assert bad.status_code == 422 and b"nope" not in bad.data


def test_the_api_never_sets_a_cookie(client, tokens):
    created = create(client, tokens["paul"])
    responses = [
        created,
        client.get(f"{API}/announcements", headers=bearer(tokens["paul"])),
        approve(client, tokens["anna"], created.get_json()["id"], 1),
        client.get(f"{API}/announcements"),
    ]
    assert all("Set-Cookie" not in r.headers for r in responses)


def test_ids_are_stable_across_app_restarts(make_app, httpserver, fixture_bytes, frozen):
    feeds = desk_feeds(serve_calendar(httpserver, fixture_bytes))
    first_app = make_app(feeds)
    tokens = staff(first_app)
    client = first_app.test_client()
    created = create(client, tokens["paul"]).get_json()
    approve(client, tokens["anna"], created["id"], 1)
    item = json.loads(client.get("/feeds/presse.json").data)["items"][0]

    restarted = make_app(feeds)
    assert refresh_feed(restarted, "presse").ok
    again = restarted.test_client()
    assert json.loads(again.get("/feeds/presse.json").data)["items"][0]["id"] == item["id"]
    fetched = again.get(f"{API}/announcements/{created['id']}", headers=bearer(tokens["paul"]))
    assert fetched.status_code == 200 and fetched.get_json()["versions"][0]["title"] == "Stadtfest am Markt"
