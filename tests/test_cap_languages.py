"""A CAP alert may carry one `info` block per language (the DWD sends eight): a German feed shows the German
block, and its page and widget in English show the English one; the feeds themselves stay as they were."""

from __future__ import annotations

import json

import pytest
import time_machine

from tests.conftest import refresh_feed
from tests.test_source_cap import DWD_NOON, DWD_ZIP

GERMAN = ("Amtliche WARNUNG vor STARKREGEN", "Amtliche WARNUNG vor WINDBÖEN")
ENGLISH = ("Official WARNING of HEAVY RAIN", "Official WARNING of WIND GUSTS")


@pytest.fixture
def client(make_app, httpserver, fixture_bytes):
    httpserver.expect_request("/dwd.zip").respond_with_data(
        fixture_bytes(DWD_ZIP), content_type="application/zip"
    )
    feeds = (
        f'[feeds.warnungen]\nsource = "cap"\ntitle = "Warnungen"\nurl = "{httpserver.url_for("/dwd.zip")}"\n'
    )
    app = make_app(feeds)
    with time_machine.travel(DWD_NOON, tick=False):
        assert refresh_feed(app, "warnungen").ok
        yield app.test_client()


def test_the_other_languages_are_kept_with_the_item(client):
    items = client.get("/api/v1/feeds/warnungen/items").json["data"]
    assert {i["title"] for i in items} == set(GERMAN)
    translations = items[0]["data"]["translations"]
    assert set(translations) == {"en", "fr", "es", "ar", "ru", "tr", "pl"}
    assert translations["en"]["title"] in ENGLISH and translations["en"]["summary"]


@pytest.mark.parametrize("path", ["/widgets/warnungen", "/feeds/warnungen"])
def test_english_pages_and_widgets_show_the_english_info_block(client, path):
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    german = client.get(f"{path}?lang=de").get_data(as_text=True)
    assert all(title in english for title in ENGLISH) and not any(title in english for title in GERMAN)
    assert all(title in german for title in GERMAN) and not any(title in german for title in ENGLISH)


def test_the_api_lists_each_alert_in_force_with_its_other_languages_for_widget_js(client):
    alerts = client.get("/api/v1/feeds/warnungen").json["data"]["alerts"]
    assert alerts and {a["title"] for a in alerts} <= set(GERMAN)
    english = {a["translations"]["en"]["title"] for a in alerts}
    assert english and english <= set(ENGLISH)
    assert all(
        set(texts) <= {"title", "area", "event"} for a in alerts for texts in a["translations"].values()
    )


def test_the_feeds_stay_in_the_feeds_language_and_json_feed_has_no_translations(client):
    rss = client.get("/feeds/warnungen.rss").get_data(as_text=True)
    assert all(title in rss for title in GERMAN) and not any(title in rss for title in ENGLISH)
    document = json.loads(client.get("/feeds/warnungen.json").data)
    assert all("translations" not in item["_feedserver"] for item in document["items"])
