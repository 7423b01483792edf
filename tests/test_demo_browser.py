"""The shipped demo in headless Chromium: the catalogue and a feed page in German and English pass axe-core's
WCAG 2.1 A/AA check, and their screenshots are the README's (`make screenshots` writes them to docs/, a test
run to a temporary directory)."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from feedserver import demo
from feedserver.app import create_app
from feedserver.config import listening_at, load
from feedserver.pipeline import refresh
from tests.test_demo import SHIPPED
from tests.test_widgets_browser import axe_violations
from tests.widget_live import CHROMIUM, require_chromium

PAGES = {"catalogue": "/", "feed": "/feeds/waste-erlensee"}
HEADINGS = {"de": ("Abfall", "So folgen Sie diesem Feed"), "en": ("Waste", "How to follow this feed")}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo as `make run` serves it (every feed polled from the demo upstream, now), on a free port."""
    require_chromium()
    database = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    run = demo.start(replace(load(SHIPPED), storage_url=f"sqlite:///{database}"))
    server = make_server("127.0.0.1", 0, lambda env, respond: [], threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    # The addresses shown are those of `make run` (port 8000), whatever free port the test listens on.
    app = create_app(listening_at(run.settings, "127.0.0.1", 8000))
    runtime = app.extensions["feedserver"]
    with app.app_context():
        for feed_id in runtime.settings.feeds:
            assert refresh(runtime, feed_id, respect_backoff=False).ok, feed_id
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    run.stop()


@pytest.fixture(scope="module")
def browser(demo_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.mark.parametrize("lang", ("de", "en"))
@pytest.mark.parametrize("name", list(PAGES))
def test_the_demos_catalogue_and_feed_page_pass_axe_and_are_the_readmes_screenshots(
    demo_server, browser, name, lang, tmp_path
):
    context = browser.new_context(viewport={"width": 1000, "height": 1100}, timezone_id="Europe/Berlin")
    page = context.new_page()
    assert page.goto(f"{demo_server}{PAGES[name]}?lang={lang}").status == 200
    heading = HEADINGS[lang][0 if name == "catalogue" else 1]
    assert heading in page.inner_text("main")
    assert axe_violations(page) == [], (name, lang)
    directory = Path(os.environ.get("FEEDSERVER_DEMO_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}-{lang}.png"
    page.screenshot(path=str(target))  # the first screenful: what a visitor sees first
    assert target.stat().st_size > 10_000
    context.close()
