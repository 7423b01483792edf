"""Client hardening: headers per route class, trusted hosts, no open redirects, no cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Response

from feedserver.app import create_app
from feedserver.web.security import route_class
from tests.conftest import refresh_feed, write_config

CALENDAR = "ics/awb_limburg_weilburg_export.ics"
FEEDS = """
[feeds.waste-test]
source = "ics"
title = "Abfuhr Test"
url = "{url}"

[feeds.waste-pending]
source = "ics"
title = "Never fetched"
url = "http://localhost:9/never.ics"
"""
TRUSTED = 'trusted_hosts = ["feeds.city.example", ".stadt.example"]'


@pytest.fixture
def app(make_app, httpserver, fixture_bytes):
    httpserver.expect_request("/abfall.ics").respond_with_data(
        fixture_bytes(CALENDAR), content_type="text/calendar"
    )
    app = make_app(FEEDS.format(url=httpserver.url_for("/abfall.ics")))
    assert refresh_feed(app, "waste-test").ok
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def _csp(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path",
    ["/feeds/waste-test.rss", "/feeds/waste-test.ics", "/api/v1/feeds", "/openapi.json", "/opml", "/healthz"],
)
def test_feeds_and_api_are_readable_from_any_origin_and_inert(client, path):
    response = client.get(path, headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert route_class(path) == "data"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _csp(response)["default-src"] == "default-src 'none'"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_cors_preflight_for_conditional_requests(client):
    response = client.options(
        "/feeds/waste-test.json",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("path", ["/", "/feeds/waste-test", "/api/docs"])
def test_html_pages_use_own_styles_and_scripts_only_and_are_never_framed(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = _csp(response)
    assert csp["default-src"] == "default-src 'none'" and csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["script-src"] == "script-src 'self'"  # static/copy.js only: no inline script, no other origin
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("path", ["/widgets/waste-test", "/widget.js", "/widget.css"])
def test_widgets_may_be_framed_and_nothing_else_is_loosened(client, path):
    response = client.get(path)  # also holds for the 404 until the widget routes exist
    csp = _csp(response)
    assert csp["frame-ancestors"] == "frame-ancestors *"
    assert csp["default-src"] == "default-src 'none'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/admin/no-such-page"])
def test_admin_is_never_framed_nor_stored(client, path):
    response = client.get(path)
    assert _csp(response)["frame-ancestors"] == "frame-ancestors 'none'"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_error_responses_are_cached_briefly_at_most(client):
    missing = client.get("/feeds/nope.rss")
    assert missing.status_code == 404 and missing.cache_control.max_age <= 60
    assert missing.headers["Content-Type"] == "application/problem+json"
    pending = client.get("/feeds/waste-pending.rss")
    assert pending.status_code == 503 and pending.headers["Cache-Control"] == "no-store"


@pytest.fixture
def trusting_client(tmp_path, app):
    """A client of an app whose [server] names extra trusted hosts (same database as `app`)."""
    path = write_config(tmp_path, FEEDS.format(url="http://localhost:9/x.ics"))
    path.write_text(path.read_text().replace('title = "Test city"', f'title = "Test city"\n{TRUSTED}'))
    return create_app(path).test_client()


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1.evil.example", "feeds.city.example.evil", "FEEDS.CITY.EXAMPLE.EVIL"]
)
def test_unknown_hosts_get_a_400_problem_without_echo(trusting_client, host):
    response = trusting_client.get("/feeds/waste-test.rss", headers={"Host": host})
    assert response.status_code == 400 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert host.encode() not in response.data and b"evil" not in response.data


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8000",
        "localhost",
        "feeds.city.example",
        "www.stadt.example",
        "Feeds.City.Example",
        "WWW.STADT.example",
    ],
)
def test_base_url_host_loopback_and_configured_hosts_are_trusted(trusting_client, host):
    assert trusting_client.get("/feeds/waste-test.rss", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/",
        "///evil.example/feeds",
        "/\\evil.example/",
        "//evil.example/%2e%2e/feeds/waste-test.rss",
        "/feeds/waste-test.rss/",
        "/admin",
        "/feeds//waste-test.rss",
        "/?next=https://evil.example/",
        "/admin/login?next=//evil.example/",
    ],
)
def test_no_redirect_leaves_the_server(client, path):
    response = client.get(path)
    location = response.headers.get("Location")
    if location is not None:
        target = urlsplit(location)
        assert target.netloc in ("", "localhost", "127.0.0.1:8000"), location
        assert "evil" not in location
    assert response.status_code != 500


@pytest.mark.parametrize(
    "path,status",
    [
        ("/?lang=" + "e" * 5000, 414),
        ("/feeds/waste-test.rss?category=" + "a" * 1500, 414),
        ("/feeds/" + "a" * 2000, 414),
        ("/opml?" + "&".join(f"p{n}=1" for n in range(60)), 400),
        ("/feeds/waste-test.json?" + "&".join("category=organic" for _ in range(60)), 400),
    ],
)
def test_absurd_requests_are_refused_without_echo(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert b"aaaaaaaaaa" not in response.data and b"eeeeeeeeee" not in response.data


SAMPLE_ARGUMENTS = {"feed_id": "waste-test", "fmt": "rss", "filename": "style.css", "announcement_id": 1}


def _public_get_urls(app) -> list[str]:
    urls = []
    with app.test_request_context(base_url="http://127.0.0.1:8000"):
        adapter = app.url_map.bind("127.0.0.1:8000")
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith("/admin"):
                continue
            values = {name: SAMPLE_ARGUMENTS.get(name, "x") for name in rule.arguments}
            urls.append(adapter.build(rule.endpoint, values, method="GET"))
    return urls


def test_no_public_route_sets_a_cookie(client, app):
    urls = _public_get_urls(app)
    assert {"/", "/feeds/waste-test.rss", "/feeds/waste-test", "/opml", "/healthz"} <= set(urls)
    for url in urls:
        for headers in ({}, {"Cookie": "session=forged; feedserver_admin=x"}):
            response = client.get(url, headers=headers)
            assert response.status_code < 500, url
            assert "Set-Cookie" not in response.headers, url
            assert response.headers["X-Content-Type-Options"] == "nosniff", url


def test_a_cookie_set_by_mistake_on_a_public_route_is_dropped(make_app, caplog):
    app = make_app(FEEDS.format(url="http://localhost:9/x.ics"))

    @app.get("/feeds-debug")
    def leaky():
        response = Response("x")
        response.set_cookie("tracker", "1")
        return response

    response = app.test_client().get("/feeds-debug")
    assert "Set-Cookie" not in response.headers
    assert "dropping a Set-Cookie header" in caplog.text


DATA_HEADERS = (
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
)


def test_feed_answers_carry_the_data_headers_whether_whole_revalidated_or_filtered(client):
    """The feed view builds its headers itself (the hot path skips the after_request hook): they must be
    exactly those the hook gives every other data route."""
    reference = client.get("/opml")
    whole = client.get("/feeds/waste-test.atom")
    revalidated = client.get("/feeds/waste-test.atom", headers={"If-None-Match": whole.headers["ETag"]})
    category = client.get("/feeds/waste-test.json").json["items"][0]["tags"][0]
    narrowed = client.get("/feeds/waste-test.atom", query_string={"category": category})
    assert (whole.status_code, revalidated.status_code, narrowed.status_code) == (200, 304, 200)
    for response in (whole, revalidated, narrowed):
        assert {name: response.headers.get(name) for name in DATA_HEADERS} == {
            name: reference.headers[name] for name in DATA_HEADERS
        }
        assert 'rel="hub"' in response.headers["Link"]
        assert response.headers["Cache-Control"].startswith("public")
    assert whole.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert int(whole.headers["Content-Length"]) == len(whole.data) > 0
    # RFC 9110 15.4.5: the 304 repeats ETag and caching headers; no body, no content headers.
    assert revalidated.headers["ETag"] == whole.headers["ETag"] and revalidated.data == b""
    assert not {"Content-Type", "Content-Length", "Last-Modified"} & set(revalidated.headers.keys())
    assert narrowed.headers["ETag"] != whole.headers["ETag"]


def test_https_servers_send_hsts_on_every_route_class(tmp_path, app):
    path = write_config(tmp_path, FEEDS.format(url="http://localhost:9/x.ics"))
    path.write_text(path.read_text().replace("http://127.0.0.1:8000", "https://feeds.city.example"))
    client = create_app(path).test_client()
    etag = client.get("/feeds/waste-test.rss").headers["ETag"]
    answers = [
        client.get("/feeds/waste-test.rss"),
        client.get("/feeds/waste-test.rss", headers={"If-None-Match": etag}),
        client.get("/api/v1/feeds"),
        client.get("/"),
        client.get("/widgets/waste-test"),
        client.get("/feeds/nope.rss"),
    ]
    assert [a.status_code for a in answers] == [200, 304, 200, 200, 200, 404]
    for answer in answers:
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000", answer.request.path
