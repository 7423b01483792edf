"""Every route answers its errors in kind: a browser (Accept: text/html first) gets an HTML page in its
language, a program (*/*, JSON, problem+json) gets application/problem+json, whatever the route and error:
unknown ids, wrong methods, bad filters, refused requests, a rate limit, an unexpected exception."""

from __future__ import annotations

import re

import pytest

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PROGRAMS = ("*/*", "application/json", "application/problem+json")
FEEDS = '[feeds.waste-a]\nsource = "ics"\ntitle = "A"\nurl = "https://example.org/a.ics"\n'
ERRORS = (
    ("GET", "/feeds/waste-a.rss"),  # 503: never fetched
    ("GET", "/feeds/waste-a.ics?alarm=99"),
    ("GET", "/feeds/waste-a.rss?category=zzz"),
    ("GET", "/feeds/waste-a.xml"),
    ("GET", "/api/v1/feeds/waste-a/items?category=zzz"),
    ("GET", "/api/v1/feeds/waste-a/items?limit=abc"),
    ("GET", "/widgets/waste-a?view=bad"),
    ("GET", "/widgets/waste-a/charts/X/o3.svg"),
    ("POST", "/"),
    ("DELETE", "/feeds/waste-a.rss"),
    ("GET", "/nowhere"),
    ("GET", "/" + "a" * 2000),
    ("GET", "/?" + "&".join(f"a{n}=1" for n in range(60))),
    ("GET", "/.well-known/webfinger?resource=acct:x@y"),
    ("POST", "/ap/feeds/waste-a/inbox"),
    ("GET", "/api/v1/desk/me"),
    ("POST", "/websub"),
    ("GET", "/admin/"),  # 503: no secret_key
    ("GET", "/boom"),  # 500
)


@pytest.fixture
def app(make_app):
    app = make_app(FEEDS, "[api]\nrate_limit_enabled = false\n")

    @app.get("/boom")
    def boom():
        raise RuntimeError("an unexpected failure")

    return app


def every_route_with_unknown_arguments(app) -> list[tuple[str, str]]:
    """Each route and method of the app, its arguments filled with names nothing has."""
    asks = []
    for rule in app.url_map.iter_rules():
        path = re.sub(
            r"<(?:[^:>]+:)?[^>]+>", lambda m: "0" if ":announcement_id" in m[0] else "nowhere", rule.rule
        )
        path = path.replace("<int:session_id>", "0")
        asks += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return asks


def check(client, method: str, path: str) -> int | None:
    """The status when the request is an error answered in kind for every client; None when it is no error."""
    page = client.open(path, method=method, headers={"Accept": BROWSER, "Accept-Language": "en"})
    if page.status_code < 400:
        return None
    assert page.mimetype == "text/html", (method, path, page.status_code, page.mimetype)
    assert "<!DOCTYPE html>" in page.get_data(as_text=True)
    for accept in PROGRAMS:
        answer = client.open(path, method=method, headers={"Accept": accept})
        assert answer.status_code == page.status_code, (method, path, accept)
        assert answer.mimetype == "application/problem+json", (method, path, accept, answer.mimetype)
        assert answer.json["status"] == answer.status_code and answer.json["title"]
    return page.status_code


def test_every_route_answers_a_browser_with_a_page_and_a_program_with_problem_json(app):
    client = app.test_client()
    statuses = {check(client, method, path) for method, path in every_route_with_unknown_arguments(app)}
    statuses |= {check(client, method, path) for method, path in ERRORS}
    assert {400, 401, 404, 405, 414, 415, 500, 503} <= statuses


def test_the_rate_limit_is_answered_in_kind_too(make_app):
    client = make_app(FEEDS, '[api]\nrate_limit = "2/minute"\n').test_client()
    for _ in range(2):
        assert client.get("/api/v1/feeds").status_code == 200
    assert check(client, "GET", "/api/v1/feeds") == 429
