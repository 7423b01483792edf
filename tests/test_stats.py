"""Usage statistics: requests and 304s per feed, format and day, subscriber and follower counts, and nothing
personal anywhere in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text

from feedserver.push import records, stats
from feedserver.tables import stats_daily
from tests.conftest import refresh_feed
from tests.push_support import Upstream, feed_table

READER = {
    "User-Agent": "ReaderApp/9.9 (unique-agent-7f3a)",
    "X-Forwarded-For": "203.0.113.77",
    "Referer": "https://referrer.example/private-page",
    "Accept-Language": "en",
}


@pytest.fixture
def app(make_app, httpserver):
    upstream = Upstream(httpserver, [5, 4])
    app = make_app(feed_table(upstream.url))
    assert refresh_feed(app, "waste-test").ok
    return app


def rows(app) -> list[dict]:
    stats.flush(app)
    with app.extensions["feedserver"].store.engine.connect() as connection:
        return [dict(r) for r in connection.execute(select(stats_daily)).mappings()]


def counts(app) -> dict[str, tuple[int, int]]:
    return {r["format"]: (r["requests"], r["not_modified"]) for r in rows(app) if r["requests"]}


def test_requests_and_304s_are_counted_per_feed_format_and_day(app):
    client = app.test_client()
    first = client.get("/feeds/waste-test.atom", headers=READER)
    assert first.status_code == 200
    again = client.get("/feeds/waste-test.atom", headers=READER | {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    client.get(
        "/feeds/waste-test.atom?category=organic", headers=READER
    )  # filtered: the same feed and format
    client.get("/feeds/waste-test.rss", headers=READER)
    client.get("/feeds/nope.atom", headers=READER)  # 404s are not counted: no row for made-up ids
    client.get("/feeds/waste-test.xml", headers=READER)
    assert counts(app) == {"atom": (3, 1), "rss": (1, 0)}
    (atom,) = [r for r in rows(app) if r["format"] == "atom"]
    assert atom["feed_id"] == "waste-test"
    assert atom["day"] == datetime.now(ZoneInfo("Europe/Berlin")).date()  # the server's time zone

    summary = client.get("/api/v1/stats?days=7").get_json()
    (feed,) = summary["feeds"]
    assert feed["formats"]["atom"] == {"requests": 3, "not_modified": 1, "websub_subscribers": 0}
    assert feed["formats"]["json"]["requests"] == 0
    assert feed["activitypub_followers"] == 0
    assert "No IP addresses" in summary["privacy"]


def test_counts_reach_the_database_without_an_explicit_flush(app):
    app.extensions[stats.EXTENSION].flush_every = 0  # every request crosses the flush mark
    app.test_client().get("/feeds/waste-test.json")
    with app.extensions["feedserver"].store.engine.connect() as connection:
        stored = connection.execute(
            select(stats_daily.c.requests).where(stats_daily.c.format == "json")
        ).scalar()
    assert stored == 1


def test_nothing_personal_is_stored_anywhere(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"  # the reader's address, as the server sees it
    for path in (
        "/feeds/waste-test.atom",
        "/feeds/waste-test.ics",
        "/",
        "/feeds/waste-test",
        "/api/v1/feeds",
    ):
        client.get(path, headers=READER)
    stats.flush(app)
    engine = app.extensions["feedserver"].store.engine
    assert {c["name"] for c in inspect(engine).get_columns("stats_daily")} == {
        "day",
        "feed_id",
        "format",
        "requests",
        "not_modified",
        "subscribers",
    }
    personal = ("198.51.100.23", "203.0.113.77", "unique-agent-7f3a", "referrer.example", "private-page")
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            dump = " ".join(str(row) for row in connection.execute(text(f'SELECT * FROM "{table}"')))
            for value in personal:
                assert value not in dump, (table, value)


def test_hub_requests_are_not_counted_as_readers(app):
    base = app.extensions["feedserver"].settings.server.base_url
    response = app.test_client().post(
        "/websub",
        data={
            "hub.mode": "subscribe",
            "hub.topic": f"{base}/feeds/waste-test.json",
            "hub.callback": "http://a.example/",
        },
    )  # the hub GETs the topic internally to validate it
    assert response.status_code == 202
    assert counts(app) == {}


def test_subscribers_and_followers_are_counted_per_day(app):
    runtime = app.extensions["feedserver"]
    now = datetime.now(UTC)
    base = runtime.settings.server.base_url
    engine = runtime.store.engine
    for n in range(2):
        records.save_subscription(
            engine,
            f"{base}/feeds/waste-test.rss",
            f"http://s{n}.example/cb",
            "waste-test",
            "rss",
            None,
            600,
            now,
        )
    records.add_follower(
        engine, "waste-test", records.Follower("https://m.example/users/a", "https://m.example/in", None), now
    )
    stats.record_audience(runtime, now)
    by_format = {r["format"]: r["subscribers"] for r in rows(app)}
    assert by_format["rss"] == 2 and by_format["atom"] == 0 and by_format["activitypub"] == 1
    summary = app.test_client().get("/api/v1/stats").get_json()["feeds"][0]
    assert summary["formats"]["rss"]["websub_subscribers"] == 2 and summary["activitypub_followers"] == 1


def test_staff_page_and_parameter_checks(app):
    client = app.test_client()
    client.get("/feeds/waste-test.atom")
    page = client.get("/stats?lang=en&days=7")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Usage statistics" in html and '<th scope="row">atom</th><td>1</td>' in html
    for bad in ("0", "367", "x", "-1"):
        response = client.get(f"/api/v1/stats?days={bad}")
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == "days must be a whole number from 1 to 366."
