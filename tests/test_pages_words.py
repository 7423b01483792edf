"""Must show of issue 18: every public page, widget view and desk page of the shipped demo, in German and in
English, with the demo's data and with feeds that have none yet, says words and only words of its language.

It fails on a Python repr, a literal None or unrendered template syntax (tests/test_pages_text.py's
leftovers), and on a missing translation: an English word of the catalog on a German page where the catalog
has a German one, or a German one on an English page. Parts marked with another `lang` (a feed's English
CAP texts, the language switch) are not the page's own words. widget.js's output is checked the same way in
tests/test_widgets_browser.py (it runs in Chromium).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

import pytest
import time_machine

from feedserver import demo
from feedserver.app import create_app
from feedserver.config import load
from feedserver.demo.desk import ACCOUNTS
from feedserver.pipeline import refresh
from tests.test_demo import DATES, SHIPPED
from tests.test_html_valid import check as check_html
from tests.test_pages_text import leftovers
from tests.test_translations import Said
from tests.test_translations import catalog as po_catalog

LANGUAGES = ("de", "en")
NOW = DATES[0]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FIELD = re.compile(r"\{\w*\}|%\(\w+\)s|%s")
# Catalog words that are also everyday words of the data (a place, a person's name in an English alert)
# or of the other language: no sign of a missing translation.
NEUTRAL = frozenset({"Status", "Feeds", "Feed", "Format", "Start", "Ende", "Details", "Version"})
CODE = frozenset({"textarea", "code", "pre"})  # snippets to copy: code, not words


class Words(Said):
    """The words a page says in its own language, without code to copy."""

    def __init__(self, lang: str):
        super().__init__(lang)
        self.code = 0

    def handle_starttag(self, tag, attrs):
        self.code += tag in CODE
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.code -= tag in CODE
        super().handle_endtag(tag)

    def handle_data(self, data):
        if not self.code:
            super().handle_data(data)


def fragments(text: str) -> list[str]:
    """The parts of a message around its placeholders that are words a reader sees (two letters or more)."""
    return [part.strip(" :;,.()–-") for part in FIELD.split(text) if len(re.findall(r"[^\W\d_]", part)) >= 2]


@cache
def sentinels(lang: str) -> re.Pattern:
    """The other language's words of every message of the German .po whose two languages differ, as one
    pattern."""
    found = set()
    for message in po_catalog("de"):  # the translations as written, whatever the compiled .mo lacks
        msgid, text = message.id, message.string
        if message.pluralizable or not msgid or not text or "yy" in msgid or msgid == text:
            continue  # plural forms, the header, date patterns, words alike in both languages
        foreign = msgid if lang == "de" else text
        own = text if lang == "de" else msgid
        found |= {part for part in fragments(foreign) if part not in own and part not in NEUTRAL}
    words = sorted((re.escape(w) for w in found if len(w) >= 4), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])")


def foreign_words(html: str, lang: str, data: tuple[str, ...] = ()) -> list[str]:
    """The other language's catalog words among the words the page says in its own language, the feeds'
    own texts (`data`: titles, descriptions, items, in the feed's language by design) left out."""
    said = Words(lang)
    said.feed(html)
    text = "\n".join(said.words)
    for value in data:
        text = text.replace(value, "\n")
    return sorted({m.group(0) for m in sentinels(lang).finditer(text)})


def data_texts(app) -> tuple[str, ...]:
    """Every text the feeds bring themselves (config and items, with their translations), longest first."""
    rt = app.extensions["feedserver"]
    found = set()
    for feed in rt.settings.feeds.values():
        found |= {feed.title, feed.description, feed.attribution, feed.place, feed.licence}
        for item in rt.store.current_items(feed.id):
            found |= {item.title, item.summary, item.area}
            found |= {str(value) for value in item.data.values() if isinstance(value, str)}
            for texts in (item.data.get("translations") or {}).values():
                found |= {str(value) for value in texts.values()}
    return tuple(sorted((v for v in found if v), key=len, reverse=True))


def public_pages(settings) -> list[str]:
    """Every public page and widget view of the config's feeds (the builder with each feed chosen)."""
    pages = [
        "/",
        "/stats",
        "/?place=Erlensee",
        "/?place=Nirgendwo",
        "/?w_feed=nowhere",
        "/?w_feed=bart&w_items=0",
    ]
    for feed_id in settings.feeds:
        pages += [f"/feeds/{feed_id}", f"/?w_feed={feed_id}"]
        pages += [f"/widgets/{feed_id}{query}" for query in ("", "?view=latest", "?mode=full&items=20")]
    return pages


def check(client, path: str, lang: str, status: int = 200, headers=None) -> list:
    """What is wrong with the page in this language (nothing when it is right)."""
    data = data_texts(client.application)
    separator = "&" if "?" in path else "?"
    response = client.get(f"{path}{separator}lang={lang}", headers=headers)
    html = response.get_data(as_text=True)
    problems = [] if response.status_code == status else [f"status {response.status_code}"]
    problems += [f'not lang="{lang}"'] if f'<html lang="{lang}">' not in html else []
    return problems + leftovers(html) + [f"foreign: {word}" for word in foreign_words(html, lang, data)]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The shipped demo at a fixed time: its upstream replaying the recorded payloads, every feed polled."""
    settings = replace(
        load(SHIPPED), storage_url=f"sqlite:///{tmp_path_factory.mktemp('demo') / 'd.sqlite3'}"
    )
    with time_machine.travel(NOW, tick=False):
        run = demo.start(settings)
        app = create_app(run.settings)
        lines = demo.welcome(app, run, NOW)
        runtime = app.extensions["feedserver"]
        with app.app_context():
            for feed_id in runtime.settings.feeds:
                assert refresh(runtime, feed_id, respect_backoff=False).ok, feed_id
        yield app, lines
        run.stop()


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """The same config with nothing fetched yet: every feed pending, no items anywhere."""
    settings = replace(
        load(SHIPPED), storage_url=f"sqlite:///{tmp_path_factory.mktemp('empty') / 'e.sqlite3'}"
    )
    run = demo.start(settings)  # the demo's secret key and desk accounts, but no poll
    yield create_app(run.settings)
    run.stop()


def test_the_check_finds_missing_translations_and_leftovers():
    assert foreign_words("<p>Nächste Abholtermine. Latest messages</p>", "de") == ["Latest messages"]
    assert foreign_words("<p>Next collections, Restmüll</p>", "en") == ["Restmüll"]
    assert foreign_words('<p>Neueste Meldungen <span lang="en">Latest messages</span></p>', "de") == []
    assert foreign_words("<p>Abfallkalender Erlensee, Abfallkalender</p>", "en") == []  # words within words
    assert foreign_words("<p>Warnungen DWD</p>", "en", ("Warnungen DWD",)) == []  # a feed's own title
    assert foreign_words('<textarea>mode="compact"</textarea>', "de") == []  # code to copy
    assert leftovers("<h1><built-in method items of dict object at 0x7f></h1>") != []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_public_page_and_widget_view_of_the_demo_speaks_its_language(demo_app, lang):
    app, _ = demo_app
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        found = {
            path: check(client, path, lang) for path in public_pages(app.extensions["feedserver"].settings)
        }
        found["error page"] = check(client, "/feeds/nowhere", lang, 404, BROWSER)
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_public_page_and_widget_view_with_empty_feeds_speaks_its_language(empty_app, lang):
    client = empty_app.test_client()
    found = {
        path: check(client, path, lang) for path in public_pages(empty_app.extensions["feedserver"].settings)
    }
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_demo_desk_speaks_its_language(demo_app, lang):
    app, lines = demo_app
    login = next(line for line in lines if "log in" in line)
    name, role = ACCOUNTS[0]
    password = login.split(f"{role} {name} / ")[1].split(",")[0].split(" ")[0]
    browser = app.test_client()
    with time_machine.travel(NOW, tick=False):
        assert check(browser, "/admin/login", lang) == []
        page = browser.get(f"/admin/login?lang={lang}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        answer = browser.post(
            f"/admin/login?lang={lang}", data={"name": name, "password": password, "csrf_token": token}
        )
        assert answer.status_code == 302, answer.status_code
        found = {path: check(browser, path, lang) for path in ("/admin/", "/admin/new", "/admin/audit")}
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_every_page_and_widget_view_of_the_demo_is_valid_html(demo_app, empty_app, tmp_path):
    """The Nu HTML checker on all of them, both languages, with the demo's data and with nothing fetched."""
    pages = {}
    for name, app in (("demo", demo_app[0]), ("empty", empty_app)):
        client = app.test_client()
        with time_machine.travel(NOW, tick=False):
            for lang in LANGUAGES:
                for path in public_pages(app.extensions["feedserver"].settings):
                    separator = "&" if "?" in path else "?"
                    pages[f"{name} {path} {lang}"] = client.get(f"{path}{separator}lang={lang}").data
    errors = check_html(pages, tmp_path)
    assert not errors, "\n".join(errors)
