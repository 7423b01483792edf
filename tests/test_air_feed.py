"""Air quality end to end: UBA readings polled over HTTP become threshold items in every format, once each."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import feedparser
import jsonschema
import pytest
import time_machine
from werkzeug import Response

from tests.conftest import FIXTURES, refresh_feed

STATIONS = "uba_air/uba_v2_stations_2024_en.json"
CET = timedelta(hours=1)
START = datetime(2024, 7, 1, 6, 0, tzinfo=UTC)  # first hour of the scripted day (07:00 CET)
FORMATS = ("rss", "atom", "json")
JSONFEED_SCHEMA = json.loads((FIXTURES / "schemas" / "jsonfeed-v1.1.json").read_text())


class Upstream:
    """A UBA /measures/json that serves the hours scripted so far, whatever window the client asks for."""

    def __init__(self):
        self.ozone: dict[datetime, float] = {}
        self.no2: dict[datetime, float] = {}

    def add(self, values: list[float], no2: float = 30.0) -> datetime:
        """Append hourly ozone values; returns the end of the last hour (a good moment to poll)."""
        start = max(self.ozone, default=START - timedelta(hours=1)) + timedelta(hours=1)
        for offset, value in enumerate(values):
            self.ozone[start + timedelta(hours=offset)] = value
            self.no2[start + timedelta(hours=offset)] = no2
        return start + timedelta(hours=len(values)) + timedelta(minutes=20)

    def handle(self, request) -> Response:
        component = request.args["component"]
        values = self.ozone if component == "3" else self.no2
        rows = {
            _uba(start): [int(component), 2, value, _uba(start + timedelta(hours=1)), 1]
            for start, value in values.items()
        }
        body = {"request": dict(request.args), "indices": {}, "data": {"145": rows} if rows else []}
        return Response(json.dumps(body), content_type="application/json")


def _uba(moment: datetime) -> str:
    local = moment + CET  # UBA: CET all year, hour 24 instead of 00 of the next day
    if local.hour == 0:
        return f"{(local - timedelta(days=1)).date()} 24:00:00"
    return f"{local:%Y-%m-%d %H:%M:%S}"


@pytest.fixture
def upstream(httpserver, fixture_bytes):
    scripted = Upstream()
    httpserver.expect_request("/stations/json").respond_with_data(
        fixture_bytes(STATIONS), content_type="application/json"
    )
    httpserver.expect_request("/measures/json").respond_with_handler(scripted.handle)
    return scripted


@pytest.fixture
def build(make_app, httpserver):
    table = f"""
[feeds.air-neukoelln]
source = "uba_air"
title = "Luft Berlin Neukölln"
every = "1h"
station = "DEBE034"
components = ["o3", "no2"]
base_url = "{httpserver.url_for("/")}"
"""
    return lambda: make_app(table)


def poll(app, at: datetime):
    with time_machine.travel(at, tick=False):
        result = refresh_feed(app, "air-neukoelln")
    assert result.ok, result.error
    return result


def get(app, at: datetime, path: str):
    with time_machine.travel(at, tick=False):
        return app.test_client().get(path)


def threshold_entries(app, at: datetime, query: str = "") -> list[tuple[str, str]]:
    """(id, title) of the JSON Feed's threshold items, oldest first."""
    body = get(app, at, f"/feeds/air-neukoelln.json{query}").get_json()
    items = [i for i in body["items"] if i["_feedserver"]["kind"] == "threshold"]
    return [(i["id"], i["title"]) for i in reversed(items)]


def entry_titles(fmt: str, body: bytes) -> list[str]:
    """Entry titles as a client reads them: feedparser for XML, the JSON Feed 1.1 schema for JSON."""
    if fmt == "json":
        document = json.loads(body)
        jsonschema.validate(document, JSONFEED_SCHEMA)
        return [item["title"] for item in document["items"]]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.title for entry in parsed.entries]


def test_crossing_180_then_240_then_below_gives_info_alert_all_clear_once(build, upstream):
    app = build()
    poll(app, upstream.add([120, 150, 170]))
    poll(app, upstream.add([185, 195]))  # info
    poll(app, upstream.add([200, 210]))  # still above info: nothing new
    poll(app, upstream.add([245, 250]))  # alert
    poll(app, upstream.add([230]))  # between the thresholds: nothing new
    at = upstream.add([175, 160])  # all clear
    poll(app, at)
    poll(app, at)  # the same data again
    entries = threshold_entries(app, at)
    assert [title.split(": ", 1)[1] for _, title in entries] == [
        "Informationsschwelle überschritten",
        "Alarmschwelle überschritten",
        "Entwarnung, wieder unter 180 µg/m³",
    ]
    assert (
        entries[0][1]
        == "Ozon 185 µg/m³ an Station Berlin Neukölln (12:00 Uhr): Informationsschwelle überschritten"
    )

    restarted = build()  # a restart on the same database, then another poll
    poll(restarted, at + timedelta(minutes=5))
    assert threshold_entries(restarted, at + timedelta(minutes=5)) == entries


def test_episode_longer_than_the_window_is_announced_once(build, upstream):
    app = build()
    at = upstream.add([150, 190])  # info at the second hour
    poll(app, at)
    for _ in range(60):  # 60 more hours above the information threshold: the window slides past the start
        at = upstream.add([200])
        poll(app, at)
    entries = threshold_entries(app, at)
    assert len(entries) == 1 and "Informationsschwelle" in entries[0][1]
    at = upstream.add([120])
    poll(app, at)
    assert [t.split(": ", 1)[1] for _, t in threshold_entries(app, at)] == [
        "Informationsschwelle überschritten",
        "Entwarnung, wieder unter 180 µg/m³",
    ]


def test_first_poll_in_the_middle_of_an_episode_announces_it(build, upstream):
    app = build()
    at = upstream.add([220, 230, 225])
    poll(app, at)
    assert [t.split(": ", 1)[1] for _, t in threshold_entries(app, at)] == [
        "Informationsschwelle überschritten"
    ]


@pytest.fixture
def episode(build, upstream):
    app = build()
    poll(app, upstream.add([150, 190, 250, 230, 170]))
    return app, upstream.add([]) - timedelta(minutes=1)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("", ["Informationsschwelle", "Alarmschwelle", "Entwarnung"]),
        ("?min_value=200", ["Alarmschwelle"]),
        ("?min_value=180&component=o3", ["Informationsschwelle", "Alarmschwelle"]),
        ("?component=no2", []),
        ("?station=DEBE034", ["Informationsschwelle", "Alarmschwelle", "Entwarnung"]),
        ("?station=Berlin%20Neuk%C3%B6lln&min_value=240", ["Alarmschwelle"]),
    ],
)
def test_filters_narrow_every_format(episode, fmt, query, titles):
    app, at = episode
    response = get(app, at, f"/feeds/air-neukoelln.{fmt}{query}")
    assert response.status_code == 200
    shown = entry_titles(fmt, response.data)
    found = [t for title in reversed(shown) for t in titles if t in title]
    assert found == titles and len(shown) == len(titles)


@pytest.mark.parametrize("query", ["?component=xx", "?min_value=abc", "?station=DEBE999"])
def test_bad_air_filters_are_400_without_echo(episode, query):
    app, at = episode
    response = get(app, at, f"/feeds/air-neukoelln.rss{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert query.split("=")[1].encode() not in response.data


def test_air_feeds_offer_no_calendar(episode):
    app, at = episode
    assert get(app, at, "/feeds/air-neukoelln.ics").status_code == 404


def test_the_station_is_on_the_map_with_its_current_reading_and_near_selects_it(episode):
    app, at = episode
    whole = get(app, at, "/feeds/air-neukoelln.geojson")
    near = get(app, at, "/feeds/air-neukoelln.geojson?near=52.49,13.43,500").get_json()["features"]
    far = get(app, at, "/feeds/air-neukoelln.geojson?near=48.14,11.58,10000").get_json()["features"]
    assert whole.headers["Content-Type"] == "application/geo+json"
    features = whole.get_json()["features"]
    # the threshold messages and the latest reading, all at the station (RFC 7946: longitude first)
    assert {tuple(f["geometry"]["coordinates"]) for f in features} == {(13.4308, 52.4895)}
    assert any(f["properties"]["kind"] == "reading" for f in features)
    assert len(near) == len(features) > 0 and far == []


def test_latest_reading_and_series_are_stored_and_marked_stale_when_the_station_stops(build, upstream):
    app = build()
    at = upstream.add([100, 110, 120])
    poll(app, at)
    later = at + timedelta(hours=5)  # the station sends nothing new for five hours
    poll(app, later)
    with app.app_context():
        store = app.extensions["feedserver"].store
        readings = [i for i in store.current_items("air-neukoelln") if i.data["kind"] == "reading"]
    ozone = next(i for i in readings if i.data["component"] == "o3")
    assert ozone.data["value"] == 120 and ozone.data["stale"] is True
    assert [v for _, v in ozone.data["series"]] == [100, 110, 120]
    assert ozone.data["series"][-1][0] == "2024-07-01T09:00:00Z"
