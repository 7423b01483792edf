"""End to end: an upstream on 127.0.0.1 becomes valid RSS, Atom and JSON Feed with stable ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest
import time_machine

from tests.conftest import FIXTURES, refresh_feed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SCHEMA = json.loads((FIXTURES / "schemas" / "jsonfeed-v1.1.json").read_text())
CALENDAR = "ics/awb_limburg_weilburg_export.ics"


def feed_table(url: str, feed_id: str = "waste-test") -> str:
    return f"""
[feeds.{feed_id}]
source = "ics"
title = "Abfuhr Test"
every = "1h"
attribution = "AWB Test"
url = "{url}"
"""


@pytest.fixture
def upstream(httpserver, fixture_bytes):
    """The recorded calendar served with an ETag, answering 304 to a matching If-None-Match."""
    body = fixture_bytes(CALENDAR)
    httpserver.expect_request("/abfall.ics", headers={"If-None-Match": '"v1"'}).respond_with_data(status=304)
    httpserver.expect_request("/abfall.ics").respond_with_data(
        body, content_type="text/calendar; charset=utf-8", headers={"ETag": '"v1"'}
    )
    return httpserver.url_for("/abfall.ics")


@pytest.fixture
def app(make_app, upstream):
    with time_machine.travel(NOW, tick=False):
        app = make_app(feed_table(upstream))
        assert refresh_feed(app, "waste-test").ok
        yield app


@pytest.fixture
def client(app):
    with time_machine.travel(NOW, tick=False):
        yield app.test_client()


@pytest.mark.parametrize("fmt,media", [("rss", "application/rss+xml"), ("atom", "application/atom+xml")])
def test_xml_feeds_parse_cleanly_in_feedparser(client, fmt, media):
    response = client.get(f"/feeds/waste-test.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media}; charset=utf-8"
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if fmt == "atom" else "rss20")
    assert parsed.feed.language == "de"
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == [f"http://127.0.0.1:8000/feeds/waste-test.{fmt}"]
    entries = parsed.entries
    # Reminders published up to NOW only: the last pickup before 2026-11-21 is Restabfall on Thu 19.11.
    assert entries[0].title == "Morgen: Restabfall (Auf dem Acker, Dornburg)"
    assert entries[0].published_parsed[:5] == (2026, 11, 18, 17, 0)  # 18:00 CET the evening before
    assert all(e.id.startswith("urn:uuid:") and e.link and e.title for e in entries)
    assert len({e.id for e in entries}) == len(entries)
    assert "dl-de/by-2-0" in (parsed.feed.get("rights") or parsed.feed.get("copyright") or "")


def test_future_reminders_are_not_published_yet(client):
    titles = [i["date_published"] for i in client.get("/feeds/waste-test.json").get_json()["items"]]
    assert titles and max(titles) <= NOW.isoformat()


def test_json_feed_validates_against_the_1_1_schema(client):
    response = client.get("/feeds/waste-test.json")
    assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    document = response.get_json()
    jsonschema.validate(document, SCHEMA)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "http://127.0.0.1:8000/feeds/waste-test.json"
    assert document["_feedserver"]["licence"] == "dl-de/by-2-0"
    assert document["items"][0]["tags"] == ["residual"]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_conditional_requests_get_304(client, fmt):
    first = client.get(f"/feeds/waste-test.{fmt}")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and "max-age=" in first.headers["Cache-Control"]
    assert client.get(f"/feeds/waste-test.{fmt}", headers={"If-None-Match": etag}).status_code == 304
    assert client.get(f"/feeds/waste-test.{fmt}", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(f"/feeds/waste-test.{fmt}", headers={"If-None-Match": '"other"'}).status_code == 200


def test_refetch_after_restart_keeps_ids_items_and_etag(make_app, upstream, httpserver):
    with time_machine.travel(NOW, tick=False):
        first_app = make_app(feed_table(upstream))
        assert refresh_feed(first_app, "waste-test").changes.added == 42
        before = first_app.test_client().get("/feeds/waste-test.atom")
        restarted = make_app(feed_table(upstream))  # a new process on the same database
        result = refresh_feed(restarted, "waste-test")
        after = restarted.test_client().get("/feeds/waste-test.atom")
    assert result.ok and not result.changes.any
    assert result.not_modified  # the upstream's ETag was remembered across the restart
    assert before.headers["ETag"] == after.headers["ETag"]
    ids = lambda r: [e.id for e in feedparser.parse(r.data).entries]  # noqa: E731
    assert ids(before) == ids(after)


def test_identical_payload_without_validators_writes_nothing(make_app, httpserver, fixture_bytes):
    httpserver.expect_request("/plain.ics").respond_with_data(
        fixture_bytes(CALENDAR), content_type="text/calendar"
    )
    with time_machine.travel(NOW, tick=False):
        app = make_app(feed_table(httpserver.url_for("/plain.ics")))
        first = refresh_feed(app, "waste-test")
        etag = app.test_client().get("/feeds/waste-test.json").headers["ETag"]
        second = refresh_feed(make_app(feed_table(httpserver.url_for("/plain.ics"))), "waste-test")
        again = app.test_client().get("/feeds/waste-test.json").headers["ETag"]
    assert first.changes.added == 42 and not second.changes.any and not second.not_modified
    assert etag == again


def test_failing_upstream_keeps_last_good_items_and_marks_stale(make_app, httpserver, fixture_bytes):
    httpserver.expect_oneshot_request("/flaky.ics").respond_with_data(
        fixture_bytes(CALENDAR), content_type="text/calendar"
    )
    httpserver.expect_request("/flaky.ics").respond_with_data("<html>maintenance</html>", status=500)
    with time_machine.travel(NOW, tick=False):
        app = make_app(feed_table(httpserver.url_for("/flaky.ics")))
        assert refresh_feed(app, "waste-test").ok
        client = app.test_client()
        good = client.get("/feeds/waste-test.atom")
        failed = refresh_feed(app, "waste-test")
        stale = client.get("/feeds/waste-test.atom")
    assert not failed.ok and "HTTP 500" in failed.error
    assert stale.status_code == 200 and stale.data == good.data
    assert stale.headers["Feedserver-Status"].startswith("stale; since=")


def test_html_error_page_with_200_is_an_error_not_an_empty_feed(make_app, httpserver):
    httpserver.expect_request("/oops.ics").respond_with_data(
        "<html>Not here</html>", content_type="text/html"
    )
    with time_machine.travel(NOW, tick=False):
        app = make_app(feed_table(httpserver.url_for("/oops.ics")))
        result = refresh_feed(app, "waste-test")
        response = app.test_client().get("/feeds/waste-test.rss")
    assert not result.ok and "content type" in result.error
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_category_filter_narrows_every_format(client, fmt):
    response = client.get(f"/feeds/waste-test.{fmt}?category=organic,papier")
    assert response.status_code == 200
    if fmt == "json":
        tags = [tag for item in response.get_json()["items"] for tag in item["tags"]]
    else:
        tags = [t.term for e in feedparser.parse(response.data).entries for t in e.tags]
    assert tags and set(tags) == {"organic", "paper"}


def test_unknown_filter_value_gets_400_listing_valid_ones_without_echo(client):
    response = client.get("/feeds/waste-test.rss?category=<script>alert(1)</script>")
    assert response.status_code == 400
    problem = response.get_json()
    assert "organic" in problem["valid"] and "christmas-tree" in problem["valid"]
    assert b"<script>" not in response.data


@pytest.mark.parametrize("path", ["/feeds/nope.rss", "/feeds/waste-test.xml", "/nothing-here"])
def test_unknown_resources_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "nope" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "accept,lang,expected",
    [
        ("de-DE,de;q=0.9", None, "Abonnieren"),
        ("en-GB,en;q=0.8", None, "Subscribe"),
        ("de", "en", "Subscribe"),
    ],
)
def test_catalogue_speaks_german_and_english_with_autodiscovery(client, accept, lang, expected):
    response = client.get("/" + (f"?lang={lang}" if lang else ""), headers={"Accept-Language": accept})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and expected in html
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert "http://127.0.0.1:8000/feeds/waste-test.rss" in html
    assert "Set-Cookie" not in response.headers


def test_feed_page_has_an_anchor_for_every_item(client):
    atom = feedparser.parse(client.get("/feeds/waste-test.atom").data)
    page = client.get("/feeds/waste-test").get_data(as_text=True)
    for entry in atom.entries:
        assert f'id="item-{entry.link.rsplit("#item-", 1)[1]}"' in page


def test_opml_lists_every_feed(client):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(client.get("/opml").data)
    outlines = root.findall("./body/outline")
    assert [o.get("xmlUrl") for o in outlines] == ["http://127.0.0.1:8000/feeds/waste-test.rss"]


def test_reminder_becomes_visible_when_its_time_comes(app):
    before = datetime(2026, 11, 24, 16, 59, tzinfo=UTC)  # Restabfall on Thu 26.11. -> reminder Wed 25.11.?
    with time_machine.travel(before, tick=False):
        first = app.test_client().get("/feeds/waste-test.json").get_json()["items"][0]["title"]
    with time_machine.travel(datetime(2026, 12, 2, 17, 1, tzinfo=UTC), tick=False):
        later = app.test_client().get("/feeds/waste-test.json").get_json()["items"]
    assert later[0]["date_published"] <= "2026-12-02T17:01:00+00:00"
    assert later[0]["title"] != first or later[0]["date_published"] > "2026-11-24"


def test_bundled_default_config_is_valid():
    from feedserver.config import load

    settings = load(Path(__file__).parent.parent / "config.toml")
    assert settings.demo.enabled  # `make run` is the demo: a feed of every kind, offline (tests/test_demo.py)
    assert {feed.kind for feed in settings.feeds.values()} == {
        "waste",
        "air",
        "transit",
        "alerts",
        "announcements",
    }
    fetched = [feed for feed in settings.feeds.values() if feed.source != "announcements"]
    for feed in fetched:  # every upstream is the bundled demo upstream's replay
        urls = [value for name, value in feed.options.items() if name.endswith("url") and value]
        assert urls and all(url.startswith("demo:/") for url in urls), feed.id
