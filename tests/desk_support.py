"""Helpers shared by the editorial desk tests: feeds, users and tokens made through the real CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from click.testing import CliRunner

from feedserver.app import create_app
from feedserver.cli import main
from tests.conftest import refresh_feed, write_config

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
API = "/api/v1/desk"
DRAFT = {"feed": "presse", "title": "Stadtfest am Markt", "text": "Musik und Essen."}
SECRET_ENV = "FEEDSERVER_TEST_DESK_SECRET"
ADMIN_SECRET = "a-test-secret-that-is-long-enough-0123456789"
PASSWORDS = {"anna": "anna-has-a-long-password", "bernd": "bernd-has-a-long-password"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
COOKIE = "feedserver_admin"
CALENDAR = "ics/awb_limburg_weilburg_export.ics"

ANNOUNCEMENT_FEEDS = """
[feeds.presse]
source = "announcements"
title = "Pressemitteilungen"
every = "1h"
attribution = "Pressestelle"
office = "presse"

[feeds.bauamt]
source = "announcements"
title = "Baustellen"
every = "1h"
office = "bauamt"
"""


def desk_feeds(waste_url: str | None = None) -> str:
    """Two announcements feeds (offices presse and bauamt), plus a waste feed when a URL is given."""
    if waste_url is None:
        return ANNOUNCEMENT_FEEDS
    return (
        ANNOUNCEMENT_FEEDS
        + f"""
[feeds.waste-test]
source = "ics"
title = "Abfuhr Test"
every = "6h"
url = "{waste_url}"
"""
    )


def desk_app(make_app, *refreshed: str, waste_url: str | None = None):
    """A fresh app on desk_feeds(waste_url) whose `refreshed` feeds had their first refresh."""
    app = make_app(desk_feeds(waste_url))
    for feed_id in refreshed:
        assert refresh_feed(app, feed_id).ok  # what the scheduler does first
    return app


def serve_calendar(httpserver, fixture_bytes) -> str:
    """The recorded waste calendar on 127.0.0.1; returns its URL."""
    httpserver.expect_request("/abfall.ics").respond_with_data(
        fixture_bytes(CALENDAR), content_type="text/calendar; charset=utf-8"
    )
    return httpserver.url_for("/abfall.ics")


def cli(app, *args: str, input: str | None = None):
    """Run `feedserver --config <the app's config> ...` and insist it succeeded."""
    path = app.extensions["feedserver"].settings.path
    result = CliRunner().invoke(main, ["--config", path, *args], input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def add_user(app, name: str, role: str, *offices: str) -> None:
    """`feedserver users add NAME --role ROLE --office ...`."""
    cli(app, "users", "add", name, "--role", role, *[arg for o in offices for arg in ("--office", o)])


def token_for(app, name: str) -> str:
    """`feedserver tokens create NAME`: the token is the one line on stdout."""
    return cli(app, "tokens", "create", name).stdout.strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff(app) -> dict[str, str]:
    """The cast with their tokens: two presse approvers, a presse author, a bauamt author and approver."""
    add_user(app, "anna", "approver", "presse")
    add_user(app, "bernd", "approver", "presse")
    add_user(app, "paul", "author", "presse")
    add_user(app, "carl", "author", "bauamt")
    add_user(app, "dora", "approver", "bauamt")
    return {name: token_for(app, name) for name in ("anna", "bernd", "paul", "carl", "dora")}


# --- the desk API: drafts, edits and approvals with a staff member's token -------------------------------
def create(client, token, **fields):
    """POST a new announcement: DRAFT with `fields` instead where given; the response."""
    return client.post(f"{API}/announcements", json=DRAFT | fields, headers=bearer(token))


def new_announcement(client, token, **fields) -> int:
    """create() and insist it worked; the new announcement's id."""
    response = create(client, token, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def edit(client, token, announcement_id: int, **changes) -> int:
    """PATCH an announcement and insist it worked; its new current version."""
    response = client.patch(f"{API}/announcements/{announcement_id}", json=changes, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["current_version"]


def approve(client, token, announcement_id: int, version: int):
    """POST an approval of one version; the response."""
    url = f"{API}/announcements/{announcement_id}/approve"
    return client.post(url, json={"version": version}, headers=bearer(token))


def publish(client, tokens, **fields) -> dict:
    """Draft as paul, approve as anna: the four-eyes path every published announcement takes."""
    approved = approve(client, tokens["anna"], new_announcement(client, tokens["paul"], **fields), 1)
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()


# --- /admin: an app with a secret key, and browsers that log in through the form -------------------------
def admin_app(tmp_path, monkeypatch, extra: str = "", storage_url: str = "", feeds: str | None = None):
    """An app whose [server] has secret_key = { env = ... }, with two presse approvers who have passwords
    (on desk_feeds() unless `feeds` says otherwise)."""
    monkeypatch.setenv(SECRET_ENV, ADMIN_SECRET)
    path = write_config(tmp_path, feeds or desk_feeds(), extra, storage_url=storage_url)
    server_key = f'[server]\nsecret_key = {{ env = "{SECRET_ENV}" }}\n'
    path.write_text(path.read_text().replace("[server]\n", server_key, 1))
    app = create_app(path)
    app.config["TESTING"] = True
    assert refresh_feed(app, "presse").ok
    for name, password in PASSWORDS.items():
        add_user(app, name, "approver", "presse")
        set_password(app, name, password)
    return app


def set_password(app, name: str, password: str) -> None:
    """`feedserver users password NAME` with the password typed twice."""
    cli(app, "users", "password", name, input=f"{password}\n{password}\n")


def csrf_of(response) -> str:
    """The CSRF token in a page's forms."""
    return CSRF.search(response.get_data(as_text=True)).group(1)


def login(app, name: str, password: str | None = None, address: str = "127.0.0.1"):
    """A browser (test client) from `address` that went through the login form."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    response = login_attempt(browser, name, password or PASSWORDS[name])
    assert response.status_code == 302 and response.headers["Location"] == "/admin/", response.status_code
    return browser


def login_attempt(browser, name: str, password: str):
    """One POST of the login form with a fresh page's CSRF token."""
    token = csrf_of(browser.get("/admin/login"))
    return browser.post("/admin/login", data={"name": name, "password": password, "csrf_token": token})


def session_cookie(browser) -> str | None:
    """The value of the browser's /admin session cookie."""
    cookie = browser.get_cookie(COOKIE, path="/admin")
    return cookie.value if cookie is not None else None


def draft(browser, **fields):
    """Submit the new-announcement form (a presse message unless `fields` say otherwise)."""
    token = csrf_of(browser.get("/admin/new"))
    form = {
        "feed": "presse",
        "title": "Wochenmarkt fällt aus",
        "text": "Wegen Glätte.",
        "csrf_token": token,
    } | fields
    return browser.post("/admin/new", data=form)
