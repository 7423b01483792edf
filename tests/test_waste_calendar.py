"""Waste feeds as calendars: stable UIDs, moved pickups with a higher SEQUENCE and a notice, reminders."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import icalendar
import pytest
import time_machine
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import refresh_feed

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


def calendar(paper_day: str) -> bytes:
    """A small provider calendar; the paper pickup day is what the provider later moves."""
    events = [
        ("20270105", "Papier"),
        ("20270107", "Biotonne"),
        (paper_day, "Papier"),
        ("20270112", "Restmüll"),
    ]
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for n, (day, label) in enumerate(events):
        body += [
            "BEGIN:VEVENT",
            f"UID:ev{n}",
            "DTSTAMP:20261201T000000Z",
            f"DTSTART;VALUE=DATE:{day}",
            f"SUMMARY:{label}",
            "END:VEVENT",
        ]
    return ("\r\n".join(body + ["END:VCALENDAR"]) + "\r\n").encode()


FEED = """
[feeds.waste-cal]
source = "ics"
title = "Kalender"
every = "1h"
url = "{url}"
"""


@pytest.fixture
def moving_upstream(httpserver):
    state = {"day": "20270119"}
    httpserver.expect_request("/cal.ics").respond_with_handler(
        lambda request: __import__("werkzeug").Response(calendar(state["day"]), content_type="text/calendar")
    )
    return httpserver.url_for("/cal.ics"), state


def events(client, query=""):
    body = client.get(f"/feeds/waste-cal.ics{query}").data
    return {
        str(e["SUMMARY"]) + "@" + e["DTSTART"].dt.isoformat(): e
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
    }, body


def test_calendar_output_parses_in_two_independent_libraries_and_is_stable(make_app, moving_upstream):
    url, _ = moving_upstream
    with time_machine.travel(NOW, tick=False):
        app = make_app(FEED.format(url=url))
        refresh_feed(app, "waste-cal")
        first, body = events(app.test_client())
        restarted = make_app(FEED.format(url=url))
        refresh_feed(restarted, "waste-cal")
        second, again = events(restarted.test_client())
    response_type = app.test_client().get("/feeds/waste-cal.ics").headers["Content-Type"]
    assert response_type == "text/calendar; charset=utf-8"
    assert len(first) == 4 and body == again
    assert {k: str(v["UID"]) for k, v in first.items()} == {k: str(v["UID"]) for k, v in second.items()}
    assert first["Papier@2027-01-05"]["CATEGORIES"].cats == ["paper"]
    parsed = IcsCalendarStream.calendar_from_ics(body.decode())
    assert sorted(e.summary for e in parsed.events) == ["Biotonne", "Papier", "Papier", "Restmüll"]


def test_moved_pickup_keeps_uid_with_higher_sequence_and_says_so(make_app, moving_upstream):
    url, state = moving_upstream
    with time_machine.travel(NOW, tick=False):
        app = make_app(FEED.format(url=url))
        refresh_feed(app, "waste-cal")
        before, _ = events(app.test_client())
    state["day"] = "20270120"  # the provider moves Tue 19.1. to Wed 20.1.
    with time_machine.travel(NOW.replace(day=21), tick=False):
        result = refresh_feed(app, "waste-cal")
        after, _ = events(app.test_client())
        feed = feedparser.parse(app.test_client().get("/feeds/waste-cal.atom").data)
        refresh_feed(app, "waste-cal")  # a later identical refresh changes nothing
        stable, _ = events(app.test_client())
    old, new = before["Papier@2027-01-19"], after["Papier@2027-01-20"]
    assert "Papier@2027-01-19" not in after
    assert str(new["UID"]) == str(old["UID"]) and int(new["SEQUENCE"]) == int(old.get("SEQUENCE", 0)) + 1
    assert result.ok and result.changes.added == 2 and result.changes.removed == 1  # moved item + notice
    assert feed.entries[0].title == "Verschoben: Papier von Di 19.1. auf Mi 20.1."
    assert str(stable["Papier@2027-01-20"]["UID"]) == str(old["UID"])
    assert int(stable["Papier@2027-01-20"]["SEQUENCE"]) == 1


def test_alarm_parameter_adds_a_reminder_the_evening_before(make_app, moving_upstream):
    url, _ = moving_upstream
    with time_machine.travel(NOW, tick=False):
        app = make_app(FEED.format(url=url))
        refresh_feed(app, "waste-cal")
        client = app.test_client()
        with_alarm, _ = events(client, "?alarm=18:00")
        plain, _ = events(client)
        bad = client.get("/feeds/waste-cal.ics?alarm=25:99")
        filtered, _ = events(client, "?alarm=19:30&category=paper")
    alarms = with_alarm["Biotonne@2027-01-07"].walk("VALARM")
    assert len(alarms) == 1 and alarms[0]["TRIGGER"].to_ical() == b"-PT6H"
    assert not plain["Biotonne@2027-01-07"].walk("VALARM")
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/problem+json"
    assert set(k.split("@")[0] for k in filtered) == {"Papier"}


def test_catalogue_offers_webcal_for_waste_feeds(make_app, moving_upstream):
    url, _ = moving_upstream
    with time_machine.travel(NOW, tick=False):
        app = make_app(FEED.format(url=url))
        refresh_feed(app, "waste-cal")
        html = app.test_client().get("/").get_data(as_text=True)
    assert "webcal://127.0.0.1:8000/feeds/waste-cal.ics" in html
