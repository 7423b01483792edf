"""NINA source: dashboard plus CAP-JSON details from warnung.bund.de, served from 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from feedserver.errors import ParseError
from sources import nina

DASHBOARD = "nina/ha_nina_dashboard_sample_warnings.json"
DETAILS = "nina/ha_nina_warning_details.json"
REGION = "081160000000"
NOW = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
CORONA = "mow.DE-BW-S-SE018-20211102-18-001"
STORM = "mow.DE-NW-BN-SE030-20201014-30-000"
BIWAPP = "biw.BIWAPP-69634"


@pytest.fixture
def upstream(httpserver, fixture_bytes):
    """Serve the recorded dashboard at the region's URL and each recorded detail at /warnings/{id}.json."""
    for warning_id, detail in json.loads(fixture_bytes(DETAILS)).items():
        httpserver.expect_request(f"/warnings/{warning_id}.json").respond_with_json(detail)
    dashboard = fixture_bytes(DASHBOARD)
    httpserver.expect_request(f"/dashboard/{REGION}.json").respond_with_data(
        dashboard, content_type="application/json"
    )
    return httpserver


def items_at(source: nina.Source, http, when: datetime = NOW):
    """Fetch over HTTP and parse as if the fetch happened at `when`."""
    return source.parse(replace(source.fetch(http), fetched_at=when))


def test_dashboard_and_details_become_items(upstream, http, feed_info):
    items = items_at(nina.Source(feed_info, region="08116", base_url=upstream.url_for("")), http)
    by_id = {i.data["identifier"]: i for i in items}
    assert set(by_id) == {CORONA, STORM}
    corona, storm = by_id[CORONA], by_id[STORM]
    assert corona.title == "Corona-Verordnung des Landes: Warnstufe durch Landesgesundheitsamt ausgerufen"
    assert (corona.category, corona.data["msg_type"], corona.data["event"]) == (
        "minor",
        "Update",
        "Gefahreninformation",
    )
    assert corona.area.startswith("Bundesland: Freie Hansestadt Bremen, Land Berlin")
    assert corona.published == datetime(2021, 11, 2, 20, 7, 16, tzinfo=CET)
    assert len(corona.data["supersedes"]) == 6  # MoWaS writes references as "senders,identifiers,sent"
    assert "<br" not in corona.summary
    assert "\n- Beachten Sie die AHA + A + L - Regeln:\nAbstand halten" in corona.summary
    # the details (Moderate) win over the dashboard's short summary (Minor, edited by the fixture's authors)
    assert (storm.title, storm.category, storm.url) == (
        "Ausfall Notruf 112",
        "moderate",
        "https://www.wettergefahren.de",
    )
    assert (storm.starts, storm.ends) == (
        datetime(2021, 11, 1, 5, 20, tzinfo=CET),
        datetime(3021, 11, 22, 5, 19, tzinfo=CET),
    )
    assert storm.data["sender"] == "opendata@dwd.de"


def test_ids_are_stable(upstream, http, feed_info):
    source = nina.Source(feed_info, region=REGION, base_url=upstream.url_for(""))
    assert [i.id for i in items_at(source, http)] == [i.id for i in items_at(source, http)]


def test_expired_warning_is_absent(httpserver, http, feed_info, fixture_bytes):
    details = json.loads(fixture_bytes(DETAILS))
    for warning_id in (STORM, BIWAPP):
        httpserver.expect_request(f"/warnings/{warning_id}.json").respond_with_json(details[warning_id])
    dashboard = [{"id": STORM}, {"id": BIWAPP}]  # the BIWAPP warning expired in 2002
    httpserver.expect_request(f"/dashboard/{REGION}.json").respond_with_json(dashboard)
    [item] = items_at(nina.Source(feed_info, region=REGION, base_url=httpserver.url_for("")), http)
    assert item.title == "Ausfall Notruf 112"


def test_details_are_bounded(upstream, http, feed_info):
    source = nina.Source(feed_info, region=REGION, base_url=upstream.url_for(""), max_alerts=1)
    [item] = items_at(source, http)
    assert item.data["identifier"] == CORONA
    assert [r.path for r, _ in upstream.log] == [f"/dashboard/{REGION}.json", f"/warnings/{CORONA}.json"]


@pytest.mark.parametrize(
    ("region", "key"),
    [
        ("08116", "081160000000"),
        ("081165432109", "081160000000"),
        ("11", "110000000000"),
        (" 09162 ", "091620000000"),
    ],
)
def test_region_is_padded_to_a_district_key(region, key):
    assert nina.dashboard_key(region) == key
    assert nina.OPTIONS().load({"region": region})["region"] == key


@pytest.mark.parametrize("region", ["", "1", "0811600000001", "08l16", 8116])
def test_bad_region_is_an_option_error(region):
    with pytest.raises(ValidationError):
        nina.OPTIONS().load({"region": region})


def test_options_defaults():
    assert nina.OPTIONS().load({"region": "08116"}) == {
        "region": "081160000000",
        "base_url": "https://warnung.bund.de/api31",
        "max_alerts": 100,
    }


@pytest.mark.parametrize(
    ("dashboard", "detail"),
    [
        pytest.param(b"<html><body>Wartung</body></html>", None, id="html-dashboard"),
        pytest.param(b'{"id": "mow.1"}', None, id="dashboard-object"),
        pytest.param(b'[{"headline": "no id"}]', None, id="entry-without-id"),
        pytest.param(b'[{"id": "mow.1"}]', b"[]", id="detail-list"),
        pytest.param(b'[{"id": "mow.1"}]', b'{"identifier": "mow.1"}', id="detail-without-cap-fields"),
    ],
)
def test_wrong_shapes_raise(httpserver, http, feed_info, dashboard, detail):
    httpserver.expect_request(f"/dashboard/{REGION}.json").respond_with_data(dashboard)
    if detail is not None:
        httpserver.expect_request("/warnings/mow.1.json").respond_with_data(detail)
    source = nina.Source(feed_info, region=REGION, base_url=httpserver.url_for(""))
    with pytest.raises(ParseError):
        items_at(source, http)
