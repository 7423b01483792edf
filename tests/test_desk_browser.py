"""The desk in a real headless Chromium, in German and in English: the login page and, after logging in
through it, the announcements page, the planning view, an announcement with its deliveries to the channels
and the form's preview. axe-core's WCAG 2.1 A/AA check finds nothing on any, and each is screenshotted (to a
temporary directory, or to $FEEDSERVER_DESK_SCREENSHOTS)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.desk_support import PASSWORDS, admin_app, csrf_of, draft, login
from tests.test_desk_channels import FEEDS, OFFLINE, TOKEN_VARIABLE
from tests.test_translations import delivered
from tests.test_widgets_browser import axe_violations
from tests.widget_live import CHROMIUM, require_chromium

LANGUAGES = ("de", "en")
WORDS = {  # what each page says in each language
    "de": {
        "login": ("Anmelden", "Passwort"),
        "index": ("Meldungen", "Wartet auf Freigabe", "Abmelden"),
        "plan": ("Planung", "veröffentlicht"),
        "deliveries": (
            "Zustellung an die Kanäle",
            "gesendet",
            "fehlgeschlagen",
            "Zustellung an kreis wiederholen",
        ),
        "preview": ("Vorschau", "SMS-Zeile", "Mastodon (stadt)", "Push-Benachrichtigung", "Gekürzt"),
    },
    "en": {
        "login": ("Log in", "Password"),
        "index": ("Announcements", "Awaiting approval", "Log out"),
        "plan": ("Planning", "published"),
        "deliveries": ("Delivery to the channels", "sent", "failed", "Retry delivery to kreis"),
        "preview": ("Preview", "SMS line", "Mastodon (stadt)", "Push notification", "Shortened"),
    },
}


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory):
    """/admin with two staff members and one pending announcement, served on a free 127.0.0.1 port."""
    require_chromium()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
        app = admin_app(tmp_path_factory.mktemp("desk"), monkeypatch, extra=OFFLINE, feeds=FEEDS)
        anna, bernd = login(app, "anna"), login(app, "bernd")
        published = draft(anna, title="Stadtfest am Markt").headers["Location"]  # announcement 1
        form = {"version": "1", "csrf_token": csrf_of(bernd.get(published))}
        assert bernd.post(f"{published}/approve", data=form).status_code == 302
        delivered(app, 1)  # sent on stadt, failed on kreis
        assert draft(anna).status_code == 302
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_port}/admin"
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def chromium(desk_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_and_announcements_pages_pass_axe_in_both_languages(desk_url, chromium, lang, tmp_path):
    directory = Path(os.environ.get("FEEDSERVER_DESK_SCREENSHOTS") or tmp_path)
    context = chromium.new_context(
        locale={"de": "de-DE", "en": "en-GB"}[lang], viewport={"width": 900, "height": 800}
    )
    page = context.new_page()
    assert page.goto(f"{desk_url}/login").status == 200  # the language from Accept-Language alone
    check(page, lang, "login", directory)
    page.fill("#name", "bernd")
    page.fill("#password", PASSWORDS["bernd"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{desk_url}/")
    check(page, lang, "index", directory)
    assert page.goto(f"{desk_url}/plan").status == 200
    check(page, lang, "plan", directory)
    assert page.goto(f"{desk_url}/announcements/1").status == 200
    check(page, lang, "deliveries", directory)
    assert page.goto(f"{desk_url}/new").status == 200
    page.select_option("#feed", "presse")
    page.fill("#title", "Wochenmarkt fällt aus")
    page.fill("#text", "Wegen Glätte fällt der Wochenmarkt am Samstag aus. " * 12)
    page.click("button[name=preview]")
    page.wait_for_selector("#h-preview")
    check(page, lang, "preview", directory)
    context.close()


def check(page, lang: str, name: str, directory: Path) -> None:
    """The page's language and words, no axe violation, and a screenshot."""
    assert page.evaluate("document.documentElement.lang") == lang
    text = page.locator("body").inner_text()
    assert all(word in text for word in WORDS[lang][name]), (lang, name, text)
    assert axe_violations(page) == [], (lang, name)
    page.screenshot(path=str(directory / f"desk-{name}-{lang}.png"), full_page=True)
