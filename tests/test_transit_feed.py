"""Transit end to end: GTFS-RT and HAFAS over HTTP become delay feeds, filterable, never stale as live."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import feedparser
import jsonschema
import pytest
import time_machine
from google.transit import gtfs_realtime_pb2 as rt
from werkzeug import Response

from tests.conftest import FIXTURES, refresh_feed

BART_HEADER = datetime.fromtimestamp(1565199921, UTC)
FRESH = BART_HEADER + timedelta(seconds=30)
JSONFEED_SCHEMA = json.loads((FIXTURES / "schemas" / "jsonfeed-v1.1.json").read_text())
FORMATS = ("rss", "atom", "json")


class Bart:
    """BART's recorded realtime feeds and static zip, with a switchable trip-updates body."""

    def __init__(self, fixture_bytes):
        self.trip_updates = fixture_bytes("gtfs_rt/bart-trip-updates.pb")
        self.alerts = fixture_bytes("gtfs_rt/bart-alerts.pb")
        self.static = fixture_bytes("gtfs_rt/bart-rt.zip")
        self.static_statuses: list[int] = []

    def serve_static(self, request) -> Response:
        if request.headers.get("If-None-Match") == '"zip-1"':
            self.static_statuses.append(304)
            return Response(status=304)
        self.static_statuses.append(200)
        return Response(self.static, content_type="application/zip", headers={"ETag": '"zip-1"'})

    def rewrite(self, change, part: str = "trip_updates") -> None:
        """Apply `change(message)` to the realtime feed served from now on."""
        message = rt.FeedMessage()
        message.ParseFromString(getattr(self, part))
        change(message)
        setattr(self, part, message.SerializeToString())

    def stamp(self, at: datetime) -> None:
        """Both realtime feeds now carry this header time."""
        for part in ("trip_updates", "alerts"):
            self.rewrite(lambda m: setattr(m.header, "timestamp", int(at.timestamp())), part)


@pytest.fixture
def bart(httpserver, fixture_bytes):
    upstream = Bart(fixture_bytes)
    httpserver.expect_request("/tu.pb").respond_with_handler(
        lambda r: Response(upstream.trip_updates, content_type="application/x-protobuf")
    )
    httpserver.expect_request("/alerts.pb").respond_with_handler(
        lambda r: Response(upstream.alerts, content_type="application/x-protobuf")
    )
    httpserver.expect_request("/gtfs.zip").respond_with_handler(upstream.serve_static)
    return upstream


@pytest.fixture
def build(make_app, httpserver, bart):
    table = f"""
[feeds.bart]
source = "gtfs_rt"
title = "BART delays"
language = "en"
every = "1m"
trip_updates_url = "{httpserver.url_for("/tu.pb")}"
alerts_url = "{httpserver.url_for("/alerts.pb")}"
static_url = "{httpserver.url_for("/gtfs.zip")}"
"""
    return lambda: make_app(table)


def poll(app, feed_id: str, at: datetime):
    with time_machine.travel(at, tick=False):
        result = refresh_feed(app, feed_id)
    assert result.ok, result.error
    return result


def get(app, at: datetime, path: str):
    with time_machine.travel(at, tick=False):
        return app.test_client().get(path)


def entries(fmt: str, body: bytes) -> list[str]:
    """Entry ids as a client reads them: feedparser for XML, the JSON Feed 1.1 schema for JSON."""
    if fmt == "json":
        document = json.loads(body)
        jsonschema.validate(document, JSONFEED_SCHEMA)
        return [item["id"] for item in document["items"]]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.id for entry in parsed.entries]


def json_items(app, at: datetime, feed_id: str, query: str = "") -> list[dict]:
    response = get(app, at, f"/feeds/{feed_id}.json{query}")
    assert response.status_code == 200, response.data
    return response.get_json()["items"]


def test_bart_delays_and_alert_in_every_format(build):
    app = build()
    poll(app, "bart", FRESH)
    items = json_items(app, FRESH, "bart")
    types = [i["_feedserver"]["type"] for i in items]
    assert types.count("delay") == 26 and types.count("alert") == 1
    titles = {i["title"] for i in items}
    assert "Line Green → Daly City: +36 min from Montgomery St. 10:09" in titles
    for fmt in ("rss", "atom"):
        response = get(app, FRESH, f"/feeds/bart.{fmt}")
        assert len(entries(fmt, response.data)) == 27
        assert "Feedserver-Status" not in response.headers


def ids(values) -> set[str]:
    return {value.removeprefix("urn:uuid:") for value in values}


def narrowed(items: list[dict], key: str, wanted) -> set[str]:
    return {i["id"] for i in items if i["_feedserver"].get(key) == wanted}


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_narrow_every_format(build, fmt):
    app = build()
    poll(app, "bart", FRESH)
    everything = json_items(app, FRESH, "bart")
    delays = [i for i in everything if i["_feedserver"]["type"] == "delay"]
    line = next(i["_feedserver"]["line"] for i in delays if i["_feedserver"]["line"])
    stop = delays[0]["_feedserver"]["stop_name"]
    big = {i["id"] for i in delays if i["_feedserver"]["delay_minutes"] >= 20}
    cases = {
        f"?line={line}": narrowed(everything, "line", line),
        f"?stop={stop}": narrowed(everything, "stop_name", stop),
        "?min_delay=20": big,
        "?type=alert": narrowed(everything, "type", "alert"),
        "?type=delay,cancellation": {i["id"] for i in delays},
        f"?line={line}&min_delay=20": narrowed(everything, "line", line) & big,
        "?line=99X": set(),  # a line without delays right now: an empty feed, not an error
        "?type=cancellation": set(),  # part of the vocabulary although BART has none right now
    }
    assert 0 < len(big) < len(delays)
    for query, expected in cases.items():
        response = get(app, FRESH, f"/feeds/bart.{fmt}{query}")
        assert response.status_code == 200, query
        assert ids(entries(fmt, response.data)) == ids(expected), query


def test_old_header_marks_the_feed_stale_without_backoff(build):
    app = build()
    late = BART_HEADER + timedelta(seconds=60 + 90 + 5)  # beyond the interval plus the default 90 s
    poll(app, "bart", late)
    response = get(app, late, "/feeds/bart.atom")
    assert response.status_code == 200
    assert response.headers["Feedserver-Status"].startswith("stale")
    with app.app_context():
        state = app.extensions["feedserver"].store.feed_state("bart")
    assert state.stale_since == late and state.failures == 0 and state.retry_at is None
    assert "old" in state.last_error
    # stale stays stale from the first moment on, and a fresh header clears it
    poll(app, "bart", late + timedelta(minutes=1))
    with app.app_context():
        assert app.extensions["feedserver"].store.feed_state("bart").stale_since == late


def test_fresh_header_clears_staleness(build, bart):
    app = build()
    late = BART_HEADER + timedelta(minutes=10)
    poll(app, "bart", late)
    bart.stamp(late)
    poll(app, "bart", late + timedelta(seconds=20))
    assert "Feedserver-Status" not in get(app, late + timedelta(seconds=20), "/feeds/bart.atom").headers
    with app.app_context():
        assert app.extensions["feedserver"].store.feed_state("bart").stale_since is None


def test_a_later_header_keeps_unchanged_items_as_they_were(build, bart):
    app = build()
    poll(app, "bart", FRESH)
    first = {i["id"]: i for i in json_items(app, FRESH, "bart")}
    later = FRESH + timedelta(minutes=1)
    bart.stamp(later)  # a minute on, some stops are passed: some delays change, the rest must not move
    result = poll(app, "bart", later)
    now = {i["id"]: i for i in json_items(app, later, "bart")}
    same = [i for i in first if i in now and now[i]["title"] == first[i]["title"]]
    changed = [i for i in first if i in now and now[i]["title"] != first[i]["title"]]
    assert len(same) >= 10 and result.changes.updated == len(changed)
    assert all(now[i] == first[i] for i in same)
    assert all(now[i]["date_published"] == first[i]["date_published"] for i in changed)


def _grow_first_delay(message) -> str:
    entity = next(e for e in message.entity if e.trip_update.trip.trip_id == "1150915WKDY")
    for stu in entity.trip_update.stop_time_update:
        for event in (stu.arrival, stu.departure):
            event.delay += 600
            event.time += 600
    return entity.id


def test_growing_delay_updates_the_item_and_keeps_first_seen_time(build, bart):
    app = build()
    poll(app, "bart", FRESH)
    before = next(i for i in json_items(app, FRESH, "bart") if "Daly City: +36 min" in i["title"])
    bart.rewrite(_grow_first_delay)
    later = FRESH + timedelta(minutes=1)
    result = poll(app, "bart", later)
    assert (result.changes.added, result.changes.updated) == (0, 1)
    after = next(i for i in json_items(app, later, "bart") if i["id"] == before["id"])
    assert "+46 min" in after["title"]
    assert after["date_published"] == before["date_published"]


def test_passed_trip_leaves_the_current_view_but_stays_in_the_feed_for_a_while(build, bart):
    app = build()
    poll(app, "bart", FRESH)
    gone_title = "Line Green → Daly City: +36 min from Montgomery St. 10:09"

    def drop(message):
        keep = [e for e in message.entity if e.trip_update.trip.trip_id != "1150915WKDY"]
        del message.entity[:]
        message.entity.extend(keep)

    bart.rewrite(drop)
    later = FRESH + timedelta(minutes=1)
    assert poll(app, "bart", later).changes.removed == 1
    with app.app_context():
        current = app.extensions["feedserver"].store.current_items("bart")
    assert gone_title not in {i.title for i in current}
    assert gone_title in {i["title"] for i in json_items(app, later, "bart")}
    much_later = later + timedelta(hours=4)
    poll(app, "bart", much_later)
    assert gone_title not in {i["title"] for i in json_items(app, much_later, "bart")}


def test_static_zip_is_fetched_once_while_unchanged_and_ids_survive_a_restart(build, bart):
    app = build()
    poll(app, "bart", FRESH)
    ids = {i["id"] for i in json_items(app, FRESH, "bart")}
    restarted = build()
    poll(restarted, "bart", FRESH + timedelta(minutes=1))
    assert bart.static_statuses == [200, 304]
    assert {i["id"] for i in json_items(restarted, FRESH + timedelta(minutes=1), "bart")} == ids


@pytest.fixture
def hafas(make_app, httpserver, fixture_bytes):
    httpserver.expect_request("/departures").respond_with_data(
        fixture_bytes("hafas/hafas-mgate-bvg-arrivals.json"), content_type="application/json"
    )
    return make_app(
        f"""
[feeds.vbb]
source = "hafas"
title = "Abfahrten"
every = "1m"
base_url = "{httpserver.url_for("/departures")}"
min_delay = 3
"""
    )


def test_hafas_delays_and_cancellations_filter_in_every_format(hafas):
    at = datetime.fromtimestamp(1635410055, UTC) + timedelta(seconds=20)  # planrtTS of the recording
    poll(hafas, "vbb", at)
    everything = json_items(hafas, at, "vbb")
    assert sorted(i["_feedserver"]["type"] for i in everything) == ["cancellation"] * 2 + ["delay"] * 4
    assert "Feedserver-Status" not in get(hafas, at, "/feeds/vbb.rss").headers
    for fmt in FORMATS:
        for kind in ("delay", "cancellation"):
            response = get(hafas, at, f"/feeds/vbb.{fmt}?type={kind}")
            assert ids(entries(fmt, response.data)) == ids(narrowed(everything, "type", kind))


def test_hafas_board_with_an_old_realtime_time_is_stale(hafas):
    at = datetime.fromtimestamp(1635410055, UTC) + timedelta(minutes=10)
    poll(hafas, "vbb", at)
    assert get(hafas, at, "/feeds/vbb.rss").headers["Feedserver-Status"].startswith("stale")


def test_delays_are_on_the_map_at_their_stops_and_near_selects_them(build):
    app = build()
    poll(app, "bart", FRESH)
    whole = get(app, FRESH, "/feeds/bart.geojson")
    at_montgomery = get(app, FRESH, "/feeds/bart.geojson?near=37.789405,-122.401066,50").get_json()[
        "features"
    ]
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "application/geo+json"
    features = whole.get_json()["features"]
    delays = [i for i in json_items(app, FRESH, "bart") if i["_feedserver"]["type"] == "delay"]
    assert features and len(features) == len(delays)  # the service alert has no stop, so no place
    # stops.txt of the recorded BART GTFS: MONT,Montgomery St.,,37.789405,-122.401066 (RFC 7946: lon, lat)
    assert at_montgomery and all(f["properties"]["stop_id"] == "MONT" for f in at_montgomery)
    assert at_montgomery[0]["geometry"]["coordinates"] == [-122.401066, 37.789405]
