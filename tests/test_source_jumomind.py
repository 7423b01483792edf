"""Jumomind / MyMüll: dates joined with the area's waste types, colours, options and wrong shapes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError

from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Payload
from kinds.waste.vocabulary import WasteCategory
from sources.jumomind import Options, Source

API = "/mmapp/api.php"
SERVICES = {
    "hom": ("1", "411", "hom_trash_city1_area411.json", "hom_dates0_city1_area411.json"),
    "zaw": ("106", "94", "zaw_trash_city106_area94.json", "zaw_dates0_city106_area94.json"),
}


def serve(httpserver, fixture_bytes, feed_info, service: str) -> Source:
    city, area, trash, dates = SERVICES[service]
    place = {"city_id": city, "area_id": area}
    httpserver.expect_request(API, query_string={"r": "trash", **place}).respond_with_data(
        fixture_bytes(f"jumomind/{trash}"), content_type="text/html; charset=UTF-8"
    )
    httpserver.expect_request(API, query_string={"r": "dates/0", **place, "ws": "3"}).respond_with_data(
        fixture_bytes(f"jumomind/{dates}"), content_type="text/html; charset=UTF-8"
    )
    return Source(feed_info, service=service, city_id=city, area_id=area, base_url=httpserver.url_for(API))


@pytest.fixture
def recorded(fixture_bytes) -> Payload:
    """Bad Homburg's dates with its waste types, as fetch returns them."""
    trash = Payload(body=fixture_bytes("jumomind/hom_trash_city1_area411.json"), url="http://x/trash")
    return Payload(
        body=fixture_bytes("jumomind/hom_dates0_city1_area411.json"),
        url="http://x/dates",
        related={"trash": trash},
    )


def test_bad_homburg_dates_with_categories_and_colours(httpserver, fixture_bytes, http, feed_info):
    source = serve(httpserver, fixture_bytes, feed_info, "hom")
    items = source.parse(source.fetch(http))

    assert len(items) == 87
    first_day = [
        (i.data["label"], i.category, i.data["colour"]) for i in items if i.starts == date(2026, 7, 20)
    ]
    assert first_day == [
        ("Gelbe Säcke", WasteCategory.PACKAGING, "#dbff00"),
        ("Restmülltonne", WasteCategory.RESIDUAL, "#81877f"),
    ]
    green = next(i for i in items if i.starts == date(2026, 7, 21))
    assert (green.title, green.category) == ("Morgen: Grünabfall", WasteCategory.GARDEN)
    assert green.published == datetime(2026, 7, 20, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert green.summary == "Grünabfall: Abholung am Dienstag, 21.07.2026."


def test_zaw_keeps_notes_and_drops_malformed_colours(httpserver, fixture_bytes, http, feed_info):
    source = serve(httpserver, fixture_bytes, feed_info, "zaw")
    items = source.parse(source.fetch(http))

    assert len(items) == 56
    mobile = next(i for i in items if i.starts == date(2026, 9, 19))
    assert mobile.category == WasteCategory.HAZARDOUS
    assert mobile.summary.endswith("Pfungstadt/Kernstadt, Festplatz, Mühlstraße (9:00 - 13:00 Uhr)")
    weekly = [i for i in items if i.data["label"] == "Restmüll Container wöchentlich"]
    assert weekly and all("colour" not in i.data for i in weekly)  # upstream sends the 5-digit "99999"


def test_unknown_area_is_an_option_error(httpserver, http, feed_info):
    httpserver.expect_request(API).respond_with_data("[]", content_type="application/json")
    source = Source(feed_info, service="hom", city_id="1", area_id="999999", base_url=httpserver.url_for(API))

    with pytest.raises(OptionError) as caught:
        source.fetch(http)
    assert caught.value.option == "area_id"


def test_ids_are_stable_and_depend_on_day_and_waste_type(recorded, feed_info):
    source = Source(feed_info, service="hom", city_id="1", area_id="411")
    first, second = source.parse(recorded), source.parse(replace(recorded, fetched_at=datetime(2030, 1, 1)))

    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == len(first)
    assert first[0].key == "2026-07-20|HOM_GELB"


def test_unsorted_dates_fall_back_to_the_waste_type(recorded, feed_info):
    dates = [
        {"id": "2", "trash_name": "HOM_CHRIST", "day": "2027-01-09"},
        {"id": "1", "title": "Papiertonne", "trash_name": "HOM_PAP", "day": "2027-01-02", "color": ""},
    ]
    items = Source(feed_info, service="hom", city_id="1", area_id="411").parse(
        replace(recorded, body=json.dumps(dates).encode())
    )

    assert [(i.starts, i.data["label"], i.category, i.data["colour"]) for i in items] == [
        (date(2027, 1, 2), "Papiertonne", WasteCategory.PAPER, "#4223ff"),
        (date(2027, 1, 9), "Christbaum", WasteCategory.CHRISTMAS_TREE, "#344f4f"),
    ]


@pytest.mark.parametrize(
    ("body", "related"),
    [
        (b"<html><body>Fatal error</body></html>", True),
        (b'{"error": "unknown city"}', True),
        (b'[{"id": "1", "title": "Bioabfall", "trash_name": "HOM_BIO"}]', True),
        (b'[{"id": "1", "trash_name": "NOPE", "day": "2026-07-20"}]', True),
        (b"[]", False),
    ],
)
def test_wrong_shapes_raise_parse_error(recorded, feed_info, body, related):
    payload = replace(recorded, body=body, related=recorded.related if related else {})
    with pytest.raises(ParseError):
        Source(feed_info, service="hom", city_id="1", area_id="411").parse(payload)


def test_options_accept_numeric_ids_and_refuse_odd_services():
    loaded = Options().load({"service": "zaw", "city_id": 106, "area_id": "94"})

    assert (loaded["city_id"], loaded["area_id"], loaded["base_url"]) == ("106", "94", None)
    with pytest.raises(ValidationError):
        Options().load({"service": "evil.example/", "city_id": 1, "area_id": 1})
    with pytest.raises(ValidationError):
        Options().load({"service": "zaw", "city_id": "Darmstadt", "area_id": 1})
