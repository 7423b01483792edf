"""The `announcements` source: desk tables -> Items via the one pipeline; scheduled and expiring output."""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
import icalendar
import pytest

from feedserver.config import from_mapping
from feedserver.errors import ConfigError, ParseError
from feedserver.fetch import Payload
from feedserver.items import FeedInfo
from feedserver.pipeline import normalize
from feedserver.registry import load_source
from tests.conftest import refresh_feed
from tests.desk_support import NOW, desk_app, publish, serve_calendar

source_module = load_source("announcements")


@pytest.fixture
def app(make_app, httpserver, fixture_bytes, frozen):
    return desk_app(make_app, "waste-test", "presse", waste_url=serve_calendar(httpserver, fixture_bytes))


def titles(client, fmt="rss", feed_id="presse"):
    body = client.get(f"/feeds/{feed_id}.{fmt}").data
    if fmt == "ics":
        return [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    if fmt == "json":
        return [item["title"] for item in json.loads(body)["items"]]
    return [entry.title for entry in feedparser.parse(body).entries]


def record(**fields) -> dict:
    return {
        "announcement": 4,
        "version": 2,
        "title": "Baustelle Hauptstraße",
        "text": "Vollsperrung.",
        "link": "https://example.org/bau",
        "starts": "2026-11-23T07:00:00+00:00",
        "ends": "2026-11-23T16:00:00+00:00",
        "publish_at": NOW.isoformat(),
        "expires": "2026-11-24T00:00:00+00:00",
        "approved_at": NOW.isoformat(),
        "crisis": False,
    } | fields


def payload(*records: dict) -> Payload:
    return Payload(body=json.dumps(list(records)).encode(), url="desk:presse", fetched_at=NOW)


def test_the_source_follows_the_contract_and_needs_an_office():
    assert source_module.KIND == "announcements" and source_module.TITLE
    assert source_module.OPTIONS().load({"office": "presse"}) == {"office": "presse"}
    table = {"source": "announcements", "title": "Presse", "licence": "cc0-1.0"}
    with pytest.raises(ConfigError) as missing:
        from_mapping({"feeds": {"presse": table}})
    assert "feeds.presse.office" in str(missing.value)


def test_parse_is_pure_and_item_ids_depend_only_on_feed_and_announcement():
    source = source_module.Source(FeedInfo(id="presse"), office="presse")
    [item] = source.parse(payload(record()))
    assert (item.title, item.summary, item.url) == (
        "Baustelle Hauptstraße",
        "Vollsperrung.",
        "https://example.org/bau",
    )
    assert item.published == NOW and item.starts.isoformat() == "2026-11-23T07:00:00+00:00"
    assert item.data["version"] == 2 and item.data["sequence"] == 1
    assert item.data["expires"] == "2026-11-24T00:00:00+00:00"
    [edited] = source.parse(payload(record(version=3, title="Baustelle verschoben")))
    assert edited.id == item.id  # a new version replaces the item, it is not a second one
    other_feed = source_module.Source(FeedInfo(id="bauamt"), office="bauamt").parse(payload(record()))
    assert other_feed[0].id != item.id


@pytest.mark.parametrize("body", [b"not json", b"{}", json.dumps([{"title": "no ids"}]).encode()])
def test_an_unexpected_payload_is_a_parse_error_not_an_empty_feed(body):
    source = source_module.Source(FeedInfo(id="presse"), office="presse")
    with pytest.raises(ParseError):
        source.parse(Payload(body=body, url="desk:presse"))


def test_staff_text_keeps_its_markup_like_characters_but_not_forbidden_ones_or_unsafe_links():
    source = source_module.Source(FeedInfo(id="presse"), office="presse")
    dirty = record(title="<b>Achtung</b>\x07 Glätte", text="Streu\x00dienst &lt;", link="javascript:alert(1)")
    [item] = normalize(source.parse(payload(dirty)), reduce_markup=not source.text_is_plain)
    assert (item.title, item.summary, item.url) == ("<b>Achtung</b> Glätte", "Streudienst &lt;", None)


def test_scheduled_publishing_needs_no_refresh_the_rendition_expires_at_publish_time(
    app, client, tokens, frozen
):
    publish_at = NOW + timedelta(minutes=30)
    publish(client, tokens, title="Stadtfest", publish_at=publish_at.isoformat())
    assert titles(client) == []
    store = app.extensions["feedserver"].store
    assert store.rendition("presse", "rss").valid_until == publish_at
    attempts = store.feed_state("presse").last_attempt

    frozen.move_to(publish_at - timedelta(seconds=1))
    assert titles(client, "json") == []
    frozen.move_to(publish_at)
    for fmt in ("rss", "atom", "json"):
        assert titles(client, fmt) == ["Stadtfest"], fmt
    assert store.feed_state("presse").last_attempt == attempts  # re-rendered from the store, not re-fetched


def test_an_expired_announcement_leaves_every_view_at_its_expiry(app, client, tokens, frozen):
    expires = NOW + timedelta(hours=1)
    starts = NOW + timedelta(minutes=20)
    publish(client, tokens, title="Stadtfest", expires=expires.isoformat(), starts=starts.isoformat())
    for fmt in ("rss", "atom", "json", "ics"):
        assert titles(client, fmt) == ["Stadtfest"], fmt
    store = app.extensions["feedserver"].store
    assert store.rendition("presse", "atom").valid_until == expires

    frozen.move_to(expires)
    for fmt in ("rss", "atom", "json", "ics"):
        assert titles(client, fmt) == [], fmt
    assert refresh_feed(app, "presse").ok
    assert store.current_items("presse") == []  # and the next refresh takes it out of the store


def test_only_announcements_with_a_start_are_calendar_events(client, tokens):
    publish(client, tokens, title="Ohne Termin")
    publish(client, tokens, title="Mit Termin", starts=(NOW + timedelta(days=1)).isoformat())
    assert sorted(titles(client, "rss")) == ["Mit Termin", "Ohne Termin"]
    assert titles(client, "ics") == ["Mit Termin"]


def test_a_crisis_without_a_start_is_a_calendar_event_from_publication_to_expiry(client, tokens):
    expires = NOW + timedelta(hours=6)
    body = {
        "title": "Sturmwarnung",
        "crisis": True,
        "targets": ["waste-test"],
        "expires": expires.isoformat(),
    }
    publish(client, tokens, **body)
    calendar = icalendar.Calendar.from_ical(client.get("/feeds/waste-test.ics").data)
    [event] = [e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]) == "Sturmwarnung"]
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (NOW, expires)
    assert str(event["CATEGORIES"].cats[0]) == "crisis"
