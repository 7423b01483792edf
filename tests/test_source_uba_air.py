"""UBA air data API v2: the real station list and air-quality sample served from 127.0.0.1."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from marshmallow import ValidationError

from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Payload
from feedserver.items import FeedInfo
from sources import uba_air

STATIONS = "uba_air/uba_v2_stations_2024_en.json"
AIRQUALITY = "uba_air/uba_v2_airquality_station145_2024-01-01.json"
# 20 minutes after the sample's last hour (2024-01-02 24:00 CET) was published
AFTER_SAMPLE = datetime(2024, 1, 2, 23, 20, tzinfo=UTC)
SUMMER_AFTERNOON = datetime(2024, 7, 1, 16, 20, tzinfo=UTC)

# a /measures/json body in the documented shape: [component, scope, value, date end, index] per start (CET),
# deliberately unsorted, ozone crossing 180, then 240, then back below
OZONE_EPISODE = {
    "2024-07-01 13:00:00": 250,
    "2024-07-01 10:00:00": 150,
    "2024-07-01 16:00:00": 170,
    "2024-07-01 11:00:00": 190,
    "2024-07-01 09:00:00": None,
    "2024-07-01 15:00:00": 230,
    "2024-07-01 12:00:00": 200,
    "2024-07-01 14:00:00": 260,
}


def measures_body(values: dict, component_id: int = 3, station: str = "145") -> bytes:
    rows = {
        start: [component_id, 2, value, f"{start[:11]}{int(start[11:13]) + 1:02d}:00:00", 1]
        for start, value in values.items()
    }
    return json.dumps(
        {
            "request": {"station": station, "component": str(component_id), "scope": "2"},
            "indices": {},
            "data": {station: rows} if rows else [],
        }
    ).encode()


@pytest.fixture
def stations_served(httpserver, fixture_bytes):
    def serve(lang="de"):
        httpserver.expect_request(
            "/stations/json", query_string={"use": "airquality", "lang": lang}
        ).respond_with_data(fixture_bytes(STATIONS), content_type="application/json")

    return serve


def source(feed, httpserver, **options):
    return uba_air.Source(feed, base_url=httpserver.url_for("/"), **options)


def sample_source(feed, httpserver, fixture_bytes, **options):
    """A source on /airquality/json, which serves the real sample for the window at AFTER_SAMPLE."""
    query = {
        "station": "145",
        "date_from": "2024-01-01",
        "time_from": "1",
        "date_to": "2024-01-03",
        "time_to": "1",
        "lang": feed.language if feed.language == "de" else "en",
    }
    httpserver.expect_request("/airquality/json", query_string=query).respond_with_data(
        fixture_bytes(AIRQUALITY), content_type="application/json"
    )
    return source(feed, httpserver, endpoint="airquality", **options)


def by_kind(items, kind):
    return [i for i in items if i.data["kind"] == kind]


def test_real_sample_latest_reading_per_component(
    feed_info, http, httpserver, stations_served, fixture_bytes
):
    stations_served()
    src = sample_source(
        feed_info, httpserver, fixture_bytes, station="DEBE034", components=["o3", "no2", "pm10"]
    )
    with time_machine.travel(AFTER_SAMPLE):
        payload = src.fetch(http)
    items = src.parse(payload)
    latest = {i.category: i for i in by_kind(items, "reading")}
    assert set(latest) == {"o3", "no2", "pm10"}
    ozone = latest["o3"]
    # the last entry ends "2024-01-02 24:00:00" CET = 23:00 UTC, with O3 35, NO2 16, PM10 9
    assert ozone.published == datetime(2024, 1, 2, 23, 0, tzinfo=UTC)
    assert (ozone.data["value"], latest["no2"].data["value"], latest["pm10"].data["value"]) == (35, 16, 9)
    assert ozone.title == "Ozon 35 µg/m³ an Station Berlin Neukölln (00:00 Uhr)"
    assert ozone.area == "DEBE034" and ozone.data["station_name"] == "Berlin Neukölln"
    assert ozone.data["unit"] == "µg/m³" and ozone.data["stale"] is False and ozone.data["level"] is None
    series = ozone.data["series"]
    assert len(series) == 48
    assert series[0] == ["2024-01-01T00:00:00Z", 7.0] and series[23] == ["2024-01-01T23:00:00Z", 44.0]
    assert [t for t, _ in series] == sorted(t for t, _ in series)
    assert by_kind(items, "threshold") == []  # the January sample peaks at 50 µg/m³


@pytest.mark.parametrize(
    ("language", "alert_title"),
    [
        ("de", "Ozon 50 µg/m³ an Station Berlin Neukölln (13:00 Uhr): Alarmschwelle überschritten"),
        ("en", "Ozone 50 µg/m³ at station Berlin Neukölln (13:00): alert threshold exceeded"),
    ],
)
def test_real_sample_with_low_thresholds(
    language, alert_title, http, httpserver, stations_served, fixture_bytes
):
    feed = FeedInfo(id="air", language=language)
    stations_served(language)
    src = sample_source(
        feed, httpserver, fixture_bytes, station="145", thresholds={"o3": {"info": 45, "alert": 49}}
    )
    with time_machine.travel(AFTER_SAMPLE):
        items = src.parse(src.fetch(http))
    events = [
        (i.data["level"], i.data["value"], i.published.isoformat()) for i in by_kind(items, "threshold")
    ]
    # O3 per hour ending (CET): 46 at 07:00, 43 at 08:00, 49 at 11:00, 50 at 13:00, 45 at 18:00 (not > 45),
    # 47 at 01:00 next day, 43 at 02:00
    assert events == [
        ("info", 46, "2024-01-01T06:00:00+00:00"),
        ("all-clear", 43, "2024-01-01T07:00:00+00:00"),
        ("info", 49, "2024-01-01T10:00:00+00:00"),
        ("alert", 50, "2024-01-01T12:00:00+00:00"),
        ("all-clear", 45, "2024-01-01T17:00:00+00:00"),
        ("info", 47, "2024-01-02T00:00:00+00:00"),
        ("all-clear", 43, "2024-01-02T01:00:00+00:00"),
    ]
    assert by_kind(items, "threshold")[3].title == alert_title


def test_measures_episode_gives_info_alert_all_clear(feed_info, http, httpserver, stations_served):
    stations_served()
    window = {
        "date_from": "2024-06-29",
        "time_from": "18",
        "date_to": "2024-07-01",
        "time_to": "18",
        "station": "145",
    }
    httpserver.expect_request(
        "/measures/json", query_string={**window, "component": "3", "scope": "2"}
    ).respond_with_data(measures_body(OZONE_EPISODE), content_type="application/json")
    httpserver.expect_request(
        "/measures/json", query_string={**window, "component": "5", "scope": "2"}
    ).respond_with_data(measures_body({}, component_id=5), content_type="application/json")
    src = source(feed_info, httpserver, station="debe034", components=["o3", "no2"])
    with time_machine.travel(SUMMER_AFTERNOON):
        payload = src.fetch(http)
    items = src.parse(payload)
    events = by_kind(items, "threshold")
    assert [e.title for e in events] == [
        "Ozon 190 µg/m³ an Station Berlin Neukölln (13:00 Uhr): Informationsschwelle überschritten",
        "Ozon 250 µg/m³ an Station Berlin Neukölln (15:00 Uhr): Alarmschwelle überschritten",
        "Ozon 170 µg/m³ an Station Berlin Neukölln (18:00 Uhr): Entwarnung, wieder unter 180 µg/m³",
    ]
    info = events[0]
    assert info.published == datetime(2024, 7, 1, 11, 0, tzinfo=UTC)  # "2024-07-01 12:00:00" CET
    assert info.key == "DEBE034|o3|info|2024-07-01T10:00:00Z"
    assert info.summary == (
        "Ozon: 190 µg/m³ im Mittel von 12:00 bis 13:00 Uhr am 01.07.2024, Station Berlin Neukölln (DEBE034). "
        "Schwellenwert: 180 µg/m³."
    )
    assert dict(info.data) == {
        "kind": "threshold",
        "station": "DEBE034",
        "station_name": "Berlin Neukölln",
        "component": "o3",
        "value": 190.0,
        "unit": "µg/m³",
        "threshold": 180.0,
        "level": "info",
        "lat": 52.4895,  # the station's place, from the recorded /stations/json
        "lon": 13.4308,
    }
    no2 = next(i for i in by_kind(items, "reading") if i.category == "no2")
    assert no2.data["value"] is None and no2.data["stale"] is True
    # ids are stable when parsed twice and when refetched an hour later
    later = replace(payload, fetched_at=payload.fetched_at + timedelta(hours=1))
    assert [i.id for i in src.parse(payload)] == [i.id for i in items]
    assert [i.id for i in by_kind(src.parse(later), "threshold")] == [e.id for e in events]


def test_stale_when_latest_reading_is_older_than_stale_after(feed_info, fixture_bytes):
    src = uba_air.Source(feed_info, station="DEBE034", stale_after=3600)
    payload = Payload(
        body=fixture_bytes(STATIONS),
        url="x",
        fetched_at=AFTER_SAMPLE + timedelta(hours=1),
        related={"aq": Payload(body=fixture_bytes(AIRQUALITY), url="y")},
    )
    ozone = by_kind(src.parse(payload), "reading")[0]
    assert ozone.data["stale"] is True and ozone.data["value"] == 35


def test_daily_summary(feed_info, fixture_bytes):
    src = uba_air.Source(feed_info, station="DEBE034", daily_summary=True)
    payload = Payload(
        body=fixture_bytes(STATIONS),
        url="x",
        fetched_at=AFTER_SAMPLE,
        related={"aq": Payload(body=fixture_bytes(AIRQUALITY), url="y")},
    )
    days = by_kind(src.parse(payload), "daily")
    assert [(d.data["date"], d.data["value"], d.data["hour"]) for d in days] == [
        ("2024-01-01", 50, "2024-01-01T12:00:00Z"),  # first of the two 50s, the hour ending 13:00 CET
        ("2024-01-02", 47, "2024-01-02T00:00:00Z"),
    ]
    assert (
        days[0].title == "Ozon Tageshöchstwert 50 µg/m³ an Station Berlin Neukölln am 01.01.2024 (13:00 Uhr)"
    )


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-01-01 24:00:00", datetime(2024, 1, 1, 23, 0, tzinfo=UTC)),  # hour 24 ends the day
        ("2024-01-02 00:00:00", datetime(2024, 1, 1, 23, 0, tzinfo=UTC)),  # the same instant as a start time
        ("2024-07-01 14:00:00", datetime(2024, 7, 1, 13, 0, tzinfo=UTC)),  # no summer time: still UTC+1
        (
            "2024-03-31 02:00:00",
            datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
        ),  # does not exist in Berlin local time
        (
            "2024-10-27 02:00:00",
            datetime(2024, 10, 27, 1, 0, tzinfo=UTC),
        ),  # exists twice in Berlin local time
    ],
)
def test_uba_time_to_utc(text, utc):
    assert uba_air.uba_time_to_utc(text) == utc


@pytest.mark.parametrize("day", ["2024-03-31", "2024-10-27"])
def test_daylight_saving_nights_have_no_gap_or_duplicate(day):
    hours = [uba_air.uba_time_to_utc(f"{day} {h:02d}:00:00") for h in range(1, 25)]
    assert all(b - a == timedelta(hours=1) for a, b in zip(hours, hours[1:], strict=False))


@pytest.mark.parametrize(
    "text",
    ["2024-01-01 25:00:00", "2024-01-01 24:30:00", "2024-02-30 01:00:00", "01.01.2024 01:00", None, 20240101],
)
def test_bad_uba_time(text):
    with pytest.raises(ParseError):
        uba_air.uba_time_to_utc(text)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 1, 1, 22, 59, tzinfo=UTC), ("2024-01-01", 24)),
        (datetime(2024, 1, 1, 23, 0, tzinfo=UTC), ("2024-01-02", 1)),
        (datetime(2024, 7, 1, 12, 30, tzinfo=UTC), ("2024-07-01", 14)),
    ],
)
def test_uba_end_hour_names_the_hour_in_progress(moment, expected):
    assert uba_air.uba_end_hour(moment) == expected
    end = uba_air.uba_time_to_utc(f"{expected[0]} {expected[1]:02d}:00:00")
    assert end - timedelta(hours=1) <= moment < end


def test_unknown_station_suggests_codes(feed_info, http, httpserver, stations_served):
    stations_served()
    with pytest.raises(OptionError) as caught:
        source(feed_info, httpserver, station="DEBE03").fetch(http)
    assert caught.value.option == "station" and "DEBE034 (Berlin Neukölln)" in caught.value.suggestions


@pytest.mark.parametrize(
    ("body", "related"),
    [
        (b"<!DOCTYPE html><html><body>Wartungsarbeiten</body></html>", b"{}"),
        (None, b"<html>Fehler</html>"),
        (None, b'{"data": {"145": ["not", "an", "object"]}}'),
        (None, b'{"data": {"145": {"2024-01-01 00:00:00": [3, 2, "viel", "2024-01-01 01:00:00", 1]}}}'),
        (None, b'{"data": {"145": {"yesterday": [3, 2, 40, "2024-01-01 01:00:00", 1]}}}'),
        (None, None),
    ],
)
def test_wrong_shapes_raise_parse_error(feed_info, fixture_bytes, body, related):
    payload = Payload(
        body=body or fixture_bytes(STATIONS),
        url="x",
        fetched_at=AFTER_SAMPLE,
        related={"o3": Payload(body=related, url="y")} if related is not None else {},
    )
    with pytest.raises(ParseError):
        uba_air.Source(feed_info, station="DEBE034").parse(payload)


def test_options_schema():
    loaded = uba_air.OPTIONS().load(
        {
            "station": "DEBE034",
            "components": ["O3", "pm25", "o3"],
            "thresholds": {"pm25": {"info": 50}},
            "stale_after": "2h",
        }
    )
    assert loaded["components"] == ["o3", "pm2.5"] and loaded["thresholds"] == {"pm2.5": {"info": 50.0}}
    assert (loaded["stale_after"], loaded["base_url"], loaded["endpoint"]) == (
        7200,
        uba_air.BASE_URL,
        "measures",
    )
    assert uba_air.OPTIONS().load({"station": "145"})["components"] == ["o3"]


@pytest.mark.parametrize(
    "options",
    [
        {"components": ["benzene"]},
        {"components": "o3"},
        {"thresholds": {"o3": {"info": 300}}},  # above the default alert threshold of 240
        {"thresholds": {"o3": {"warn": 100}}},
        {"endpoint": "forecast"},
    ],
)
def test_options_schema_rejects(options):
    with pytest.raises(ValidationError):
        uba_air.OPTIONS().load({"station": "DEBE034", **options})
