"""The catalogue and the feed pages in a real headless Chromium, in German and English: axe-core's WCAG 2.1
A/AA check finds nothing, the copy buttons work with JavaScript and stay hidden without it, the place filter
works as a plain form. Screenshots go to a temporary directory, or to $FEEDSERVER_PAGES_SCREENSHOTS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_widgets_browser import axe_violations
from tests.widget_live import CHROMIUM, require_chromium, start

LANGUAGES = ("de", "en")
PAGES = {
    "catalogue": "/",
    "waste": "/feeds/waste",
    "alerts": "/feeds/alerts",
    "empty": "/feeds/alerts-calm",
    "builder": "/?w_feed=waste&w_mode=full",  # the embed builder with its preview and both snippets
    "requests": "/feeds/requests",
}
WORDS = {
    "de": {
        "catalogue": ("Abfall", "Warnungen", "Nach Ort filtern"),
        "waste": ("So folgen Sie", "Restmüll"),
        "builder": ("Widget einbetten", "Vorschau", "Einbettung per Skript"),
        "requests": ("Auf einer Karte", "GeoJSON"),
    },
    "en": {
        "catalogue": ("Waste", "Warnings", "Filter by place"),
        "waste": ("How to follow", "Residual waste"),
        "builder": ("Embed a widget", "Preview", "Embed with a script"),
        "requests": ("On a map", "GeoJSON"),
    },
}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    require_chromium()
    server, stop = start(tmp_path_factory.mktemp("pages"))
    yield server
    stop()


@pytest.fixture(scope="module")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    return Path(os.environ.get("FEEDSERVER_PAGES_SCREENSHOTS") or tmp_path)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_pages_pass_axe_in_both_languages_and_themes(live, browser, screenshots, name, lang, scheme):
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    separator = "&" if "?" in PAGES[name] else "?"
    assert page.goto(f"{live.base}{PAGES[name]}{separator}lang={lang}").status == 200
    assert page.get_attribute("html", "lang") == lang
    text = page.inner_text("main")
    assert all(word in text for word in WORDS[lang].get(name, ())), (name, lang)
    assert axe_violations(page) == [], (name, lang, scheme)
    page.screenshot(path=str(screenshots / f"page-{name}-{lang}-{scheme}.png"), full_page=True)
    context.close()


def test_copy_buttons_copy_the_address_and_say_so(live, browser):
    from playwright.sync_api import expect

    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{live.base}/feeds/waste?lang=de")
    button = page.locator("button[data-copy=follow-ics]")
    assert button.is_visible() and page.locator("button.copy:visible").count() == 5
    button.click()
    expect(page.locator(".copy-status")).to_have_text("In die Zwischenablage kopiert.")  # no eval: CSP
    assert page.evaluate("navigator.clipboard.readText()") == f"{live.base}/feeds/waste.ics"
    context.close()


def test_without_javascript_the_addresses_are_links_and_the_buttons_stay_hidden(live, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live.base}/feeds/waste?lang=en")
    assert page.locator("button.copy:visible").count() == 0
    assert page.locator("a#follow-rss").get_attribute("href") == f"{live.base}/feeds/waste.rss"
    page.goto(f"{live.base}/?lang=en")
    page.select_option("#place", index=0)  # "All places": the form submits without a script
    page.click(".place-filter button[type=submit]")
    assert page.url.startswith(f"{live.base}/?lang=en&place=") and page.locator("section.topic").count() >= 4
    context.close()
