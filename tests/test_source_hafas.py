"""HAFAS source: transport.rest (FPTF v5 list / v6 wrapper) fetched over HTTP, and raw mgate StationBoards."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedserver.errors import ParseError, UpstreamError
from feedserver.fetch import Payload
from feedserver.items import FeedInfo
from sources import hafas

BERLIN = ZoneInfo("Europe/Berlin")


def parse(feed_info, body: bytes, **options):
    return hafas.Source(feed_info, base_url="http://127.0.0.1/unused", **options).parse(Payload(body, "x"))


def test_fetches_the_stop_board_over_http(httpserver, http, feed_info, fixture_bytes):
    httpserver.expect_request("/stops/8089110/departures", query_string="duration=30").respond_with_data(
        fixture_bytes("hafas/dbrest-ringbahn-via-suedkreuz-departures.json"), content_type="application/json"
    )
    source = hafas.Source(
        feed_info, base_url=httpserver.url_for("/"), stop="8089110", duration=30, min_delay=0
    )
    (item,) = source.parse(source.fetch(http))
    # the recorded v5 departure is on time (delay null, when == plannedWhen 10:00+01:00)
    assert item.title == "S 42 → Ring S42: +0 min ab Berlin Messe Nord/ICC (Witzleben) 10:00"
    assert item.starts == datetime(2023, 1, 16, 10, 0, tzinfo=BERLIN)
    assert item.data["trip_id"] == "1|1136689|13|81|16012023"
    assert item.data["stop_id"] == "8089110"


def test_on_time_board_has_no_delay_items(feed_info, fixture_bytes):
    assert parse(feed_info, fixture_bytes("hafas/dbrest-cecilienhof-departures.json")) == []


def v6_board(fixture_bytes) -> bytes:
    """The recorded v5 departure, wrapped as v6 and given realtime data (a delayed and a cancelled run)."""
    (departure,) = json.loads(fixture_bytes("hafas/dbrest-ringbahn-via-suedkreuz-departures.json"))
    delayed = dict(departure, when="2023-01-16T10:12:00+01:00", delay=720)
    cancelled = dict(
        departure,
        tripId="1|1136700|0|81|16012023",
        plannedWhen="2023-01-16T10:05:00+01:00",
        when=None,
        delay=None,
        cancelled=True,
    )
    no_delay_field = dict(
        departure,
        tripId="1|1136711|0|81|16012023",
        plannedWhen="2023-01-16T10:10:00+01:00",
        when="2023-01-16T10:16:30+01:00",
        delay=None,
    )
    board = {"departures": [delayed, cancelled, no_delay_field], "realtimeDataUpdatedAt": 1673859300}
    return json.dumps(board).encode()


def test_v6_delays_and_cancellations(feed_info, fixture_bytes):
    items = {i.data["trip_id"]: i for i in parse(feed_info, v6_board(fixture_bytes))}
    delayed = items["1|1136689|13|81|16012023"]
    assert delayed.title == "S 42 → Ring S42: +12 min ab Berlin Messe Nord/ICC (Witzleben) 10:00"
    assert (delayed.category, delayed.data["delay_minutes"]) == ("delay", 12)
    cancelled = items["1|1136700|0|81|16012023"]
    assert cancelled.title == "S 42 → Ring S42: fällt aus ab Berlin Messe Nord/ICC (Witzleben) 10:05"
    assert cancelled.starts == datetime(2023, 1, 16, 10, 5, tzinfo=BERLIN)
    # no delay field: when − plannedWhen = 6.5 min
    assert items["1|1136711|0|81|16012023"].data["delay_seconds"] == 390
    assert all(i.published == datetime.fromtimestamp(1673859300, UTC) for i in items.values())


def test_english_titles(fixture_bytes):
    feed = FeedInfo(id="x", language="en")
    titles = sorted(i.title for i in parse(feed, v6_board(fixture_bytes)))
    assert titles[0] == "S 42 → Ring S42: +12 min from Berlin Messe Nord/ICC (Witzleben) 10:00"
    assert titles[2] == "S 42 → Ring S42: cancelled from Berlin Messe Nord/ICC (Witzleben) 10:05"


@pytest.mark.parametrize(
    ("fixture", "min_delay", "trip_id", "kind", "minutes", "title"),
    [
        (
            "hafas-mgate-vsn-departures.json",
            5,
            "1|265947|0|80|1082020",
            "delay",
            58,
            "IC 2315 → Frankfurt(Main) Hbf: +58 min ab Bremen Hbf 17:44",
        ),
        (
            "hafas-mgate-db-arrivals.json",
            5,
            "1|1144239|52|80|9062020",
            "delay",
            17,
            "U 7 → Rathaus Spandau (S+U), Berlin: +17 min ab Jungfernheide Bahnhof (S+U), Berlin 17:04",
        ),
        (
            "hafas-mgate-bvg-arrivals.json",
            3,
            "1|18731|26|86|28102021",
            "delay",
            4,
            "Linie M5 → Clara-Jaschke-Str. (Berlin): +4 min ab S Landsberger Allee (Berlin) 10:30",
        ),
        (
            "hafas-mgate-bvg-arrivals.json",
            5,
            "1|24642|3|86|28102021",
            "cancellation",
            None,
            "Linie S8 → S Birkenwerder Bhf: fällt aus ab S Landsberger Allee (Berlin) 10:41",
        ),
    ],
)
def test_mgate_boards(feed_info, fixture_bytes, fixture, min_delay, trip_id, kind, minutes, title):
    items = {
        i.data["trip_id"]: i for i in parse(feed_info, fixture_bytes(f"hafas/{fixture}"), min_delay=min_delay)
    }
    item = items[trip_id]
    assert (item.title, item.category, item.data["delay_minutes"]) == (title, kind, minutes)


def test_mgate_bvg_finds_every_delay_and_cancellation(feed_info, fixture_bytes):
    items = parse(feed_info, fixture_bytes("hafas/hafas-mgate-bvg-arrivals.json"), min_delay=3)
    # aTimeS/aTimeR pairs >= 3 min: 103000/103400, 103300/103700, 104300/104600, 104400/104700; two aCncl
    assert sorted((i.data["type"], i.starts.strftime("%H:%M")) for i in items) == [
        ("cancellation", "10:41"),
        ("cancellation", "10:44"),
        ("delay", "10:30"),
        ("delay", "10:33"),
        ("delay", "10:43"),
        ("delay", "10:44"),
    ]
    assert all(i.published == datetime.fromtimestamp(1635410055, UTC) for i in items)  # planrtTS


def test_mgate_vsn_values(feed_info, fixture_bytes):
    (item,) = parse(feed_info, fixture_bytes("hafas/hafas-mgate-vsn-departures.json"))
    assert item.starts == datetime(2020, 8, 1, 17, 44, tzinfo=BERLIN)
    assert item.data["delay_seconds"] == 58 * 60
    assert (item.data["stop_id"], item.data["stop_name"], item.data["line"]) == (
        "8000050",
        "Bremen Hbf",
        "IC 2315",
    )
    assert item.area == "IC 2315"


def test_mgate_wrapped_in_svcresl_gives_the_same_items(feed_info, fixture_bytes):
    body = fixture_bytes("hafas/hafas-mgate-vsn-departures.json")
    wrapped = {
        "ver": "1.16",
        "err": "OK",
        "svcResL": [{"meth": "StationBoard", "err": "OK", "res": json.loads(body)}],
    }
    assert parse(feed_info, json.dumps(wrapped).encode()) == parse(feed_info, body)


def test_mgate_error_is_an_upstream_error(feed_info):
    body = json.dumps({"svcResL": [{"meth": "StationBoard", "err": "LOCATION", "errTxt": "unknown stop"}]})
    with pytest.raises(UpstreamError, match="LOCATION"):
        parse(feed_info, body.encode())


@pytest.mark.parametrize("fixture", ["hafas-mgate-vsn-departures.json", "hafas-mgate-bvg-arrivals.json"])
def test_ids_are_stable_across_parses(feed_info, fixture_bytes, fixture):
    body = fixture_bytes(f"hafas/{fixture}")
    first, second = parse(feed_info, body, min_delay=0), parse(feed_info, body, min_delay=0)
    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == len(first) > 0


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        b"\x00\xff\xfe garbage",
        b'{"error": "not found"}',
        b'[{"tripId": "x", "when": null, "plannedWhen": null, "delay": null}]',
        b'{"common": {}, "jnyL": [{"jid": "x"}]}',
    ],
)
def test_wrong_shapes_are_parse_errors(feed_info, body):
    with pytest.raises(ParseError):
        parse(feed_info, body)


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("174400", None, datetime(2020, 8, 1, 17, 44, tzinfo=BERLIN)),
        ("01003000", None, datetime(2020, 8, 2, 0, 30, tzinfo=BERLIN)),  # day-offset prefix
        ("170400", 120, datetime(2020, 8, 1, 17, 4, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_mgate_time(text, offset, expected):
    assert hafas.mgate_time(date(2020, 8, 1), text, BERLIN, offset) == expected


def test_url_quotes_the_stop(feed_info):
    source = hafas.Source(feed_info, base_url="https://v6.db.transport.rest/", stop="de:11000:900100001")
    assert source.url == "https://v6.db.transport.rest/stops/de%3A11000%3A900100001/departures"
    assert hafas.Source(feed_info, base_url="https://example.org/board").url == "https://example.org/board"


def test_delays_carry_their_stops_place_from_both_formats(feed_info, fixture_bytes):
    rest = parse(feed_info, v6_board(fixture_bytes))
    mgate = parse(feed_info, fixture_bytes("hafas/hafas-mgate-bvg-arrivals.json"), min_delay=1)
    stop = json.loads(fixture_bytes("hafas/dbrest-ringbahn-via-suedkreuz-departures.json"))[0]["stop"]
    assert {(i.data["lat"], i.data["lon"]) for i in rest} == {
        (stop["location"]["latitude"], stop["location"]["longitude"])
    }
    # mgate: the location's crd in microdegrees, x east and y north
    assert mgate and all(50 < i.data["lat"] < 55 and 10 < i.data["lon"] < 15 for i in mgate)  # Berlin
