"""Generic CSV waste tables: encodings, delimiters, date formats, column mapping and wrong shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError

from feedserver.errors import ParseError
from feedserver.fetch import Payload
from kinds.waste.vocabulary import WasteCategory
from sources.csv import Options, Source, detect_delimiter

CHARLEROI = "csv/wallonia_ods_calendrier-des-collectes-2026_charleroi.csv"
ODS_COLUMNS = {"date": "date", "type": "type", "area": "commune"}
GERMAN_COLUMNS = {"date": "Datum", "type": "Abfallart", "area": "Bezirk"}


def source(feed_info, columns=GERMAN_COLUMNS, **options) -> Source:
    return Source(feed_info, url="http://example.org/abfall.csv", columns=columns, **options)


def payload(body: bytes) -> Payload:
    return Payload(body=body, url="http://example.org/abfall.csv", content_type="text/csv")


def test_opendatasoft_export_with_bom_semicolons_and_crlf(httpserver, http, feed_info, fixture_bytes):
    body = fixture_bytes(CHARLEROI)
    assert body.startswith(b"\xef\xbb\xbfcommune;type;date") and b"\r\n" in body
    httpserver.expect_request("/exports/csv").respond_with_data(body, content_type="text/csv; charset=utf-8")
    charleroi = Source(
        feed_info, url=httpserver.url_for("/exports/csv"), columns=ODS_COLUMNS, categories={"V / PC": "paper"}
    )

    items = charleroi.parse(charleroi.fetch(http))

    assert len(items) == 52
    first = items[0]
    assert (first.starts, first.title, first.area, first.category) == (
        date(2026, 1, 2),
        "Morgen: PMC (Charleroi)",
        "Charleroi",
        WasteCategory.PACKAGING,
    )
    assert first.published == datetime(2026, 1, 1, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    february = [(i.starts, i.data["label"], i.category) for i in items if i.starts.month == 2]
    assert february == [
        (date(2026, 2, 13), "PMC", WasteCategory.PACKAGING),
        (date(2026, 2, 13), "V / PC", WasteCategory.PAPER),
        (date(2026, 2, 27), "PMC", WasteCategory.PACKAGING),
        (date(2026, 2, 27), "V / PC", WasteCategory.PAPER),
    ]


def test_ids_are_stable_and_include_the_area(feed_info, fixture_bytes):
    recorded = payload(fixture_bytes(CHARLEROI))
    charleroi = source(feed_info, ODS_COLUMNS)
    first, second = (
        charleroi.parse(recorded),
        charleroi.parse(replace(recorded, fetched_at=datetime(2030, 1, 1))),
    )

    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == len(first)
    assert first[0].key == "2026-01-02|pmc|charleroi"
    without_area = source(feed_info, {"date": "date", "type": "type"}).parse(recorded)
    assert without_area[0].key == "2026-01-02|pmc|" and without_area[0].area is None


def test_cp1252_table(feed_info):
    body = "Datum;Abfallart;Bezirk\r\n05.01.2026;Restmüll;Süd\r\n07.01.2026;Grünschnitt;Süd\r\n".encode(
        "cp1252"
    )

    items = source(feed_info, encoding="cp1252").parse(payload(body))

    assert [(i.starts, i.data["label"], i.category, i.area) for i in items] == [
        (date(2026, 1, 5), "Restmüll", WasteCategory.RESIDUAL, "Süd"),
        (date(2026, 1, 7), "Grünschnitt", WasteCategory.GARDEN, "Süd"),
    ]
    with pytest.raises(ParseError, match="encoding"):
        source(feed_info).parse(payload(body))


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
@pytest.mark.parametrize("written", ["2026-03-09", "09.03.2026", "09/03/2026", "2026-03-09T00:00:00+01:00"])
def test_delimiters_and_date_formats_are_recognised(feed_info, delimiter, written):
    rows = [["Bezirk", "Datum", "Abfallart"], ["Nord", written, "Altpapier"], ["Nord", written, "Bioabfall"]]
    body = "\n".join(delimiter.join(row) for row in rows).encode()

    assert detect_delimiter(body.decode()) == delimiter
    items = source(feed_info).parse(payload(body))
    assert [(i.starts, i.category) for i in items] == [
        (date(2026, 3, 9), WasteCategory.PAPER),
        (date(2026, 3, 9), WasteCategory.ORGANIC),
    ]


def test_configured_date_format_delimiter_quotes_and_blank_lines(feed_info):
    body = b'Datum,Abfallart,Bezirk\n"20260310","Gelbe Tonne, Wertstoffe",Ost\n,,\n\n20260311,Glas,Ost\n'

    items = source(feed_info, delimiter=",", date_format="%Y%m%d").parse(payload(body))

    assert [(i.starts, i.data["label"], i.category) for i in items] == [
        (date(2026, 3, 10), "Gelbe Tonne, Wertstoffe", WasteCategory.PACKAGING),
        (date(2026, 3, 11), "Glas", WasteCategory.GLASS),
    ]


def test_header_names_match_ignoring_case(feed_info):
    body = b"DATUM;abfallart;bezirk\n2026-04-01;Restabfall;West\n"

    assert source(feed_info).parse(payload(body))[0].area == "West"


def test_a_missing_column_is_named_with_the_header(feed_info, fixture_bytes):
    with pytest.raises(ParseError) as caught:
        source(feed_info, {"date": "date", "type": "fraction", "area": "commune"}).parse(
            payload(fixture_bytes(CHARLEROI))
        )

    assert "'fraction'" in str(caught.value)
    assert "commune, type, date, samedi" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"<!DOCTYPE html>\n<html><head><title>Wartung</title></head><body>Bitte warten</body></html>",
            "HTML",
        ),
        (b"", "empty"),
        (b"Datum;Abfallart;Bezirk\n31.02.2026;Restabfall;Nord\n", "line 2"),
        (b"Datum;Abfallart;Bezirk\n;;\n", "no row"),
        (b"Datum Abfallart Bezirk\n2026-01-01 Rest Nord\n", "delimiter"),
    ],
)
def test_wrong_shapes_raise_parse_error(feed_info, body, message):
    with pytest.raises(ParseError, match=message):
        source(feed_info).parse(payload(body))


def test_options_schema():
    loaded = Options().load({"url": "https://example.org/a.csv", "columns": {"date": "Datum", "type": "Art"}})

    assert loaded["columns"] == {"date": "Datum", "type": "Art", "area": None}
    assert (loaded["encoding"], loaded["delimiter"], loaded["date_format"]) == ("utf-8", None, None)
    for wrong in (
        {"columns": {"date": "Datum"}},
        {"columns": {"date": "Datum", "type": "Art"}, "encoding": "klingon"},
        {"columns": {"date": "Datum", "type": "Art"}, "delimiter": ";;"},
    ):
        with pytest.raises(ValidationError):
            Options().load({"url": "https://example.org/a.csv", **wrong})
