"""Pages that explain themselves (issue 18): the catalogue grouped by topic with a filter by place, each feed
page saying how to follow it, "no upcoming dates" instead of "up to date" over nothing, category names in the
page's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine

from tests.api_support import feed_tables, populate, serve_upstreams

BEFORE_LAST_PICKUP = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the Erlensee calendar runs to 2026-12-28
AFTER_LAST_PICKUP = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
TOPICS = {
    "de": ["Abfall", "Luftqualität", "Nahverkehr", "Warnungen"],
    "en": ["Waste", "Air quality", "Public transport", "Warnings"],
}


def with_places(tables: str) -> str:
    """The API tests' feeds, the waste calendar in Erlensee and the air station in Berlin."""
    tables = tables.replace('title = "Abfuhr Am Haspel"', 'title = "Abfuhr Am Haspel"\nplace = "Erlensee"')
    return tables.replace('title = "Luft Mitte"', 'title = "Luft Mitte"\nplace = "Berlin"')


@pytest.fixture
def app(make_app, httpserver):
    app = make_app(with_places(feed_tables(serve_upstreams(httpserver))))
    populate(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def feed_titles(html: str) -> list[str]:
    return re.findall(r'<h4><a href="/feeds/[^"]+">([^<]+)</a></h4>', html)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_catalogue_groups_feeds_by_the_topic_their_kind_names(client, lang):
    html = text(client, f"/?lang={lang}")
    assert re.findall(r'<h3 id="topic-[a-z]+">([^<]+)</h3>', html) == TOPICS[lang]
    waste = html.split('id="topic-waste"')[1].split("</section>")[0]
    assert feed_titles(waste) == ["Abfuhr Am Haspel", "Kaputt", "Neu"]


@pytest.mark.parametrize("place", ["Erlensee", "erlensee", " ERLENSEE "])
def test_the_place_filter_shows_only_that_places_feeds(client, place):
    html = text(client, f"/?place={place}&lang=de")
    assert feed_titles(html) == ["Abfuhr Am Haspel"]
    assert "<option selected>Erlensee</option>" in html
    assert "Feeds für" in html


def test_the_place_filter_is_a_form_that_needs_no_script(client):
    html = text(client, "/?lang=en")
    form = re.search(r'<form class="place-filter" method="get" action="/">.*?</form>', html, re.S)[0]
    assert re.findall(r"<option>([^<]+)</option>", form) == ["Berlin", "Erlensee"]  # alphabetical
    assert '<label for="place">' in form and 'type="submit"' in form


@pytest.mark.parametrize("lang,message", [("de", "gibt es keine Feeds"), ("en", "There are no feeds")])
def test_an_unknown_place_is_an_empty_result_with_a_message_not_an_error(client, lang, message):
    html = text(client, f"/?place=Atlantis&lang={lang}")
    assert feed_titles(html) == []
    assert message in html and "Atlantis" in html
    assert '<a href="/?lang=' in html.split(message)[1][:200]  # a way back to every feed
    html = text(client, "/?place=%3Cb%3E&lang=en")  # the place is text, never markup
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_the_feed_page_shows_its_place_linked_to_the_filter(client):
    html = text(client, "/feeds/waste-town?lang=de")
    assert '<dt>Ort</dt><dd><a href="/?place=Erlensee&amp;lang=de">Erlensee</a></dd>' in html
    assert "<dt>Ort</dt>" not in text(client, "/feeds/transit-bart?lang=de")


def test_a_waste_feed_page_says_how_to_follow_it_in_a_reader_a_calendar_the_fediverse_and_a_widget(client):
    html = text(client, "/feeds/waste-town?lang=en")
    follow = html.split('<section class="follow"')[1].split("</section>")[0]
    base = "http://127.0.0.1:8000/feeds/waste-town"
    for fmt in ("rss", "atom", "json", "ics"):
        assert f'href="{base}.{fmt}"' in follow and f">{base}.{fmt}</a>" in follow, fmt
    assert 'href="webcal://127.0.0.1:8000/feeds/waste-town.ics"' in follow
    assert ">@waste-town@127.0.0.1:8000</code>" in follow
    assert 'href="/?w_feed=waste-town&amp;lang=en#embed"' in follow
    assert "In a feed reader" in follow and "In a calendar app" in follow and "fediverse" in follow


def test_feeds_without_a_calendar_offer_no_calendar_and_copy_buttons_wait_for_the_script(client):
    html = text(client, "/feeds/air-mitte?lang=de")
    assert ".ics" not in html and "webcal:" not in html and "Kalender-App" not in html
    buttons = re.findall(r"<button [^>]*>", html)
    copied = [re.search(r'data-copy="follow-([a-z]+)"', b).group(1) for b in buttons]
    assert copied == ["rss", "atom", "json", "geojson", "fediverse"]  # an air station has a place: GeoJSON
    assert all(" hidden" in b and 'type="button"' in b for b in buttons)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/copy.js" defer>']  # no inline script
    script = text(client, "/static/copy.js")
    assert "data-copy" in script and "clipboard" in script


def test_without_activitypub_there_is_no_fediverse_handle(make_app, httpserver):
    app = make_app(feed_tables(serve_upstreams(httpserver)), "[activitypub]\nenabled = false\n")
    html = app.test_client().get("/feeds/waste-town?lang=en").get_data(as_text=True)
    assert "@waste-town@" not in html and "fediverse" not in html.lower()


@pytest.mark.parametrize(
    "lang,empty,ok",
    [("de", "keine anstehenden Termine", "aktuell"), ("en", "no upcoming dates", "up to date")],
)
def test_a_calendar_whose_pickups_are_all_past_says_so_not_up_to_date(client, lang, empty, ok):
    status = re.compile(r'<span class="status (\w+)">([^<]*)</span>')
    with time_machine.travel(BEFORE_LAST_PICKUP, tick=False):
        assert status.findall(text(client, f"/feeds/waste-town?lang={lang}"))[0] == ("ok", ok)
    with time_machine.travel(AFTER_LAST_PICKUP, tick=False):
        assert status.findall(text(client, f"/feeds/waste-town?lang={lang}"))[0] == ("empty", empty)
        catalogue = text(client, f"/?lang={lang}").split("Abfuhr Am Haspel</a></h4>")[1]
        assert status.findall(catalogue)[0] == ("empty", empty)


def test_the_api_says_empty_for_a_calendar_with_nothing_upcoming(client):
    with time_machine.travel(BEFORE_LAST_PICKUP, tick=False):
        document = client.get("/api/v1/feeds/waste-town").json
        assert document["data"]["status"]["status"] == "ok" and document["meta"]["status"] == "ok"
    with time_machine.travel(AFTER_LAST_PICKUP, tick=False):
        document = client.get("/api/v1/feeds/waste-town").json
        assert document["data"]["status"]["status"] == "empty" and document["meta"]["status"] == "empty"
        assert document["data"]["next_pickups"] == []


@pytest.mark.parametrize(
    "lang,shown,not_shown",
    [("de", ["Restmüll", "Bioabfall"], ["residual", "organic"]), ("en", ["Residual waste"], ["residual<"])],
)
def test_categories_are_named_in_the_pages_language(client, lang, shown, not_shown):
    with time_machine.travel(BEFORE_LAST_PICKUP, tick=False):
        metas = re.findall(r'<p class="meta">.*?</p>', text(client, f"/feeds/waste-town?lang={lang}"))
    categories = " ".join(meta.split(" · ", 1)[-1] for meta in metas)
    assert all(word in categories for word in shown), categories
    assert not any(word in categories for word in not_shown), categories


def test_alert_severities_are_named_in_the_pages_language(client):
    assert "· schwer</p>" in text(client, "/feeds/alerts-cap?lang=de")
    assert "· severe</p>" in text(client, "/feeds/alerts-cap?lang=en")
