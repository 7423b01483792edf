"""regio iT AbfallNavi: the address walk, joining dates with waste types, suggestions and lookup."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError

import sources.abfallnavi as abfallnavi
from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Payload
from kinds.waste.vocabulary import WasteCategory
from sources.abfallnavi import Source, hex_colour, lookup

AACHEN_PLACE, ABTEIPLATZ, ABTEIPLATZ_7 = 11578729, 11718098, 11718105
ROETGEN, AM_SPORTPLATZ, AM_SPORTPLATZ_2, AM_KLOSTER = 19789289, 22847533, 22847535, 22847505


def serve_json(httpserver, path: str, body: bytes, query_string=None) -> None:
    httpserver.expect_request(path, query_string=query_string).respond_with_data(
        body, content_type="application/json;charset=UTF-8"
    )


def fraktion_query(fraktionen: bytes) -> str:
    return "&".join(f"fraktion={record['id']}" for record in json.loads(fraktionen))


@pytest.fixture
def aachen(httpserver, fixture_bytes):
    """Aachen as the service answers: the street list only carries house numbers for its first street."""
    street = json.loads(fixture_bytes("abfallnavi/aachen_strassen_11718098_Abteiplatz.json"))
    other = {**street, "id": 1, "name": "Adalbertsteinweg", "hausNrList": []}
    fraktionen = fixture_bytes("abfallnavi/aachen_fraktionen.json")
    serve_json(httpserver, "/orte", fixture_bytes("abfallnavi/aachen_orte.json"))
    serve_json(
        httpserver, f"/orte/{AACHEN_PLACE}/strassen", json.dumps([other, {**street, "hausNrList": []}])
    )
    serve_json(
        httpserver,
        f"/strassen/{ABTEIPLATZ}",
        fixture_bytes("abfallnavi/aachen_strassen_11718098_Abteiplatz.json"),
    )
    serve_json(httpserver, "/fraktionen", fraktionen)
    serve_json(
        httpserver,
        f"/hausnummern/{ABTEIPLATZ_7}/termine",
        fixture_bytes("abfallnavi/aachen_hausnummern_11718105_termine.json"),
        fraktion_query(fraktionen),
    )
    return httpserver


@pytest.fixture
def roetgen(httpserver, fixture_bytes):
    """The ZEW service (zew2) with its recorded street list of Roetgen."""
    serve_json(httpserver, "/orte", fixture_bytes("abfallnavi/zew2_orte.json"))
    serve_json(
        httpserver,
        f"/orte/{ROETGEN}/strassen",
        fixture_bytes("abfallnavi/zew2_orte_19789289_strassen_Roetgen.json"),
    )
    serve_json(
        httpserver,
        f"/strassen/{AM_SPORTPLATZ}",
        fixture_bytes("abfallnavi/zew2_strassen_22847533_AmSportplatz.json"),
    )
    serve_json(httpserver, "/fraktionen", fixture_bytes("abfallnavi/zew2_fraktionen.json"))
    return httpserver


def aachen_source(feed_info, httpserver, **options) -> Source:
    defaults = {"service": "aachen", "place": "Aachen", "street": "Abteiplatz", "house_number": "7"}
    return Source(feed_info, base_url=httpserver.url_for("").rstrip("/"), **{**defaults, **options})


def by_day(items, day: date):
    return sorted((i for i in items if i.starts == day), key=lambda i: i.title)


def test_aachen_walks_the_address_and_joins_waste_types(aachen, http, feed_info):
    source = aachen_source(feed_info, aachen)
    items = source.parse(source.fetch(http))

    assert len(items) == 92
    first = items[0]
    assert (first.starts, first.title, first.area) == (date(2026, 1, 6), "Morgen: Gelber Sack", "A8")
    assert first.category == WasteCategory.PACKAGING
    assert first.data["colour"] == "#ffd700"
    assert first.published == datetime(2026, 1, 5, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert first.summary == "Gelber Sack: Abholung am Dienstag, 06.01.2026."
    on_13th = by_day(items, date(2026, 1, 13))
    assert [(i.data["label"], i.category, i.area) for i in on_13th] == [
        ("Altpapier 4wö", WasteCategory.PAPER, "A10"),
        ("Bio 2wö", WasteCategory.ORGANIC, "A11"),
        ("Restabfall 2wö", WasteCategory.RESIDUAL, "A11"),
        ("Weihnachtsbaum", WasteCategory.CHRISTMAS_TREE, "A12"),
    ]
    assert [i.starts for i in items] == sorted(i.starts for i in items)


def test_roetgen_matches_names_ignoring_case_and_asks_the_street_for_house_numbers(
    roetgen, http, feed_info, fixture_bytes
):
    fraktionen = fixture_bytes("abfallnavi/zew2_fraktionen.json")
    serve_json(
        roetgen,
        f"/hausnummern/{AM_SPORTPLATZ_2}/termine",
        fixture_bytes("abfallnavi/zew2_hausnummern_22847535_termine.json"),
        fraktion_query(fraktionen),
    )
    source = Source(
        feed_info,
        service="zew2",
        place="ROETGEN",
        street="am sportplatz",
        house_number="2",
        base_url=roetgen.url_for("").rstrip("/"),
    )
    items = source.parse(source.fetch(http))

    assert len(items) == 92
    assert (items[0].starts, items[0].data["label"], items[0].area) == (date(2026, 1, 3), "Altpapier", "E4")
    trees = [i for i in items if i.category == WasteCategory.CHRISTMAS_TREE]
    assert [(i.starts, i.data["label"], i.area) for i in trees] == [
        (trees[0].starts, "Weihnachtsbäume", "E3")
    ]
    assert {i.data["colour"] for i in items if i.data["label"] == "Restmüll 2W"} == {"#c0c0c0"}


def test_street_without_house_numbers_uses_the_street_dates(roetgen, http, feed_info, fixture_bytes):
    streets = json.loads(fixture_bytes("abfallnavi/zew2_orte_19789289_strassen_Roetgen.json"))
    kloster = next(s for s in streets if s["id"] == AM_KLOSTER)
    assert kloster["hausNrList"] == []
    serve_json(roetgen, f"/strassen/{AM_KLOSTER}", json.dumps(kloster))
    serve_json(
        roetgen,
        f"/strassen/{AM_KLOSTER}/termine",
        fixture_bytes("abfallnavi/zew2_hausnummern_22847535_termine.json"),
    )
    source = Source(
        feed_info,
        service="zew2",
        place="Roetgen",
        street="Am Kloster",
        base_url=roetgen.url_for("").rstrip("/"),
    )

    assert len(source.parse(source.fetch(http))) == 92


@pytest.mark.parametrize(
    ("options", "option", "suggestions"),
    [
        ({"street": "Abteiplaz"}, "street", ["Abteiplatz"]),
        ({"place": "Achen"}, "place", ["Aachen"]),
        ({"house_number": "7a"}, "house_number", ["7"]),
        ({"house_number": None}, "house_number", ["2-4", "6", "7", "9", "11", "13"]),
    ],
)
def test_a_wrong_address_names_the_option_and_the_closest_matches(
    aachen, http, feed_info, options, option, suggestions
):
    with pytest.raises(OptionError) as caught:
        aachen_source(feed_info, aachen, **options).fetch(http)

    assert caught.value.option == option
    assert caught.value.suggestions == suggestions


def test_house_numbers_match_without_spaces_and_case(roetgen, http, feed_info, fixture_bytes):
    serve_json(
        roetgen,
        "/hausnummern/22847539/termine",
        fixture_bytes("abfallnavi/zew2_hausnummern_22847535_termine.json"),
    )
    source = Source(
        feed_info,
        service="zew2",
        place="Roetgen",
        street="Am Sportplatz",
        house_number="6a",
        base_url=roetgen.url_for("").rstrip("/"),
    )

    assert source.fetch(http).url.endswith("/hausnummern/22847539/termine")


def test_lookup_walks_places_streets_and_house_numbers(roetgen, http):
    base = roetgen.url_for("").rstrip("/")

    places = lookup(http, base)
    streets = lookup(http, base, place="roetgen")
    numbers = lookup(http, base, place="Roetgen", street="Am Sportplatz")

    assert len(places) == 25 and (str(ROETGEN), "Roetgen") in places and ("17794026", "Nörvenich") in places
    assert len(streets) == 106 and (str(AM_SPORTPLATZ), "Am Sportplatz") in streets
    assert len(numbers) == 13 and (str(AM_SPORTPLATZ_2), "2") in numbers and ("22847539", "6 A") in numbers
    assert lookup(http, base, place="Rötgen") == streets  # the umlaut spelling finds 'Roetgen' and back
    with pytest.raises(OptionError) as caught:
        lookup(http, base, place="Nörvenick")
    assert caught.value.suggestions[0] == "Nörvenich"


def test_default_host_falls_back_to_the_shared_host(aachen, http, feed_info, monkeypatch):
    monkeypatch.setattr(abfallnavi, "DEFAULT_BASE_URL", "http://127.0.0.1:1/abfall-app-{service}/rest")
    monkeypatch.setattr(abfallnavi, "FALLBACK_BASE_URL", aachen.url_for("").rstrip("/"))
    source = Source(feed_info, service="aachen", place="Aachen", street="Abteiplatz", house_number="7")

    assert len(source.parse(source.fetch(http))) == 92


@pytest.fixture
def recorded(fixture_bytes) -> Payload:
    """The Aachen dates with their waste types, as fetch returns them."""
    fraktionen = Payload(body=fixture_bytes("abfallnavi/aachen_fraktionen.json"), url="http://x/fraktionen")
    return Payload(
        body=fixture_bytes("abfallnavi/aachen_hausnummern_11718105_termine.json"),
        url="http://x/termine",
        related={"fraktionen": fraktionen},
    )


def test_ids_are_stable_and_unique(recorded, feed_info):
    source = Source(feed_info, service="aachen", place="Aachen", street="Abteiplatz")
    first, second = source.parse(recorded), source.parse(replace(recorded, fetched_at=datetime(2030, 1, 1)))

    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == len(first)


def test_unsorted_dates_district_lists_and_unknown_waste_types(recorded, feed_info):
    termine = [
        {
            "id": 2,
            "bezirk": [{"name": "B1", "fraktionId": 99}],
            "datum": "2026-03-02",
            "info": "Nachholtermin",
        },
        {"id": 1, "bezirk": {"name": "A8", "fraktionId": 1}, "datum": "2026-03-01"},
    ]
    source = Source(feed_info, service="aachen", place="Aachen", street="Abteiplatz")
    items = source.parse(replace(recorded, body=json.dumps(termine).encode()))

    assert [(i.starts, i.data["label"], i.category, i.area) for i in items] == [
        (date(2026, 3, 1), "Gelber Sack", WasteCategory.PACKAGING, "A8"),
        (date(2026, 3, 2), "Fraktion 99", WasteCategory.OTHER, "B1"),
    ]
    assert items[1].summary.endswith("Nachholtermin")
    assert "colour" not in items[1].data


@pytest.mark.parametrize(
    ("body", "related"),
    [
        (b"<!DOCTYPE html><html><body>Wartungsarbeiten</body></html>", True),
        (b'{"error": "not found"}', True),
        (b'[{"id": 1, "datum": "2026-01-01"}]', True),
        (b'[{"id": 1, "bezirk": {"name": "A1"}, "datum": "2026-01-01"}]', True),
        (b'[{"id": 1, "bezirk": {"name": "A1", "fraktionId": 0}, "datum": "13.01.2026"}]', True),
        (b"[]", False),
    ],
)
def test_wrong_shapes_raise_parse_error(recorded, feed_info, body, related):
    payload = replace(recorded, body=body, related=recorded.related if related else {})
    with pytest.raises(ParseError):
        Source(feed_info, service="aachen", place="Aachen", street="Abteiplatz").parse(payload)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("228B22", "#228b22"),
        ("C0C0C0C0", "#c0c0c0"),
        ("#0074ff", "#0074ff"),
        ("abc", "#aabbcc"),
        ("99999", None),
        ("", None),
        (None, None),
    ],
)
def test_colours_become_rrggbb(value, expected):
    assert hex_colour(value) == expected


@pytest.mark.parametrize("service", ["aachen", "aw-bgl2", "zew2"])
def test_services_are_host_name_labels(service):
    assert abfallnavi.Options().load({"service": service, "place": "A", "street": "B"})["service"] == service


@pytest.mark.parametrize("service", ["evil.example/", "Aachen", "", "a b"])
def test_other_services_are_refused(service):
    with pytest.raises(ValidationError):
        abfallnavi.Options().load({"service": service, "place": "A", "street": "B"})


def test_cli_lookup_prints_ids_and_a_config_snippet(roetgen, tmp_path):
    from click.testing import CliRunner

    from feedserver.cli import main
    from tests.conftest import write_config

    config = str(write_config(tmp_path, ""))
    base = roetgen.url_for("").rstrip("/")
    run = lambda *args: CliRunner().invoke(  # noqa: E731
        main, ["--config", config, "lookup", "abfallnavi", "--service", "zew2", "--base-url", base, *args]
    )
    numbers = run("--place", "Roetgen", "--street", "Am Sportplatz")
    assert numbers.exit_code == 0, numbers.output
    assert "13 house numbers:" in numbers.output and "22847539  6 A" in numbers.output
    assert 'street = "Am Sportplatz"' in numbers.output and 'source = "abfallnavi"' in numbers.output
    streets = run("--place", "Roetgen")
    assert "106 streets:" in streets.output and "Am Sportplatz" in streets.output
    wrong = run("--place", "Nörvenick")
    assert wrong.exit_code == 1 and "Nörvenich" in wrong.output
