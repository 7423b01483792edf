"""Pages are for people: every public page, widget view and desk page shows words, never Python's insides.

A template that names a dict method (`t.items` is `dict.items`) renders its repr; a missing value renders
`None`; a broken include leaves template syntax. Each page is fetched in both languages, with data of every
kind and with feeds that have none (never fetched, failing), and its HTML is searched for those leftovers.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.api_support import feed_tables, populate, serve_upstreams
from tests.desk_support import admin_app, draft, login

# "None" as a word of its own: If-None-Match is a header's name, not a missing value.
LEFTOVERS = re.compile(
    r"<built-in|<bound method|object at 0x|(?<![-\w])None(?![-\w])|\{\{|\}\}|\{%|%\}|\bundefined\b"
)
# A valid HTML date/time string has at most three digits of a fraction of a second (the Nu checker).
TOO_FINE = re.compile(r'datetime="[^"]*\.\d{4,}')
LANGUAGES = ("de", "en")
FEEDS = ("waste-town", "air-mitte", "transit-bart", "alerts-cap", "waste-broken", "waste-new")


@pytest.fixture
def client(make_app, httpserver):
    app = make_app(feed_tables(serve_upstreams(httpserver)))
    populate(app)
    return app.test_client()


def leftovers(html: str) -> list[str]:
    """Each leftover (or over-precise machine time) with a little context, so a failure says where it is."""
    found = [*LEFTOVERS.finditer(html), *TOO_FINE.finditer(html)]
    return [html[max(0, m.start() - 60) : m.end() + 20] for m in found]


def public_pages() -> list[str]:
    pages = ["/", "/api/docs", "/stats"]
    for feed_id in FEEDS:
        pages += [f"/feeds/{feed_id}", f"/widgets/{feed_id}", f"/widgets/{feed_id}?view=latest"]
    return pages


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", public_pages())
def test_public_pages_and_widget_views_show_no_leftovers(client, path, lang):
    separator = "&" if "?" in path else "?"
    response = client.get(f"{path}{separator}lang={lang}")
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    assert leftovers(response.get_data(as_text=True)) == []


def test_the_catalogue_with_no_data_at_all_shows_no_leftovers(make_app, httpserver):
    client = make_app(feed_tables(serve_upstreams(httpserver))).test_client()  # nothing fetched yet
    for lang in LANGUAGES:
        for path in ("/", "/feeds/waste-town", "/widgets/waste-town"):
            response = client.get(f"{path}?lang={lang}")
            assert leftovers(response.get_data(as_text=True)) == [], (path, lang)


def test_desk_pages_show_no_leftovers(tmp_path, monkeypatch):
    app = admin_app(tmp_path, monkeypatch)
    assert leftovers(app.test_client().get("/admin/login").get_data(as_text=True)) == []
    browser = login(app, "anna")
    assert draft(browser).status_code == 302
    for path in ("/admin/", "/admin/new", "/admin/audit", "/admin/sessions", "/admin/announcements/1"):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert leftovers(response.get_data(as_text=True)) == [], path


@pytest.mark.parametrize(
    "lang,shape,zones",
    [
        ("de", "%d.%m.%Y %H:%M", {"CET": "MEZ", "CEST": "MESZ"}),
        ("en", "%Y-%m-%d %H:%M", {"CET": "CET", "CEST": "CEST"}),
    ],
)
@pytest.mark.parametrize("path", ["/feeds/waste-town", "/"])
def test_pages_show_times_in_the_servers_zone_with_its_abbreviation(client, path, lang, shape, zones):
    html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
    times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert times and "UTC" not in html
    berlin = ZoneInfo("Europe/Berlin")  # the test config's [server] timezone (the default)
    for machine, shown in times:
        local = datetime.fromisoformat(machine).astimezone(berlin)
        assert shown == f"{local.strftime(shape)} {zones[local.tzname()]}"


@pytest.mark.parametrize(
    "lang,zones", [("de", {"CET": "MEZ", "CEST": "MESZ"}), ("en", {"CET": "CET", "CEST": "CEST"})]
)
@pytest.mark.parametrize("path", ["/widgets/waste-town?view=latest", "/widgets/alerts-cap?mode=full"])
def test_widgets_show_times_with_the_zones_abbreviation_as_pages_do(client, path, lang, zones):
    html = client.get(f"{path}&lang={lang}").get_data(as_text=True)
    moments = [
        (m, s) for m, s in re.findall(r'<time[^>]* datetime="([^"]+)">([^<]+)</time>', html) if "T" in m
    ]
    assert moments
    berlin = ZoneInfo("Europe/Berlin")
    for machine, shown in moments:
        local = datetime.fromisoformat(machine).astimezone(berlin)
        assert shown.endswith(f"{local:%H:%M} {zones[local.tzname()]}"), shown


def test_german_pages_name_summer_and_winter_time_in_german():
    from feedserver.web.common import local_text

    berlin = ZoneInfo("Europe/Berlin")
    assert local_text(datetime(2026, 1, 5, 12, tzinfo=berlin), berlin, "de") == "05.01.2026 12:00 MEZ"
    assert local_text(datetime(2026, 7, 5, 12, tzinfo=berlin), berlin, "de") == "05.07.2026 12:00 MESZ"
    assert local_text(datetime(2026, 7, 5, 12, tzinfo=berlin), berlin, "en") == "2026-07-05 12:00 CEST"


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("lang,words", [("de", "Nicht gefunden"), ("en", "There is nothing at this address")])
def test_a_browser_gets_an_error_page_and_a_program_gets_problem_json(client, lang, words):
    path = f"/feeds/no-such-feed-<b>x</b>?lang={lang}"
    page = client.get(path, headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert words in html and f'<html lang="{lang}">' in html and "<b>x</b>" not in html
    assert leftovers(html) == [] and "Accept" in page.headers["Vary"]
    for accept in ("*/*", "application/json", "application/problem+json"):
        answer = client.get(path, headers={"Accept": accept})
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json", accept
    assert client.get(f"/api/v1/feeds/nope?lang={lang}").mimetype == "application/problem+json"
