"""Helpers shared by the editorial desk tests: feeds, users and tokens made through the real CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from feedserver.cli import main

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SECRET_ENV = "FEEDSERVER_TEST_DESK_SECRET"
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
