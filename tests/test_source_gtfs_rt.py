"""GTFS-Realtime source: BART (delay fields), Caltrain (absolute times vs ct.zip), alerts, static cache."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from google.protobuf import text_format
from google.transit import gtfs_realtime_pb2 as rt
from marshmallow import ValidationError
from werkzeug import Response

from feedserver.errors import ParseError
from feedserver.fetch import Payload
from sources import gtfs_rt
from sources._gtfs_static import Context, gtfs_seconds, load_static, read_static, service_day_start

LA = ZoneInfo("America/Los_Angeles")
PROTOBUF = "application/x-protobuf"


def decode(body: bytes):
    message = rt.FeedMessage()
    message.ParseFromString(body)
    return message


def serve(httpserver, files: dict[str, bytes]) -> dict[str, str]:
    """Serve each body at /<name> and return the URLs, keyed like the source options."""
    for name, body in files.items():
        content_type = "application/zip" if name == "static" else PROTOBUF
        httpserver.expect_request(f"/{name}").respond_with_data(body, content_type=content_type)
    return {f"{name}_url": httpserver.url_for(f"/{name}") for name in files}


@pytest.fixture
def bart(httpserver, http, feed_info, fixture_bytes):
    urls = serve(
        httpserver,
        {
            "trip_updates": fixture_bytes("gtfs_rt/bart-trip-updates.pb"),
            "alerts": fixture_bytes("gtfs_rt/bart-alerts.pb"),
            "static": fixture_bytes("gtfs_rt/bart-rt.zip"),
        },
    )
    source = gtfs_rt.Source(feed_info, **urls)
    return source, source.fetch(http)


@pytest.fixture
def caltrain(httpserver, http, feed_info, fixture_bytes):
    urls = serve(
        httpserver,
        {
            "trip_updates": fixture_bytes("gtfs_rt/ct-trip-updates.pb"),
            "alerts": fixture_bytes("gtfs_rt/ct-service-alerts.pb"),
            "static": fixture_bytes("gtfs_rt/ct.zip"),
        },
    )
    source = gtfs_rt.Source(feed_info, min_delay=0, **urls)
    return source, source.fetch(http)


def by_trip(items):
    return {item.data["trip_id"]: item for item in items if item.data["type"] == "delay"}


def worst_remaining_delay(entity, now: int) -> int:
    """Independent reading of the raw BART payload: the largest delay of a stop not yet departed."""
    delays = [
        (stu.departure if stu.HasField("departure") else stu.arrival).delay
        for stu in entity.trip_update.stop_time_update
        if (stu.departure if stu.HasField("departure") else stu.arrival).time >= now
    ]
    return max(delays, default=0)


def test_bart_delays_are_the_payloads_delay_fields(bart, fixture_bytes):
    source, payload = bart
    raw = decode(fixture_bytes("gtfs_rt/bart-trip-updates.pb"))
    items = by_trip(source.parse(payload))
    expected = {
        e.trip_update.trip.trip_id: worst_remaining_delay(e, raw.header.timestamp)
        for e in raw.entity
        if worst_remaining_delay(e, raw.header.timestamp) >= 5 * 60
    }
    assert {trip: item.data["delay_seconds"] for trip, item in items.items()} == expected
    assert len(items) == 26


@pytest.mark.parametrize(
    ("trip_id", "seconds", "title"),
    [
        ("1150915WKDY", 2207, "Linie Green → Daly City: +36 min ab Montgomery St. 10:09"),
        ("2350950WKDY", 689, "Linie Orange → Warm Springs/South Fremont: +11 min ab Bay Fair 10:31"),
        ("2230942WKDY", 479, "Linie Orange → Richmond: +7 min ab North Berkeley 10:35"),
    ],
)
def test_bart_spot_checks(bart, trip_id, seconds, title):
    source, payload = bart
    item = by_trip(source.parse(payload))[trip_id]
    assert item.title == title
    assert item.data["delay_seconds"] == seconds
    assert item.data["delay_minutes"] == seconds // 60
    assert item.data["start_date"] == "20190807"  # inferred: BART sends no start_date
    assert item.published == datetime(2019, 8, 7, 17, 45, 21, tzinfo=UTC)  # header timestamp 1565199921
    assert item.data["header_timestamp"] == 1565199921
    assert item.category == "delay" and item.area == item.data["line"]


def test_bart_trips_missing_from_static_keep_their_delay(bart, fixture_bytes):
    source, payload = bart
    known = load_static(fixture_bytes("gtfs_rt/bart-rt.zip")).trips
    items = by_trip(source.parse(payload))
    # 26 of BART's trips are absent from trips.txt (e.g. ADDED ones) and route_id is empty: no line name
    unknown = {trip for trip in items if trip not in known}
    assert unknown
    assert all(items[t].data["line"] is None and items[t].title.startswith(f"Fahrt {t}") for t in unknown)
    assert all(items[t].data["line"] for t in set(items) - unknown)


def test_caltrain_delay_is_computed_against_the_static_schedule(caltrain):
    source, payload = caltrain
    item = by_trip(source.parse(payload))["126"]
    # stop_times.txt: 126,16:58:00,16:58:00,70052,5 on service day 2023-11-07 (PST);
    # the feed predicts departure 1699405660 (after the header's 1699405534, so still ahead)
    scheduled = datetime(2023, 11, 7, 16, 58, tzinfo=LA)
    assert item.data["delay_seconds"] == 1699405660 - int(scheduled.timestamp()) == 580
    assert item.data["stop_id"] == "70052"
    assert item.starts == scheduled
    assert item.title == "Linie L1 → Tamien: +9 min ab San Bruno Caltrain Station 16:58"


def test_caltrain_passed_stops_do_not_count(caltrain):
    source, payload = caltrain
    item = by_trip(source.parse(payload))["124"]
    # 70232 was departed at 1699405504 (+124 s), before the header time; next is 70242: 17:09 -> 1699405801
    assert item.data["stop_id"] == "70242"
    assert item.data["delay_seconds"] == 1699405801 - int(datetime(2023, 11, 7, 17, 9, tzinfo=LA).timestamp())


def test_min_delay_drops_small_delays(caltrain):
    source, payload = caltrain
    source.min_delay = 5
    # 126 +580 s at San Bruno, 310 +878 s at Hillsdale, 709 +326 s at Mountain View; the rest stay under 5 min
    assert {i.data["trip_id"]: i.data["delay_seconds"] for i in source.parse(payload)} == {
        "126": 580,
        "310": 878,
        "709": 326,
    }


def test_cancelled_trip_becomes_a_cancellation(httpserver, http, feed_info, fixture_bytes):
    message = decode(fixture_bytes("gtfs_rt/ct-trip-updates.pb"))
    entity = next(e for e in message.entity if e.id == "124")
    entity.trip_update.trip.schedule_relationship = rt.TripDescriptor.CANCELED
    urls = serve(
        httpserver, {"trip_updates": message.SerializeToString(), "static": fixture_bytes("gtfs_rt/ct.zip")}
    )
    source = gtfs_rt.Source(feed_info, **urls)
    items = {i.key: i for i in source.parse(source.fetch(http))}
    item = items["cancellation|124|20231107|15:37:00"]
    assert item.category == "cancellation" and item.data["type"] == "cancellation"
    assert item.title == "Linie L1 → Tamien: fällt aus ab Lawrence Caltrain Station 17:03"


def test_trip_level_delay_applies_from_the_next_scheduled_stop(feed_info, fixture_bytes):
    message = decode(fixture_bytes("gtfs_rt/ct-trip-updates.pb"))
    update = next(e for e in message.entity if e.id == "126").trip_update
    del update.stop_time_update[:]
    update.delay = 600
    body = message.SerializeToString()
    static = Payload(fixture_bytes("gtfs_rt/ct.zip"), "z")
    source = gtfs_rt.Source(feed_info, trip_updates_url="http://x")
    item = by_trip(
        source.parse(Payload(body, "x", related={"trip_updates": Payload(body, "x"), "static": static}))
    )
    # header 17:05:34 PST; 16:58 (70052) + 10 min is still ahead, 16:54 (70042) + 10 min is not
    assert (item["126"].data["stop_id"], item["126"].data["delay_minutes"]) == ("70052", 10)


def test_alert_with_validity_and_informed_entities(httpserver, http, feed_info, fixture_bytes):
    message = text_format.Parse(fixture_bytes("gtfs_rt/alerts.asciipb").decode(), rt.FeedMessage())
    urls = serve(httpserver, {"alerts": message.SerializeToString()})
    source = gtfs_rt.Source(feed_info.__class__(id="x", language="en", timezone="UTC"), **urls)
    (item,) = source.parse(source.fetch(http))
    assert item.key == "alert|0"
    assert item.title == "Stop at Elm street is closed, temporary stop at Oak street"
    assert item.starts == datetime.fromtimestamp(1284457468, UTC)
    assert item.ends == datetime.fromtimestamp(1284468072, UTC)
    assert item.url == "http://www.sometransitagency/alerts"
    assert item.summary.startswith("Due to construction at Elm street")
    assert item.data["route_id"] == "219, 100"
    assert item.data["stop_id"] == "16230, 16299"
    assert (item.data["cause"], item.data["effect"]) == ("CONSTRUCTION", "DETOUR")


def test_bart_alert_without_period_is_open_ended(bart):
    source, payload = bart
    (alert,) = [i for i in source.parse(payload) if i.category == "alert"]
    assert alert.key == "alert|BSA_187874"
    assert alert.title.startswith("There is a major delay at Montgomery St.")
    assert alert.starts is None and alert.ends is None
    assert alert.data["effect"] == "SIGNIFICANT_DELAYS"
    assert alert.published == datetime.fromtimestamp(1565199942, UTC)


def test_empty_alert_feed_is_valid(caltrain):
    source, payload = caltrain
    assert all(i.category == "delay" for i in source.parse(payload))


def test_ids_are_stable_across_parses(bart):
    source, payload = bart
    first, second = source.parse(payload), source.parse(payload)
    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == len(first)


def test_growing_delay_updates_the_same_item(feed_info, fixture_bytes):
    body = fixture_bytes("gtfs_rt/ct-trip-updates.pb")
    later = decode(body)
    later.header.timestamp += 60
    for stu in next(e for e in later.entity if e.id == "126").trip_update.stop_time_update:
        stu.departure.time += 300
    source = gtfs_rt.Source(feed_info, trip_updates_url="http://x", min_delay=0)
    static = Payload(fixture_bytes("gtfs_rt/ct.zip"), "z")
    before, after = (
        by_trip(source.parse(Payload(b, "x", related={"trip_updates": Payload(b, "x"), "static": static})))[
            "126"
        ]
        for b in (body, later.SerializeToString())
    )
    assert before.id == after.id
    assert (before.data["delay_minutes"], after.data["delay_minutes"]) == (9, 14)


@pytest.mark.parametrize(
    "body", [b"<!DOCTYPE html><html><body>Service unavailable</body></html>", b"\x00\xff garbage \x13", b""]
)
def test_garbage_is_a_parse_error(feed_info, body):
    source = gtfs_rt.Source(feed_info, trip_updates_url="http://x")
    with pytest.raises(ParseError):
        source.parse(Payload(body, "x"))


def test_broken_static_zip_is_a_parse_error(feed_info, fixture_bytes):
    body = fixture_bytes("gtfs_rt/ct-trip-updates.pb")
    payload = Payload(
        body, "x", related={"trip_updates": Payload(body, "x"), "static": Payload(b"<html>", "z")}
    )
    with pytest.raises(ParseError, match="not a zip"):
        gtfs_rt.Source(feed_info, trip_updates_url="http://x").parse(payload)


def test_static_zip_is_reused_on_304(httpserver, http, feed_info, fixture_bytes):
    zip_bytes = fixture_bytes("gtfs_rt/ct.zip")

    def static(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(zip_bytes, content_type="application/zip", headers={"ETag": '"v1"'})

    httpserver.expect_request("/static").respond_with_handler(static)
    urls = serve(httpserver, {"trip_updates": fixture_bytes("gtfs_rt/ct-trip-updates.pb")})
    source = gtfs_rt.Source(feed_info, static_url=httpserver.url_for("/static"), **urls)
    source.fetch(http)
    again = source.fetch(http)
    statuses = [response.status_code for _, response in httpserver.log if _.path == "/static"]
    assert statuses == [200, 304]
    assert again.related["static"].body == zip_bytes
    assert by_trip(source.parse(again))["126"].data["delay_seconds"] == 580


def test_header_age_uses_fetch_time(feed_info, fixture_bytes):
    body = fixture_bytes("gtfs_rt/ct-trip-updates.pb")
    fetched = datetime.fromtimestamp(1699405534 + 42.5, UTC)
    assert gtfs_rt.header_age(Payload(body, "x", fetched_at=fetched)) == pytest.approx(42.5)


def test_static_loader_is_cached_per_content(fixture_bytes):
    body = fixture_bytes("gtfs_rt/bart-rt.zip")
    feed = load_static(body)
    assert load_static(body) is feed
    assert feed.timezone == "America/Los_Angeles"
    assert feed.stop_name("MONT") == "Montgomery St."
    assert Context(feed, LA, None, datetime.now(UTC), "en").route_name("5") == "Green"
    assert feed.schedule("1011112WKDY")[0] == (1, "DALY", 11 * 3600 + 12 * 60, 11 * 3600 + 12 * 60)


def test_static_loader_sorts_stop_times_and_needs_the_core_files(tmp_path):
    import zipfile

    path = tmp_path / "gtfs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("feed/routes.txt", "route_id,route_short_name,route_long_name,route_type\nr,5,,3\n")
        archive.writestr("feed/stops.txt", "\ufeffstop_id,stop_name\na,Rathaus\nb,Hbf\n")
        archive.writestr("feed/trips.txt", "route_id,service_id,trip_id\nr,s,t\n")
        archive.writestr(
            "feed/stop_times.txt",
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nt,25:10:00,,b,7\nt,,24:59:30,a,3\n",
        )
    feed = read_static(path.read_bytes())
    assert feed.schedule("t") == [(3, "a", 89970, 89970), (7, "b", 90600, 90600)]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("stops.txt", "stop_id,stop_name\n")
    with pytest.raises(ParseError, match="routes.txt, trips.txt"):
        read_static(path.read_bytes())


@pytest.mark.parametrize(
    ("text", "seconds"), [("25:38:00", 92280), ("5:00:00", 18000), ("", -1), ("7:00", -1)]
)
def test_gtfs_times(text, seconds):
    assert gtfs_seconds(text) == seconds


@pytest.mark.parametrize(
    ("day", "reference"),
    [
        (
            date(2023, 3, 12),
            datetime(2023, 3, 12, 7, 0, tzinfo=UTC),
        ),  # spring forward: 23:00 PST the day before
        (date(2023, 11, 5), datetime(2023, 11, 5, 8, 0, tzinfo=UTC)),  # fall back: 01:00 PDT
        (date(2023, 11, 7), datetime(2023, 11, 7, 8, 0, tzinfo=UTC)),  # ordinary day: local midnight
    ],
)
def test_service_day_reference_is_noon_minus_12h(day, reference):
    assert service_day_start(day, LA) == reference


def test_options_need_a_realtime_url():
    with pytest.raises(ValidationError):
        gtfs_rt.Options().load({"static_url": "https://example.org/gtfs.zip"})
    loaded = gtfs_rt.Options().load({"alerts_url": "https://example.org/alerts.pb"})
    assert (loaded["min_delay"], loaded["stale_after"]) == (5, 90)
