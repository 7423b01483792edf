"""OpenAQ v3: the recorded location and measurements served from 127.0.0.1, ppm converted to µg/m³."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from marshmallow import ValidationError

from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Payload
from feedserver.items import FeedInfo
from kinds.air.vocabulary import to_micrograms
from sources import openaq

LOCATION = "openaq/openaq_v3_locations.json"
MEASUREMENTS = "openaq/openaq_v3_measurements.json"  # sensor 3920, PM2.5 in µg/m³
NOW = datetime(2023, 10, 16, 15, 0, tzinfo=UTC)
# whole hours, to the end of the current one, so the query (and its validators) repeat within the hour
WINDOW = {"datetime_from": "2023-10-14T15:00:00Z", "datetime_to": "2023-10-16T16:00:00Z", "limit": "1000"}
ALBUQUERQUE = FeedInfo(id="abq-air", language="en", timezone="America/Denver")
KEY = {"X-API-Key": "test-key"}


def ozone_ppm(*values: float) -> bytes:
    """A /v3/sensors/{id}/measurements body in the recorded shape, for O3 in ppm from 10:00 UTC on."""
    results = [
        {
            "period": {
                "label": "1hour",
                "interval": "01:00:00",
                "datetimeFrom": {"utc": f"2023-10-16T{10 + i:02d}:00:00Z"},
                "datetimeTo": {"utc": f"2023-10-16T{11 + i:02d}:00:00Z"},
            },
            "value": value,
            "parameter": {"id": 10, "name": "o3", "units": "ppm", "displayName": None},
        }
        for i, value in enumerate(values)
    ]
    return json.dumps({"meta": {"found": len(results)}, "results": results}).encode()


@pytest.fixture
def served(httpserver, fixture_bytes):
    httpserver.expect_request("/v3/locations/2178", headers=KEY).respond_with_data(
        fixture_bytes(LOCATION), content_type="application/json"
    )
    httpserver.expect_request(
        "/v3/sensors/3920/measurements", query_string=WINDOW, headers=KEY
    ).respond_with_data(fixture_bytes(MEASUREMENTS), content_type="application/json")
    # 0.080 ppm = 159.7 µg/m³, 0.095 = 189.7, 0.130 = 259.6, 0.060 = 119.8
    httpserver.expect_request(
        "/v3/sensors/3917/measurements", query_string=WINDOW, headers=KEY
    ).respond_with_data(ozone_ppm(0.080, 0.095, 0.130, 0.060), content_type="application/json")
    return httpserver


def fetch_and_parse(http, httpserver, feed=ALBUQUERQUE, **options):
    src = openaq.Source(
        feed, location_id=2178, api_key="test-key", base_url=httpserver.url_for("/"), **options
    )
    with time_machine.travel(NOW):
        payload = src.fetch(http)
    return src, payload, src.parse(payload)


def test_recorded_pm25_latest_reading(http, served):
    _, _, items = fetch_and_parse(http, served, components=["pm25"])
    (latest,) = items
    assert latest.key == "2178|pm2.5|latest" and latest.category == "pm2.5" and latest.area == "2178"
    assert latest.published == datetime(2023, 10, 16, 14, 0, tzinfo=UTC)
    assert latest.title == "Particulate matter PM2.5 7.5 µg/m³ at station Del Norte (08:00)"  # MDT
    assert latest.data["station_name"] == "Del Norte" and latest.data["value"] == 7.5
    assert latest.data["series"] == [["2023-10-16T13:00:00Z", 6.0], ["2023-10-16T14:00:00Z", 7.5]]
    assert latest.data["stale"] is False


def test_ozone_in_ppm_crosses_the_eu_thresholds(http, served):
    src, payload, items = fetch_and_parse(http, served, components=["o3", "pm2.5"])
    events = [i for i in items if i.data["kind"] == "threshold"]
    assert [(e.data["level"], e.data["value"]) for e in events] == [
        ("info", pytest.approx(189.684, abs=0.01)),
        ("alert", pytest.approx(259.567, abs=0.01)),
        ("all-clear", pytest.approx(119.800, abs=0.01)),
    ]
    assert events[1].title == "Ozone 259.6 µg/m³ at station Del Norte (07:00): alert threshold exceeded"
    assert events[1].published == datetime(2023, 10, 16, 13, 0, tzinfo=UTC)
    assert [i.id for i in src.parse(payload)] == [i.id for i in items]


def test_missing_component_suggests_the_location_sensors(http, httpserver, fixture_bytes):
    location = json.loads(fixture_bytes(LOCATION))
    location["results"][0]["sensors"] = [
        s for s in location["results"][0]["sensors"] if s["parameter"]["name"] != "o3"
    ]
    httpserver.expect_request("/v3/locations/2178").respond_with_json(location)
    with pytest.raises(OptionError) as caught:
        fetch_and_parse(http, httpserver)
    assert caught.value.option == "components" and "pm2.5" in caught.value.suggestions
    assert "o3" not in caught.value.suggestions


@pytest.mark.parametrize(
    ("value", "unit", "component", "expected"),
    [
        (1, "ppb", "o3", 1.9967),
        (0.059, "ppm", "o3", 117.80),  # the recorded latest O3 of Del Norte
        (1, "ppb", "no2", 1.9139),
        (1, "ppb", "so2", 2.6651),
        (1, "ppm", "co", 1165.14),
        (1, "mg/m³", "co", 1000.0),
        (7.5, "µg/m³", "pm2.5", 7.5),
        (7.5, "\u03bcg/m\u00b3", "pm10", 7.5),  # Greek mu instead of the micro sign
    ],
)
def test_to_micrograms(value, unit, component, expected):
    assert to_micrograms(value, unit, component) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(("unit", "component"), [("ppm", "pm10"), ("°C", "o3"), ("", "o3")])
def test_unconvertible_units(unit, component):
    with pytest.raises(ParseError):
        to_micrograms(1.0, unit, component)


@pytest.mark.parametrize(
    ("body", "related"),
    [
        (b"<html><body>Bad gateway</body></html>", b'{"results": []}'),
        (None, b'{"detail": "Unauthorized"}'),
        (None, b'{"results": [{"value": 1, "parameter": {"name": "o3", "units": "ppm"}}]}'),
        (None, b'{"results": [{"value": "x", "parameter": {"name": "o3", "units": "ppm"}, "period": {}}]}'),
        (None, None),
    ],
)
def test_wrong_shapes_raise_parse_error(fixture_bytes, body, related):
    payload = Payload(
        body=body or fixture_bytes(LOCATION),
        url="x",
        fetched_at=NOW,
        related={"o3": Payload(body=related, url="y")} if related is not None else {},
    )
    with pytest.raises(ParseError):
        openaq.Source(ALBUQUERQUE, location_id=2178).parse(payload)


def test_unknown_location_is_an_option_error():
    payload = Payload(
        body=b'{"meta": {"found": 0}, "results": []}', url="x", related={"o3": Payload(b"{}", "y")}
    )
    with pytest.raises(OptionError):
        openaq.Source(ALBUQUERQUE, location_id=1).parse(payload)


def test_options_schema(monkeypatch):
    monkeypatch.setenv("OPENAQ_KEY", "from-env")
    loaded = openaq.OPTIONS().load(
        {"location_id": 2178, "api_key": {"env": "OPENAQ_KEY"}, "components": ["pm25"]}
    )
    assert (loaded["api_key"], loaded["components"], loaded["base_url"]) == (
        "from-env",
        ["pm2.5"],
        openaq.BASE_URL,
    )
    with pytest.raises(ValidationError):
        openaq.OPTIONS().load({"location_id": 2178, "api_key": "literal-secret"})
