"""The JSON API end to end: catalogue, kind data, paging, filters, errors, validators, CORS, rate limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine

from feedserver.api_query import CURSOR_PATTERN, TEXT_VALUE_PATTERN
from feedserver.items import make_item
from feedserver.registry import load_source, source_kinds
from kinds.waste.vocabulary import WasteCategory
from tests.api_support import feed_tables, ingest, populate, serve_upstreams

BERLIN = ZoneInfo("Europe/Berlin")
BIG = "waste-big"
CATEGORIES = [c.value for c in WasteCategory]
ENDPOINTS = [
    "/api/v1/feeds",
    "/api/v1/feeds/waste-town",
    "/api/v1/feeds/waste-town/items",
    "/api/v1/sources",
    "/api/v1/status",
]
BIG_TABLE = f"""
[feeds.{BIG}]
source = "ics"
title = "Viele Termine"
url = "http://127.0.0.1:9/none.ics"
"""


def big_items(today: date, count: int = 450):
    """A calendar of `count` pickups from yesterday on; ten pickups share each reminder time."""
    items = []
    for n in range(count):
        day = today + timedelta(days=n // 10 - 1)
        published = datetime.combine(day - timedelta(days=1), time(18), tzinfo=BERLIN)
        category = CATEGORIES[n % len(CATEGORIES)]
        items.append(
            make_item(
                BIG,
                f"{day}|{n}",
                title=f"Morgen: {category} {n}",
                published=published,
                starts=day,
                category=category,
                data={"label": f"Tonne {n % len(CATEGORIES)}"},
            )
        )
    return items


@pytest.fixture(scope="module")
def app(tmp_path_factory, make_httpserver):
    """A feed of every kind, polled once, plus a big calendar; no rate limit (tests call it a lot)."""
    from feedserver.app import create_app
    from tests.conftest import write_config

    urls = serve_upstreams(make_httpserver)
    config = write_config(
        tmp_path_factory.mktemp("api"), feed_tables(urls) + BIG_TABLE, "[api]\nrate_limit_enabled = false\n"
    )
    app = create_app(config)
    app.config["TESTING"] = True
    populate(app)
    ingest(app, BIG, big_items(datetime.now(BERLIN).date()))
    make_httpserver.clear()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def walk(client, url: str) -> tuple[list[dict], int]:
    """Follow Link rel=next from url to the last page; all items and the number of pages."""
    seen, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += body["data"]
        pages += 1
        link = response.headers.get("Link")
        assert (link is None) == (body["links"]["next"] is None)
        url = link.split(";")[0].strip("<>").removeprefix("http://127.0.0.1:8000") if link else None
        assert pages < 500
    return seen, pages


def messages_of(app, feed_id: str):
    return [
        i
        for i in app.extensions["feedserver"].store.current_items(feed_id)
        if i.data.get("kind") != "reading"
    ]


# --- catalogue, feed, sources, status --------------------------------------------------------------------


def test_catalogue_lists_every_feed_with_formats_filters_and_health(client, app):
    body = client.get("/api/v1/feeds").get_json()
    feeds = {f["id"]: f for f in body["data"]}
    assert list(feeds) == sorted(app.extensions["feedserver"].settings.feeds)  # pages in the order of ids
    town = feeds["waste-town"]
    assert town["kind"] == "waste" and town["source"] == "ics"
    assert [f["format"] for f in town["formats"]] == ["rss", "atom", "json", "ics"]
    assert town["formats"][0]["url"] == "http://127.0.0.1:8000/feeds/waste-town.rss"
    category = next(f for f in town["filters"] if f["name"] == "category")
    assert category["type"] == "choice" and set(CATEGORIES) <= set(category["values"])
    air = {f["name"]: f for f in feeds["air-mitte"]["filters"]}
    assert air["component"]["values"] == ["o3"] and air["station"]["values"] == ["Berlin Mitte", "DEBE034"]
    assert air["min_value"]["type"] == "minimum" and air["min_value"]["maximum"] == 100000
    assert town["licence"]["id"] == "dl-de/by-2-0" and town["attribution"] == "Stadt Erlensee"
    assert feeds["air-mitte"]["licence"]["id"] == "dl-de/zero-2-0"
    assert town["status"]["status"] == "ok" and town["status"]["last_success"]
    assert feeds["waste-new"]["status"]["status"] == "pending"
    assert feeds["waste-broken"]["status"]["status"] == "stale"
    assert (
        body["meta"]["status"] == "stale" and body["meta"]["last_success"] is None
    )  # one feed never fetched
    assert body["meta"]["generated_at"] and body["meta"]["licence"]["id"] == "dl-de/by-2-0"


def test_meta_tells_the_datas_age_health_and_licence(client, app):
    state = app.extensions["feedserver"].store.feed_state("waste-town")
    meta = client.get("/api/v1/feeds/waste-town/items").get_json()["meta"]
    assert meta["status"] == "ok" and meta["stale_since"] is None
    assert datetime.fromisoformat(meta["last_success"]) == state.last_success
    assert datetime.fromisoformat(meta["last_change"]) == state.data_changed_at
    assert meta["licence"] == {
        "id": "dl-de/by-2-0",
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "url": "https://www.govdata.de/dl-de/by-2-0",
    }
    broken = client.get("/api/v1/feeds/waste-broken")
    assert broken.get_json()["meta"]["status"] == "stale" and broken.get_json()["meta"]["stale_since"]
    assert broken.headers["Feedserver-Status"].startswith("stale")


def test_status_reports_each_feeds_health(client):
    body = client.get("/api/v1/status").get_json()
    status = {s["id"]: s for s in body["data"]}
    broken = status["waste-broken"]
    assert broken["status"] == "stale" and broken["failures"] == 1 and broken["last_success"] is None
    assert broken["last_attempt"] and broken["stale_since"] and "500" in broken["last_error"]
    assert status["waste-new"] == {
        "id": "waste-new",
        "title": "Neu",
        "kind": "waste",
        "status": "pending",
        "last_success": None,
        "last_attempt": None,
        "last_change": None,
        "stale_since": None,
        "failures": 0,
        "next_attempt": None,
        "last_error": None,
    }
    assert status["waste-town"]["failures"] == 0 and status["waste-town"]["last_error"] is None


def test_error_messages_lose_url_query_strings():
    from feedserver.store import FeedState
    from feedserver.web.api.data import health

    state = FeedState(
        id="x",
        failures=2,
        stale_since=datetime.now(UTC),
        last_error="UpstreamError: https://api.example.org/v3/x?api_key=s3cret&y=1 answered 500",
    )
    assert health(state)["last_error"] == "UpstreamError: https://api.example.org/v3/x?… answered 500"


def test_sources_lists_every_kind_with_its_options(client):
    sources = {s["name"]: s for s in client.get("/api/v1/sources").get_json()["data"]}
    assert list(sources) == list(source_kinds())
    for name, entry in sources.items():
        module = load_source(name)
        assert entry["kind"] == module.KIND and entry["title"] == module.TITLE
        assert [o["name"] for o in entry["options"]] == list(module.OPTIONS().fields)
    ics = {o["name"]: o for o in sources["ics"]["options"]}
    assert ics["url"]["required"] is True and ics["url"]["type"] == "url"
    assert ics["reminder"] == {
        "name": "reminder",
        "type": "clocktime",
        "required": False,
        "default": "18:00",
        "description": "",
    }
    assert sources["uba_air"]["filters"] == ["component", "station", "min_value", "near"]


# --- kind-specific data ----------------------------------------------------------------------------------


def test_waste_feed_has_the_next_pickup_per_category(client, app):
    today = datetime.now(BERLIN).date()
    pickups = client.get(f"/api/v1/feeds/{BIG}").get_json()["data"]["next_pickups"]
    expected = {}
    for item in messages_of(app, BIG):
        if item.starts >= today and (
            item.category not in expected or item.starts < expected[item.category][0]
        ):
            expected[item.category] = (item.starts, item.id)
    assert {p["category"]: (date.fromisoformat(p["date"]), p["item_id"]) for p in pickups} == expected
    assert len(pickups) == len(CATEGORIES)
    assert [p["date"] for p in pickups] == sorted(p["date"] for p in pickups)
    assert all(p["label"].startswith("Tonne ") for p in pickups)


def test_next_pickups_are_cached_only_until_local_midnight(client, app):
    just_before = datetime.combine(datetime.now(BERLIN).date(), time(23, 59, 30), tzinfo=BERLIN)
    with time_machine.travel(just_before, tick=False):
        response = client.get(f"/api/v1/feeds/{BIG}")
    assert response.headers["Cache-Control"] == "public, max-age=30"


def test_air_feed_has_current_readings_with_the_48_hour_series(client):
    data = client.get("/api/v1/feeds/air-mitte").get_json()["data"]
    [reading] = data["readings"]
    assert reading["component"] == "o3" and reading["station"] == "DEBE034" and reading["unit"] == "µg/m³"
    assert len(reading["series"]) == 48
    assert reading["value"] == reading["series"][-1]["value"] == 135.0
    assert reading["measured_at"] == reading["series"][-1]["at"]
    assert max(p["value"] for p in reading["series"]) == 195.0
    assert reading["thresholds"] == {"info": 180.0, "alert": 240.0}
    assert reading["level"] is None and reading["stale"] is False
    assert "next_pickups" not in data and "delays" not in data


def test_air_items_are_the_threshold_crossings(client):
    items = client.get("/api/v1/feeds/air-mitte/items?limit=200").get_json()["data"]
    assert items and all(i["data"]["kind"] == "threshold" for i in items)
    assert {i["data"]["level"] for i in items} == {"info", "all-clear"}


def test_transit_feed_has_current_delays(client, app):
    data = client.get("/api/v1/feeds/transit-bart").get_json()["data"]
    stored = [i for i in messages_of(app, "transit-bart") if i.data.get("type") in ("delay", "cancellation")]
    assert len(data["delays"]) == len(stored) > 0
    assert {d["item_id"] for d in data["delays"]} == {i.id for i in stored}
    assert all(d["delay_minutes"] >= 5 for d in data["delays"] if d["type"] == "delay")
    trip = next(d for d in data["delays"] if d["trip_id"] == "1150915WKDY")
    assert trip["delay_minutes"] == 36 and trip["stop_name"] == "Montgomery St."


def test_alert_feed_has_the_alerts_in_force_without_all_clears(client):
    alerts = client.get("/api/v1/feeds/alerts-cap").get_json()["data"]["alerts"]
    assert {a["title"] for a in alerts} == {
        "Homeland Security Sets Code ORANGE",
        "Amber Alert in Los Angeles County",
    }
    orange = next(a for a in alerts if a["title"].startswith("Homeland"))
    assert orange["severity"] == "Severe" and orange["certainty"] == "Likely"
    items = client.get("/api/v1/feeds/alerts-cap/items").get_json()["data"]
    assert len(items) == 3  # the all-clear is an item, not an alert in force


# --- items: paging and filters ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [200, 7])
def test_paging_walks_every_item_exactly_once(client, app, limit):
    seen, pages = walk(client, f"/api/v1/feeds/{BIG}/items?limit={limit}")
    ids = [i["id"] for i in seen]
    assert len(ids) == len(set(ids)) == 450
    assert set(ids) == {i.id for i in messages_of(app, BIG)}
    assert pages == -(-450 // limit)
    order = [(-datetime.fromisoformat(i["published"]).timestamp(), i["id"]) for i in seen]
    assert order == sorted(order)  # newest first; ten items share each time, ordered by id


def test_paging_default_is_50(client):
    body = client.get(f"/api/v1/feeds/{BIG}/items").get_json()
    assert len(body["data"]) == 50 and "limit=50" in body["links"]["next"]


def test_cursors_have_the_documented_form_and_any_value_of_it_is_a_position(client):
    """The document gives the cursors' exact pattern; a made-up or stale value of it pages, not 400."""
    first = client.get(f"/api/v1/feeds/{BIG}/items?limit=7").get_json()
    cursor = parse_qs(urlsplit(first["links"]["next"]).query)["cursor"][0]
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    second = client.get(f"/api/v1/feeds/{BIG}/items", query_string={"limit": 7, "cursor": cursor})
    both = client.get(f"/api/v1/feeds/{BIG}/items?limit=14").get_json()["data"]
    assert [i["id"] for i in first["data"] + second.get_json()["data"]] == [i["id"] for i in both]
    for made_up in ("A" * 32, "_" * 32, "-" * 32, "0123456789abcdefghijklmnopqrstuv"):
        response = client.get(f"/api/v1/feeds/{BIG}/items", query_string={"cursor": made_up})
        assert response.status_code == 200, made_up


def test_paging_survives_new_data_between_pages(client, app):
    today = datetime.now(BERLIN).date()
    first = client.get(f"/api/v1/feeds/{BIG}/items?limit=100").get_json()
    newer = make_item(
        BIG,
        "late-news",
        title="Neu",
        published=datetime.now(UTC) + timedelta(days=400),
        starts=today + timedelta(days=400),
        category="glass",
    )
    ingest(app, BIG, [*big_items(today), newer])
    try:
        rest, _ = walk(client, first["links"]["next"].removeprefix("http://127.0.0.1:8000"))
        ids = [i["id"] for i in first["data"] + rest]
        assert len(ids) == len(set(ids)) == 450  # the newer item sorts before the cursor: not repeated
    finally:
        ingest(app, BIG, big_items(today))


def test_filters_narrow_the_items(client, app):
    everything, _ = walk(client, f"/api/v1/feeds/{BIG}/items?limit=200")
    paper, _ = walk(client, f"/api/v1/feeds/{BIG}/items?limit=200&category=Papier")
    assert paper and {i["category"] for i in paper} == {"paper"}
    assert [i["id"] for i in paper] == [i["id"] for i in everything if i["category"] == "paper"]
    two, _ = walk(client, f"/api/v1/feeds/{BIG}/items?limit=30&category=paper,glass")
    assert {i["category"] for i in two} == {"paper", "glass"} and len(two) == 2 * len(paper)


def test_since_keeps_items_published_from_then_on(client):
    since = datetime.now(UTC).replace(microsecond=0)
    seen, _ = walk(
        client, f"/api/v1/feeds/{BIG}/items?limit=200&since={since.isoformat().replace('+00:00', 'Z')}"
    )
    everything, _ = walk(client, f"/api/v1/feeds/{BIG}/items?limit=200")
    expected = [i["id"] for i in everything if datetime.fromisoformat(i["published"]) >= since]
    assert [i["id"] for i in seen] == expected and 0 < len(expected) < 450


def test_since_takes_rfc_3339_in_either_case(client):
    """RFC 3339 allows a lower-case t and z; the document's pattern does, so the server must."""
    upper = client.get(f"/api/v1/feeds/{BIG}/items?since=2026-01-31T18:00:00.5Z")
    lower = client.get(f"/api/v1/feeds/{BIG}/items?since=2026-01-31t18:00:00.5z")
    assert upper.status_code == lower.status_code == 200
    assert upper.get_json()["data"] == lower.get_json()["data"]


def test_filter_and_paging_work_on_other_kinds(client):
    items = client.get("/api/v1/feeds/transit-bart/items?min_delay=30&limit=200").get_json()["data"]
    assert items and all(i["data"]["delay_minutes"] >= 30 for i in items)


@pytest.mark.parametrize(
    ("feed", "query"),
    [
        ("waste-town", {"category": "severe"}),  # an alert severity: valid for another kind
        ("alerts-cap", {"category": "Papier"}),  # a waste category's German name
        ("waste-town", {"line": "S1", "min_delay": "5"}),  # filters only transit feeds have
        ("air-mitte", {"station": "DEBE999"}),  # a station this feed does not measure
        ("alerts-cap", {"area": "Nirgendwo"}),  # an area without alerts now
        ("transit-bart", {"type": "cancellation"}),  # in the vocabulary, no cancellation right now
    ],
)
def test_a_documented_value_this_feed_has_nothing_for_gives_an_empty_page(client, feed, query):
    """One operation serves every kind, so every value the document admits is answered 200."""
    response = client.get(f"/api/v1/feeds/{feed}/items", query_string=query)
    assert response.status_code == 200 and response.get_json()["data"] == []


def test_the_feeds_own_values_still_narrow_its_items(client):
    everything = client.get("/api/v1/feeds/transit-bart/items?limit=200").get_json()["data"]
    delays = client.get("/api/v1/feeds/transit-bart/items?limit=200&type=Delay").get_json()["data"]
    assert delays and [i["id"] for i in delays] == [
        i["id"] for i in everything if i["data"].get("type") == "delay"
    ]
    alerts = client.get("/api/v1/feeds/alerts-cap/items?category=severe,minor").get_json()["data"]
    assert alerts and {i["category"] for i in alerts} == {"severe"}


# --- errors ----------------------------------------------------------------------------------------------

HOSTILE = "zq<script>alert(1)</script>"


def test_bad_filter_value_lists_the_valid_values_without_echoing(client):
    response = client.get(f"/api/v1/feeds/{BIG}/items", query_string={"category": HOSTILE})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["parameter"] == "category" and set(CATEGORIES) <= set(body["valid"])
    assert "zq" not in response.get_data(as_text=True) and "script" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        {"category": "paper,"},  # an empty value
        {"category": ",".join(["paper"] * 21)},  # more than 20
        {"category": "zq0"},  # no kind's category
        {"station": " DEBE034"},  # a space at the end the server would strip
        {"line": "S1\x07"},  # a control character
        {"stop": "x" * 101},  # longer than a name
        {"min_delay": "1441"},  # more than a day
        {"min_value": "-1"},
    ],
)
def test_values_the_document_does_not_admit_are_400_naming_the_filter(client, query):
    response = client.get("/api/v1/feeds/waste-town/items", query_string=query)
    assert response.status_code == 400 and response.get_json()["parameter"] == next(iter(query))
    assert "zq" not in response.get_data(as_text=True)


def test_a_name_never_starts_or_ends_with_what_the_server_strips():
    """The document's pattern and the server agree: a value the pattern admits survives str.strip whole."""
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert spaces and not any(re.fullmatch(TEXT_VALUE_PATTERN, f"{s}x") for s in spaces)
    assert not any(re.fullmatch(TEXT_VALUE_PATTERN, f"x{s}") for s in spaces)
    inside = [s for s in spaces if s == " " or s > "\x9f"]  # not a control character
    assert all(re.fullmatch(TEXT_VALUE_PATTERN, f"x{s}y") for s in inside)
    assert re.fullmatch(TEXT_VALUE_PATTERN, "Königsplatz (Gleis 2)")
    assert not re.fullmatch(TEXT_VALUE_PATTERN, "a,b")


def test_unknown_parameter_lists_the_feeds_filters(client):
    response = client.get("/api/v1/feeds/air-mitte/items", query_string={"zqline": "5"})
    body = response.get_json()
    assert response.status_code == 400 and body["valid"] == ["component", "min_value", "near", "station"]
    assert "zqline" not in response.get_data(as_text=True) and "parameter" not in body


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "zq12"}, "limit"),
        ({"since": "zq-yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),  # no offset: ambiguous
        ({"since": "2026-01-01 00:00:00Z"}, "since"),  # not the documented pattern
        ({"since": "2026-01-01T23:59:60Z"}, "since"),  # a leap second Python cannot represent
        ({"cursor": "zqnotacursor"}, "cursor"),
        ({"cursor": "WyJ6cSIsMV0"}, "cursor"),  # base64 JSON, but not a position
        ({"min_value": "zq"}, "min_value"),
    ],
)
def test_bad_paging_parameters_are_400_naming_them(client, query, parameter):
    feed = "air-mitte" if "min_value" in query else BIG
    response = client.get(f"/api/v1/feeds/{feed}/items", query_string=query)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["parameter"] == parameter and body["status"] == 400
    assert "zq" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/feeds/zq-nope", "/api/v1/feeds/zq-nope/items"])
def test_unknown_feed_is_404_problem(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Not Found" and "zq" not in response.get_data(as_text=True)


# --- HTTP: validators, caching, CORS, cookies ------------------------------------------------------------


@pytest.mark.parametrize("url", [*ENDPOINTS, "/openapi.json"])
def test_strong_etag_and_304(client, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(url)
    assert again.headers["ETag"] == etag and again.data == first.data  # same body until the data changes
    revalidated = client.get(url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert revalidated.headers["ETag"] == etag and "max-age=" in revalidated.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_when_the_data_changes(client, app):
    today = datetime.now(BERLIN).date()
    before = client.get(f"/api/v1/feeds/{BIG}/items").headers["ETag"]
    ingest(app, BIG, big_items(today)[:-1])
    try:
        response = client.get(f"/api/v1/feeds/{BIG}/items", headers={"If-None-Match": before})
        assert response.status_code == 200 and response.headers["ETag"] != before
    finally:
        ingest(app, BIG, big_items(today))


def test_catalogue_after_one_feed_changes_reloads_that_feed_only(client, app, monkeypatch):
    """The list is rebuilt from kept per-feed entries: one changed feed, one entry made, and the same JSON
    as a dump by the schema."""
    from feedserver import api_schemas
    from feedserver.web.api import routes as api
    from feedserver.web.api.data import feed_summary

    store = app.extensions["feedserver"].store
    before = client.get("/api/v1/feeds")
    made = []
    summary = api._summary
    monkeypatch.setattr(
        api, "_summary", lambda base, feed, state: made.append(feed.id) or summary(base, feed, state)
    )
    today = datetime.now(BERLIN).date()
    ingest(app, BIG, big_items(today)[:-1])
    try:
        after = client.get("/api/v1/feeds")
        assert after.headers["ETag"] != before.headers["ETag"] and made == [BIG]
        entry = next(f for f in after.get_json()["data"] if f["id"] == BIG)
        feed = app.extensions["feedserver"].settings.feeds[BIG]
        with app.test_request_context():
            expected = feed_summary(
                "http://127.0.0.1:8000", feed, store.feed_state(BIG), store.current_items(BIG)
            )
        assert entry == json.loads(json.dumps(api_schemas.FeedSummarySchema().dump(expected)))
        assert api_schemas.FeedListResponseSchema().validate(after.get_json()) == {}
    finally:
        ingest(app, BIG, big_items(today))


def test_cache_lifetime_follows_the_polling_interval(client):
    assert client.get("/api/v1/feeds/waste-town/items").headers["Cache-Control"] == "public, max-age=3600"
    assert client.get("/api/v1/status").headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize("url", [*ENDPOINTS, "/openapi.json", "/api/v1/feeds/zq/items"])
def test_any_origin_may_read_without_credentials_or_cookies(client, url):
    response = client.get(url, headers={"Origin": "https://app.example.org", "Cookie": "session=zq"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Set-Cookie" not in response.headers
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Last-Modified", "Link"} <= exposed


def test_preflight_allows_conditional_requests(client):
    response = client.options(
        f"/api/v1/feeds/{BIG}/items",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    assert "Set-Cookie" not in response.headers


# --- hot path --------------------------------------------------------------------------------------------


def test_items_are_loaded_once_per_data_version(client, app, monkeypatch):
    store = app.extensions["feedserver"].store
    calls = []
    original = store.current_items
    monkeypatch.setattr(store, "current_items", lambda feed_id: calls.append(feed_id) or original(feed_id))
    ingest(app, BIG, big_items(datetime.now(BERLIN).date())[:-2])  # a new data version
    try:
        for url in (
            f"/api/v1/feeds/{BIG}/items?limit=5",
            f"/api/v1/feeds/{BIG}/items?limit=5",
            f"/api/v1/feeds/{BIG}/items?limit=9&category=glass",
            f"/api/v1/feeds/{BIG}",
        ):
            assert client.get(url).status_code == 200
        assert calls.count(BIG) == 1
    finally:
        ingest(app, BIG, big_items(datetime.now(BERLIN).date()))


# --- rate limits -----------------------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app):
    return make_app(BIG_TABLE, '[api]\nrate_limit = "3/minute"\n')


def test_rate_limit_refuses_with_429_and_retry_after(limited_app):
    client = limited_app.test_client()
    answers = [client.get(url) for url in ("/api/v1/feeds", "/api/v1/status", "/api/v1/sources")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]  # one budget for the API
    assert all(a.headers["RateLimit-Limit"] == "3" and "Retry-After" not in a.headers for a in answers)
    assert 0 < int(answers[0].headers["RateLimit-Reset"]) <= 61  # seconds, rounded up
    refused = client.get(f"/api/v1/feeds/{BIG}")
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    other = limited_app.test_client().get("/api/v1/feeds", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200  # per client
    assert client.get("/openapi.json").status_code == 200  # the document is not counted


def test_rate_limit_can_be_switched_off(make_app):
    client = make_app(BIG_TABLE, '[api]\nrate_limit = "1/minute"\nrate_limit_enabled = false\n').test_client()
    answers = [client.get("/api/v1/status") for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert "RateLimit-Limit" not in answers[0].headers


def test_rate_limit_setting_is_checked(make_app):
    from feedserver.errors import ConfigError

    with pytest.raises(ConfigError, match="api.rate_limit"):
        make_app(BIG_TABLE, '[api]\nrate_limit = "lots"\n')


# --- documentation ---------------------------------------------------------------------------------------


def test_docs_page_renders_the_document_with_own_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    document = client.get("/openapi.json").get_json()
    for path in document["paths"]:
        assert f"<code>{path}</code>" in html.replace("&#39;", "'")
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert "<script" not in html and "cdn" not in html.lower()
    assert '<html lang="en">' in html and 'class="skip" href="#main"' in html
    assert "<caption>Parameters</caption>" in html and 'scope="col"' in html


def test_openapi_document_is_json_with_cors(client):
    response = client.get("/openapi.json")
    assert response.mimetype == "application/json"
    assert json.loads(response.data)["info"]["title"] == "Test city: API"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
