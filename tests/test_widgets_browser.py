"""Widgets in a real headless Chromium against the running server: content, axe-core, privacy, cross-origin.

Needs Debian's chromium (/usr/bin/chromium; `make test` installs it as root or with CI=true) and the Python
playwright and axe-playwright-python packages (axe-core ships inside the latter: no internet at test time).
Screenshots of every view in both themes go to a temporary directory, or to docs/widgets/ with
`make screenshots` (FEEDSERVER_SCREENSHOTS=docs/widgets), so a test run leaves the work tree as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.test_pages_text import leftovers
from tests.test_pages_words import data_texts, foreign_words
from tests.widget_live import ANNOUNCEMENT, CHROMIUM, CRISIS, FEEDS, MULTILINGUAL, require_chromium, start

GERMAN_ALERT, ENGLISH_ALERT = "Amtliche WARNUNG vor STARKREGEN", "Official WARNING of HEAVY RAIN"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
THEMES = ("light", "dark")
LANG = {"transit": "en", "alerts": "en"}  # the feed's own language
EXPECTED = {  # text each feed's widget must show (from the recorded upstream payloads)
    "waste": ("Nächste Abholtermine", "Bioabfall", "Papier"),
    "air": ("Ozon", "Stickstoffdioxid", "µg/m³", "unter den Schwellenwerten"),
    "transit": ("Current delays", "Montgomery St.", "+36 min"),
    "alerts": ("Warnings (Severe)", "Homeland Security Sets Code ORANGE"),
    "alerts-calm": ("Derzeit keine Warnungen.",),
    "presse": ("Wichtige Mitteilung", CRISIS, ANNOUNCEMENT),
    "requests": ("Meldungen und ihr Bearbeitungsstand", "in Bearbeitung", "noch nicht"),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    require_chromium()
    server, stop = start(tmp_path_factory.mktemp("widgets"))
    yield server
    stop()


@pytest.fixture(scope="module")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


class Recorder:
    """Every request and response of a browser context, and a check that none left the allowed origins."""

    def __init__(self, context):
        self.requests, self.set_cookies = [], []
        context.on("request", lambda request: self.requests.append(request))
        context.on("response", lambda r: r.headers.get("set-cookie") and self.set_cookies.append(r.url))

    def origins(self) -> set[str]:
        return {f"{urlsplit(r.url).scheme}://{urlsplit(r.url).netloc}" for r in self.requests}

    def referrers_to(self, origin: str) -> list[str]:
        return [
            r.headers["referer"]
            for r in self.requests
            if r.url.startswith(origin) and r.headers.get("referer")
        ]


@pytest.fixture
def context(browser):
    made = []

    def new(scheme: str = "light", **options):
        context = browser.new_context(
            color_scheme=scheme,
            timezone_id="Europe/Berlin",
            viewport={"width": 420, "height": 900},
            **options,
        )
        made.append(context)
        return context, Recorder(context)

    yield new
    for context in made:
        context.close()


def widget_url(live, feed_id: str, **options: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"lang": LANG.get(feed_id, "de"), **options}.items())
    return f"{live.base}/widgets/{feed_id}?{query}"


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page (open shadow roots and iframes included)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in results.response["violations"]
    ]


def storage_is_empty(page) -> bool:
    return page.evaluate("document.cookie === '' && localStorage.length === 0 && sessionStorage.length === 0")


def test_axe_check_reports_what_it_should(live, context):
    """The check below is live: a page with a nameless link and no lang has violations."""
    ctx, _ = context()
    page = ctx.new_page()
    page.set_content("<html><head><title>x</title></head><body><a href='/'></a></body></html>")
    assert {v["id"] for v in axe_violations(page)} >= {"html-has-lang", "link-name"}


@pytest.mark.parametrize("feed_id", FEEDS)
def test_iframe_page_shows_the_feed_with_one_request_besides_itself_and_nothing_else(live, context, feed_id):
    ctx, recorder = context()
    page = ctx.new_page()
    response = page.goto(widget_url(live, feed_id, mode="full"))
    assert response.status == 200
    text = page.locator(".fsw").inner_text()
    for expected in EXPECTED[feed_id]:
        assert expected in text, (feed_id, expected)
    assert [urlsplit(r.url).path for r in recorder.requests] == [f"/widgets/{feed_id}", "/widget.css"]
    assert recorder.origins() == {live.base}
    assert recorder.set_cookies == [] and ctx.cookies() == [] and storage_is_empty(page)
    links = page.locator("a").all()
    assert links and all(
        a.get_attribute("target") == "_blank" and "noopener" in a.get_attribute("rel") for a in links
    )
    assert all("noreferrer" in a.get_attribute("rel") for a in links)
    assert page.evaluate("document.documentElement.lang") == LANG.get(feed_id, "de")


def test_alert_banner_only_while_an_alert_or_crisis_is_in_force(live, context):
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(widget_url(live, "alerts-calm"))
    assert page.locator(".fsw-banner").count() == 0
    page.goto(widget_url(live, "alerts"))
    assert page.locator(".fsw-banner").count() == 1
    page.goto(widget_url(live, "presse"))
    assert page.locator(".fsw-banner").inner_text().startswith("Wichtige Mitteilung:")
    assert CRISIS not in page.locator(".fsw-list").inner_text()  # on top, not again in the list


def test_air_chart_is_inline_svg_with_title_description_and_a_table(live, context):
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(widget_url(live, "air", mode="full"))
    svg = page.locator("svg.fsw-svg").first
    assert svg.get_attribute("role") == "img"
    assert page.locator("svg.fsw-svg title").first.text_content() == "Ozon: Verlauf der letzten 48 Stunden"
    assert "48 Stundenwerte" in page.locator("svg.fsw-svg desc").first.text_content()
    page.locator("summary").first.focus()
    page.keyboard.press("Enter")  # the text alternative opens from the keyboard
    assert page.locator("details table").first.locator("tbody tr").count() == 48


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("feed_id", FEEDS)
def test_axe_finds_no_wcag_violation_on_the_iframe_page(live, context, feed_id, theme):
    ctx, _ = context(scheme=theme)
    page = ctx.new_page()
    page.goto(widget_url(live, feed_id, mode="full", theme=theme))
    assert axe_violations(page) == []
    page.goto(widget_url(live, feed_id, theme="auto"))  # auto follows prefers-color-scheme
    assert axe_violations(page) == []


def host_page(live, widgets: str) -> bytes:
    """A third party's page on another origin, embedding with the catalogue's script snippet."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sports club</title></head>
<body><main><h1>Sports club news</h1>{widgets}</main>
<script src="{live.base}/widget.js" defer referrerpolicy="no-referrer"></script></body></html>""".encode()


@pytest.fixture
def host(httpserver, live):
    """Serve a host page from a second local origin (pytest-httpserver's port)."""

    def serve(widgets: str) -> str:
        httpserver.expect_request("/").respond_with_data(host_page(live, widgets), content_type="text/html")
        httpserver.expect_request("/favicon.ico").respond_with_data(b"", status=204)
        return httpserver.url_for("/")

    return serve


def element(feed_id: str, theme: str = "auto", mode: str = "full") -> str:
    lang = LANG.get(feed_id, "de")
    return (
        f'<feedserver-widget feed="{feed_id}" lang="{lang}" items="5" mode="{mode}" theme="{theme}" '
        f'tz="Europe/Berlin"></feedserver-widget>'
    )


def rendered(page, feed_id: str):
    widget = page.locator(f'feedserver-widget[feed="{feed_id}"] .fsw:not([aria-busy])')
    widget.wait_for()
    page.wait_for_function(
        "id => !document.querySelector(`feedserver-widget[feed='${id}']`).shadowRoot"
        ".querySelector('[aria-busy]')",
        arg=feed_id,
    )
    return widget


def test_cross_origin_page_uses_widget_js_and_it_renders_what_the_iframe_shows(live, context, host):
    url = host("".join(element(feed_id) for feed_id in FEEDS))
    ctx, recorder = context()
    page = ctx.new_page()
    page.goto(url)
    host_origin = url.rstrip("/")
    for feed_id in FEEDS:
        script_text = rendered(page, feed_id).inner_text()
        framed = ctx.new_page()
        framed.goto(widget_url(live, feed_id, mode="full"))
        assert script_text.split() == framed.locator(".fsw").inner_text().split(), feed_id
        framed.close()
        for expected in EXPECTED[feed_id]:
            assert expected in script_text, (feed_id, expected)
    assert recorder.origins() == {host_origin, live.base}
    assert [r.url for r in recorder.requests if r.url.startswith(host_origin)] in (
        [url],
        [url, f"{host_origin}/favicon.ico"],
    )
    assert recorder.referrers_to(live.base) == []  # no referrer leaks to the widget server
    assert recorder.set_cookies == [] and ctx.cookies() == [] and storage_is_empty(page)


@pytest.mark.parametrize("theme", THEMES)
def test_axe_finds_no_wcag_violation_in_the_script_embed(live, context, host, theme):
    url = host("".join(element(feed_id, theme) for feed_id in FEEDS))
    ctx, _ = context(scheme=theme)
    page = ctx.new_page()
    page.goto(url)
    for feed_id in FEEDS:
        rendered(page, feed_id)
    assert axe_violations(page) == []


def test_script_embed_follows_attribute_changes_and_filters(live, context, host):
    url = host('<feedserver-widget feed="waste" lang="de" tz="Europe/Berlin"></feedserver-widget>')
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(url)
    assert "Papier" in rendered(page, "waste").inner_text()
    page.evaluate("document.querySelector('feedserver-widget').setAttribute('filter', 'category=organic')")
    page.wait_for_function(
        "!document.querySelector('feedserver-widget').shadowRoot.querySelector('.fsw-c-paper')"
    )
    chips = page.locator("feedserver-widget .fsw-chip").all_inner_texts()
    assert chips == ["Bioabfall"]
    page.evaluate("document.querySelector('feedserver-widget').setAttribute('lang', 'en')")
    page.wait_for_function(
        "document.querySelector('feedserver-widget').shadowRoot.textContent.includes('Next collections')"
    )


def test_keyboard_reaches_every_link_with_a_visible_focus(live, context, host):
    url = host(element("waste"))
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(url)
    links = rendered(page, "waste").locator("a").count()
    seen = []
    for _ in range(links):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "(() => { const a = document.activeElement.shadowRoot.activeElement;"
                " return [a.tagName, getComputedStyle(a).outlineStyle]; })()"
            )
        )
    assert seen == [["A", "solid"]] * links


@pytest.mark.parametrize("feed_id", FEEDS)
def test_readable_at_200_percent_zoom_without_horizontal_scrolling(live, context, feed_id):
    ctx, _ = context(device_scale_factor=2)
    page = ctx.new_page()
    page.set_viewport_size({"width": 320, "height": 640})  # 640 px at 200 % (WCAG 1.4.10 reflow)
    page.goto(widget_url(live, feed_id, mode="full"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), feed_id


def test_reduced_motion_is_respected(live, context):
    ctx, _ = context(reduced_motion="reduce")
    page = ctx.new_page()
    page.goto(widget_url(live, "air", mode="full"))
    durations = page.evaluate(
        "[...document.querySelectorAll('.fsw *')].map(e => getComputedStyle(e))"
        ".filter(s => s.transitionDuration !== '0s' || s.animationName !== 'none').length"
    )
    assert durations == 0


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("feed_id", FEEDS)
def test_screenshots_of_every_view_in_both_themes(live, context, feed_id, theme, tmp_path):
    """<feed view>-<theme>.png of every view, for the README (docs/widgets) and reviewers."""
    ctx, _ = context(scheme=theme)
    page = ctx.new_page()
    page.set_viewport_size({"width": 380, "height": 700})
    page.goto(widget_url(live, feed_id, theme=theme))
    directory = Path(os.environ.get("FEEDSERVER_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{feed_id}-{theme}.png"
    page.evaluate("document.querySelector('.fsw').style.minHeight = '0'")
    page.locator(".fsw").screenshot(path=str(target))
    assert target.stat().st_size > 2000


@pytest.mark.parametrize("lang", ("de", "en"))
@pytest.mark.parametrize("feed_id", FEEDS)
def test_each_widget_view_passes_axe_in_both_languages(live, context, feed_id, lang):
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(f"{live.base}/widgets/{feed_id}?lang={lang}&mode=full")
    assert page.get_attribute("html", "lang") == lang
    assert axe_violations(page) == [], (feed_id, lang)


@pytest.mark.parametrize("lang", ("de", "en"))
def test_widget_js_speaks_the_widgets_language_with_no_leftovers(live, context, host, lang):
    """What the script embed renders of every view, in each language: words of that language only (the
    feeds' own texts aside), no `undefined`, no None, no template syntax (tests/test_pages_words.py)."""
    feeds = (*FEEDS, MULTILINGUAL)
    url = host(
        "".join(
            element(feed_id).replace(f'lang="{LANG.get(feed_id, "de")}"', f'lang="{lang}"')
            for feed_id in feeds
        )
    )
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(url)
    data = data_texts(live.app)
    for feed_id in feeds:
        html = rendered(page, feed_id).evaluate("e => e.outerHTML")
        assert f'lang="{lang}"' in html, feed_id
        assert leftovers(html) == [] and foreign_words(html, lang, data) == [], feed_id


@pytest.mark.parametrize(
    "lang,shown,not_shown", [("en", ENGLISH_ALERT, GERMAN_ALERT), ("de", GERMAN_ALERT, ENGLISH_ALERT)]
)
def test_widget_js_shows_a_cap_alert_in_the_widgets_language_as_the_iframe_does(
    live, context, host, lang, shown, not_shown
):
    url = host(element(MULTILINGUAL).replace('lang="de"', f'lang="{lang}"'))
    ctx, _ = context()
    page = ctx.new_page()
    page.goto(url)
    script_text = rendered(page, MULTILINGUAL).inner_text()
    assert shown in script_text and not_shown not in script_text
    framed = ctx.new_page()
    framed.goto(f"{live.base}/widgets/{MULTILINGUAL}?lang={lang}&mode=full")
    assert script_text.split() == framed.locator(".fsw").inner_text().split()
