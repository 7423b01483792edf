"""Open311 GeoReport v2: recorded Mark-a-Spot (JSON) and FixMyStreet (XML) payloads from a local GeoReport
server, status changes superseding each other, the tracking view, ?near=, ?service= and a failing server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest
import time_machine

from feedserver.fetch import Payload
from feedserver.items import FeedInfo
from sources import open311
from tests.conftest import refresh_feed
from tests.georeport_server import FIXTURES, GeoReportServer

NOW = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
# The request each implementation's recorded steps move on: received -> in progress -> done (PROVENANCE.md)
STEPS = {
    "markaspot": ("SR-2024-001234", ("requests.json", "requests-in-progress.json", "requests-closed.json")),
    "fixmystreet": ("638344", ("requests.xml", "requests-investigating.xml", "requests-closed.xml")),
}
BROMLEY, GLOUCESTER = (51.4021, 0.01578), (51.896268, -2.093063)


@pytest.fixture
def georeport(request):
    """A local GeoReport server for the implementation named by the test's parameter."""
    server = GeoReportServer(getattr(request, "param", "markaspot"))
    yield server
    server.stop()


def feed_table(server: GeoReportServer, extra: str = "", language: str = "de") -> str:
    return f"""
[feeds.reports]
source = "open311"
title = "Mängelmelder"
language = "{language}"
every = "5m"
attribution = "Stadt Test"
endpoint = "{server.endpoint}"
format = "{server.format}"
{extra}
"""


def payload(implementation: str, requests: str) -> Payload:
    ext = requests.rpartition(".")[2]
    services = Payload(body=(FIXTURES / implementation / f"services.{ext}").read_bytes(), url="services")
    return Payload(
        body=(FIXTURES / implementation / requests).read_bytes(),
        url="requests",
        related={"services": services},
    )


def source(implementation: str, language: str = "de") -> open311.Source:
    fmt = "json" if implementation == "markaspot" else "xml"
    return open311.Source(FeedInfo(id="reports", language=language), endpoint="http://unused", format=fmt)


def walk(app, server: GeoReportServer, steps) -> None:
    """Poll the feed once per recorded step the server answers with (a request moving on)."""
    for step in steps:
        server.serve(step)
        result = refresh_feed(app, "reports")
        assert result.ok, result.error


def titles_of(response, fmt: str) -> list[str]:
    """The item titles of a feed answer (feedparser reads RSS and Atom, json the JSON Feed)."""
    if fmt == "json":
        return [item["title"] for item in response.get_json()["items"]]
    return [entry.title for entry in feedparser.parse(response.data).entries]


def requests_of(items) -> list:
    return [item for item in items if item.data.get("request_id")]


def test_markaspot_request_carries_status_notes_agency_expected_address_place_and_media_link():
    (item,) = requests_of(source("markaspot").parse(payload("markaspot", "requests.json")))
    assert item.data["request_id"] == "SR-2024-001234"
    assert item.data["status"] == "open" and item.data["stage"] == item.category == "received"
    assert item.data["status_notes"] == "Assigned to maintenance team"
    assert item.data["agency_responsible"] == "Streets Department"
    assert item.data["address"] == "123 Main Street" and item.area == "12345"
    assert (item.data["lat"], item.data["lon"]) == (51.4339, 6.7509)
    assert item.data["media_url"] == "https://example.com/sites/default/files/report-123.jpg"
    assert "expected" not in item.data  # null upstream
    assert item.published == datetime(2024, 1, 15, 14, 20, tzinfo=UTC)
    assert item.title == "Meldung SR-2024-001234, Pothole, 123 Main Street: eingegangen"
    assert "Large pothole on Main Street" in item.summary and "Assigned to maintenance team" in item.summary


def test_fixmystreet_xml_requests_in_english_with_their_expected_time():
    items = requests_of(source("fixmystreet", "en").parse(payload("fixmystreet", "requests.xml")))
    assert [i.data["request_id"] for i in items] == ["638344", "638345", "638346"]
    first, second, _ = items
    assert first.title == "Report 638344, Sidewalk and Curb Issues: received"
    assert second.title == "Report 638345, Not Sidewalk and Curb Issues: in progress"  # "investigating"
    assert first.data["expected"] == "2010-04-15T06:37:38-08:00"
    assert "agency_responsible" not in first.data  # empty upstream


def test_non_public_requests_are_never_published():
    items = requests_of(source("fixmystreet").parse(payload("fixmystreet", "requests-places.xml")))
    assert [i.data["request_id"] for i in items] == ["638344", "638345", "638346", "22032542"]  # not 123456


@pytest.mark.parametrize("implementation", ["markaspot", "fixmystreet"])
def test_ids_are_stable_and_services_are_state_not_messages(implementation):
    first = source(implementation).parse(payload(implementation, STEPS[implementation][1][0]))
    again = source(implementation).parse(payload(implementation, STEPS[implementation][1][0]))
    assert [i.id for i in first] == [i.id for i in again]
    services = [i for i in first if not i.data.get("request_id")]
    assert services and all(i.data["kind"] == "reading" for i in services)


def test_an_answer_is_capped_below_the_pipelines_items_per_fetch():
    request = json.loads((FIXTURES / "markaspot" / "requests.json").read_bytes())[0]
    many = [request | {"service_request_id": str(n)} for n in range(open311.MAX_REQUESTS + 10)]
    services = Payload(body=(FIXTURES / "markaspot" / "services.json").read_bytes(), url="s")
    items = source("markaspot").parse(Payload(json.dumps(many).encode(), "r", related={"services": services}))
    assert len(requests_of(items)) == open311.MAX_REQUESTS and len(items) <= 5000


def test_xml_with_a_document_type_declaration_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><service_requests>&a;</service_requests>'
    services = Payload(body=(FIXTURES / "fixmystreet" / "services.xml").read_bytes(), url="s")
    with pytest.raises(open311.ParseError):
        source("fixmystreet").parse(Payload(body=bomb, url="r", related={"services": services}))


def test_an_html_page_is_a_parse_error_not_an_empty_feed():
    services = Payload(body=(FIXTURES / "markaspot" / "services.json").read_bytes(), url="s")
    with pytest.raises(open311.ParseError):
        source("markaspot").parse(
            Payload(body=b"Service unavailable", url="r", related={"services": services})
        )


@pytest.mark.parametrize("georeport", ["markaspot", "fixmystreet"], indirect=True)
def test_each_status_change_is_one_item_superseding_the_one_before(make_app, georeport):
    number, steps = STEPS[georeport.implementation]
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        walk(app, georeport, steps)
        document = app.test_client().get("/feeds/reports.json").get_json()
    chain = [i for i in document["items"] if i["_feedserver"]["request_id"] == number]
    assert [i["_feedserver"]["stage"] for i in chain] == ["done", "in_progress", "received"]  # newest first
    ids = [i["id"].removeprefix("urn:uuid:") for i in chain]
    assert [i["_feedserver"]["supersedes"] for i in chain] == [[ids[1]], [ids[2]], []]
    assert chain[0]["title"].endswith(": erledigt") and chain[1]["title"].endswith(": in Bearbeitung")


@pytest.mark.parametrize("georeport", ["markaspot", "fixmystreet"], indirect=True)
@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_the_tracking_url_shows_one_requests_timeline_in_every_feed_format(make_app, georeport, fmt):
    number, steps = STEPS[georeport.implementation]
    app = make_app(feed_table(georeport, language="en"))
    with time_machine.travel(NOW, tick=False):
        walk(app, georeport, steps)
        response = app.test_client().get(f"/feeds/reports.{fmt}?request={number}")
    assert response.status_code == 200
    titles = titles_of(response, fmt)
    assert [t.rpartition(": ")[2] for t in titles] == ["done", "in progress", "received"]
    assert all(t.startswith(f"Report {number}, ") for t in titles)


@pytest.mark.parametrize("georeport", ["markaspot"], indirect=True)
def test_the_api_gives_each_request_its_timeline(make_app, georeport):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        walk(app, georeport, STEPS["markaspot"][1][:2])
        client = app.test_client()
        feed = client.get("/api/v1/feeds/reports").get_json()["data"]
        items = client.get("/api/v1/feeds/reports/items?request=SR-2024-001234").get_json()["data"]
    (request,) = feed["requests"]
    assert request["stage"] == "in_progress" and request["status_notes"] == "Maintenance crew dispatched"
    assert [(s["stage"], s["reached"]) for s in request["timeline"]] == [
        ("received", True),
        ("in_progress", True),
        ("done", False),
    ]
    assert len(items) == 2


@pytest.mark.parametrize("georeport", ["fixmystreet"], indirect=True)
def test_near_selects_by_distance(make_app, georeport):
    georeport.serve("requests-places.xml")
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        refresh_feed(app, "reports")
        client = app.test_client()
        near = lambda lat, lon, radius: [  # noqa: E731
            item["_feedserver"]["request_id"]
            for item in client.get(f"/feeds/reports.json?near={lat},{lon},{radius}").get_json()["items"]
        ]
        assert sorted(near(*BROMLEY, 1000)) == ["638344", "638345", "638346"]
        assert near(*GLOUCESTER, 1000) == ["22032542"]
        assert near(51.65, -1.0, 1000) == []  # between the two, 70 km from each
        assert len(near(51.65, -1.0, 100000)) == 4


@pytest.mark.parametrize(
    "value", ["51.4,0.01", "91,0,100", "51.4,0.01,0", "51.4,0.01,100001", "a,b,c", "nan,0,1"]
)
def test_a_bad_near_value_is_a_400_problem_that_does_not_repeat_it(make_app, georeport, value):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        refresh_feed(app, "reports")
        response = app.test_client().get(f"/feeds/reports.rss?near={value}")
        api = app.test_client().get(f"/api/v1/feeds/reports/items?near={value}")
    for answer in (response, api):
        assert answer.status_code == 400
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.get_json()["parameter"] == "near" and value not in answer.get_data(as_text=True)


def test_an_unknown_service_is_a_400_naming_the_parameter_and_offering_the_services(make_app, georeport):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        refresh_feed(app, "reports")
        client = app.test_client()
        unknown = client.get("/feeds/reports.atom?service=<script>9.9.9</script>")
        graffiti = client.get("/feeds/reports.atom?service=4.1.1")  # a service of the city without a request
        pothole = client.get("/feeds/reports.atom?service=Pothole")
    assert unknown.status_code == 400 and unknown.get_json()["parameter"] == "service"
    assert "script" not in unknown.get_data(as_text=True)
    assert {"3.2.1", "4.1.1", "Graffiti", "Pothole"} <= set(unknown.get_json()["valid"])
    assert graffiti.status_code == 200 and feedparser.parse(graffiti.data).entries == []
    assert len(feedparser.parse(pothole.data).entries) == 1


def test_status_filter_takes_stages(make_app, georeport):
    georeport.serve("requests-in-progress.json")
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        refresh_feed(app, "reports")
        client = app.test_client()
        in_progress = feedparser.parse(client.get("/feeds/reports.rss?status=in_progress").data).entries
        done = feedparser.parse(client.get("/feeds/reports.rss?status=done").data).entries
        wrong = client.get("/feeds/reports.rss?status=lost")
    assert len(in_progress) == 1 and done == [] and wrong.status_code == 400


def test_a_failing_server_leaves_the_last_good_items_served_and_marked_stale(make_app, georeport):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        assert refresh_feed(app, "reports").ok
        client = app.test_client()
        good = client.get("/feeds/reports.atom")
        georeport.failing = True
        failed = refresh_feed(app, "reports")
        stale = client.get("/feeds/reports.atom")
        status = client.get("/api/v1/feeds/reports").get_json()["meta"]
    assert not failed.ok and "HTTP 502" in failed.error
    assert stale.status_code == 200 and stale.data == good.data
    assert stale.headers["Feedserver-Status"].startswith("stale; since=")
    assert status["status"] == "stale"


def test_api_key_from_the_environment_and_jurisdiction_reach_the_server(make_app, monkeypatch):
    server = GeoReportServer("markaspot", api_key="k-31337", jurisdiction="bonn.de")
    monkeypatch.setenv("OPEN311_KEY", "k-31337")
    try:
        extra = 'jurisdiction_id = "bonn.de"\nservice_codes = ["3.2.1"]\napi_key = { env = "OPEN311_KEY" }'
        app = make_app(feed_table(server, extra))
        with time_machine.travel(NOW, tick=False):
            result = refresh_feed(app, "reports")
        assert result.ok, result.error
        services, requests = server.seen
        assert services == {"api_key": "k-31337", "jurisdiction_id": "bonn.de"}
        assert requests == services | {"service_code": "3.2.1"}
    finally:
        server.stop()


def test_a_wrong_api_key_is_an_upstream_error_without_the_key(make_app, monkeypatch):
    server = GeoReportServer("markaspot", api_key="right")
    monkeypatch.setenv("OPEN311_KEY", "wrong-key-value")
    try:
        app = make_app(feed_table(server, 'api_key = { env = "OPEN311_KEY" }'))
        with time_machine.travel(NOW, tick=False):
            result = refresh_feed(app, "reports")
            status = json.dumps(app.test_client().get("/api/v1/status").get_json())
        assert not result.ok and "HTTP 401" in result.error
        assert "wrong-key-value" not in result.error and "wrong-key-value" not in status
    finally:
        server.stop()


@pytest.mark.parametrize("georeport", ["fixmystreet"], indirect=True)
def test_geojson_has_each_requests_current_status_as_a_point_in_lon_lat_order(make_app, georeport):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        walk(app, georeport, STEPS["fixmystreet"][1])
        client = app.test_client()
        whole = client.get("/feeds/reports.geojson")
        near = client.get(f"/feeds/reports.geojson?near={BROMLEY[0]},{BROMLEY[1]},50")
        far = client.get("/feeds/reports.geojson?near=51.65,-1.0,1000")
        tracked = client.get("/feeds/reports.geojson?request=638344")
        bad = client.get("/feeds/reports.geojson?near=0,0,-1")
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "application/geo+json"
    document = whole.get_json()
    assert document["type"] == "FeatureCollection" and document["attribution"] == "Stadt Test"
    features = document["features"]
    # three requests, each once: 638344's latest status (closed) stands for its superseded ones
    assert sorted(f["properties"]["request_id"] for f in features) == ["638344", "638345", "638346"]
    for feature in features:
        assert feature["type"] == "Feature" and feature["geometry"] == {
            "type": "Point",
            "coordinates": [BROMLEY[1], BROMLEY[0]],  # RFC 7946: longitude first
        }
    (closed,) = tracked.get_json()["features"]
    assert closed["properties"]["stage"] == "done" and closed["properties"]["supersedes"]
    assert len(near.get_json()["features"]) == 3 and far.get_json()["features"] == []
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "near"


def test_the_feed_page_links_the_map_data_in_both_languages(make_app, georeport):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        refresh_feed(app, "reports")
        client = app.test_client()
        pages = {
            lang: client.get(f"/feeds/reports?lang={lang}").get_data(as_text=True) for lang in ("de", "en")
        }
    link = 'type="application/geo+json" title="Mängelmelder (GeoJSON)" href="http://127.0.0.1:8000/feeds/reports.geojson"'
    assert all(link in page for page in pages.values())
    assert "Auf einer Karte" in pages["de"] and "On a map" in pages["en"]
    assert "On a map" not in pages["de"] and "Auf einer Karte" not in pages["en"]


def test_a_feed_without_places_has_no_geojson(make_app):
    app = make_app('[feeds.waste]\nsource = "ics"\ntitle = "Abfall"\nurl = "http://127.0.0.1:9/cal.ics"\n')
    response = app.test_client().get("/feeds/waste.geojson")
    assert response.status_code == 404 and "geojson" not in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_widget_shows_a_tracked_requests_timeline_in_both_languages(make_app, georeport, lang):
    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        walk(app, georeport, STEPS["markaspot"][1][:2])
        page = app.test_client().get(f"/widgets/reports?lang={lang}&mode=full&request=SR-2024-001234")
        unknown = app.test_client().get(f"/widgets/reports?lang={lang}&request=4711")
    html = page.get_data(as_text=True)
    words = {
        "de": ("Bearbeitungsstand der Meldung SR-2024-001234", "eingegangen", "in Bearbeitung", "noch nicht"),
        "en": ("Progress of report SR-2024-001234", "received", "in progress", "not yet"),
    }[lang]
    assert page.status_code == 200 and all(word in html for word in words)
    assert '<li aria-current="step"><strong>' + words[2] in html  # where the report stands
    assert "Maintenance crew dispatched" in html  # the status notes, in full mode
    assert html.count('<time class="fsw-when"') == 2  # received and in progress are dated; done is not yet
    other = {"de": "not yet", "en": "noch nicht"}[lang]
    assert other not in html
    assert unknown.status_code == 200 and "SR-2024-001234" not in unknown.get_data(as_text=True)


def test_the_feed_page_and_the_timeline_widget_are_valid_html_in_both_languages(
    make_app, georeport, tmp_path
):
    from tests.test_html_valid import check

    app = make_app(feed_table(georeport))
    with time_machine.travel(NOW, tick=False):
        walk(app, georeport, STEPS["markaspot"][1][:2])
        client = app.test_client()
        pages = {
            f"{path}?lang={lang}": client.get(f"{path}?lang={lang}&mode=full").data
            for path in ("/feeds/reports", "/widgets/reports")
            for lang in ("de", "en")
        }
    assert check(pages, tmp_path) == []
