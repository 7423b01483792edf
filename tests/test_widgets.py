"""Widgets over HTTP (Flask client): options, filters, headers, caching, charts, crisis, the builder."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from feedserver.i18n import say_all
from feedserver.registry import all_kinds
from feedserver.web.widgets.assets import assemble
from feedserver.web.widgets.routes import PAGE_CSP
from feedserver.web.widgets.text import WORDS
from kinds.air.vocabulary import NAMES
from kinds.waste.widget import CATEGORY_COLOURS, CATEGORY_LABELS
from tests.conftest import refresh_feed
from tests.desk_support import NOW, bearer, desk_app, serve_calendar, staff

STATIC = Path(__file__).parent.parent / "feedserver" / "static"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(make_app, httpserver, fixture_bytes, frozen):
    waste_url = serve_calendar(httpserver, fixture_bytes)
    return desk_app(make_app, "waste-test", "presse", "bauamt", waste_url=waste_url)


def chips(html: str) -> list[str]:
    return re.findall(r'<span class="fsw-chip fsw-c-([a-z-]+)">', html)


def test_waste_widget_lists_the_next_pickup_of_each_category_with_its_name(client):
    html = client.get("/widgets/waste-test").get_data(as_text=True)
    assert chips(html) and len(chips(html)) == len(set(chips(html))) <= 5
    assert '<html lang="de">' in html and "Nächste Abholtermine" in html
    days = re.findall(r'<time class="fsw-day" datetime="([0-9-]+)">', html)
    assert days == sorted(days) and days[0] >= NOW.date().isoformat()


@pytest.mark.parametrize("query", ["category=paper", "category=papier", "category=PAPER"])
def test_feed_filters_apply_with_their_aliases(client, query):
    html = client.get(f"/widgets/waste-test?{query}").get_data(as_text=True)
    assert chips(html) == ["paper"]


def test_language_items_and_mode_options(client):
    html = client.get("/widgets/waste-test?lang=en&items=2&mode=full&theme=dark").get_data(as_text=True)
    assert '<html lang="en">' in html and "Next collections" in html
    assert len(chips(html)) == 2
    assert 'class="fsw fsw-full fsw-pickups" data-theme="dark"' in html
    latest = client.get("/widgets/waste-test?view=latest&items=3").get_data(as_text=True)
    assert latest.count("<li>") == 3 and "Neueste Meldungen" in latest


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("items=0", "items"),
        ("items=21", "items"),
        ("items=x", "items"),
        ("mode=huge", "mode"),
        ("theme=pink", "theme"),
        ("lang=fr", "lang"),
        ("lang=de&lang=en", "lang"),
        ("view=map", "view"),
        ("category=%3Cscript%3E", None),
        ("nonsense=%3Cscript%3E", None),
    ],
)
def test_bad_options_are_400_problems_that_never_echo_the_input(client, query, parameter):
    response = client.get(f"/widgets/waste-test?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body.get("parameter") == parameter
    assert "script" not in response.get_data(as_text=True) and "nonsense" not in response.get_data(
        as_text=True
    )


def test_unknown_feed_is_a_404_problem(client):
    for path in ("/widgets/nope", "/widgets/nope/crisis.json", "/widgets/nope/charts/X/o3.svg"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_iframe_page_may_be_framed_anywhere_and_loads_nothing_but_its_stylesheet(client):
    response = client.get("/widgets/waste-test")
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert "frame-ancestors *" in PAGE_CSP and "script-src" not in PAGE_CSP and "connect-src" not in PAGE_CSP
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert re.findall(r'(?:src|href)="(/[^"]*)"', html) == [re.search(r'href="(/widget\.css[^"]*)"', html)[1]]
    assert "<script" not in html and "style=" not in html


def test_page_and_assets_revalidate_with_strong_etags(client):
    for path in ("/widgets/waste-test", "/widget.js", "/widget.css"):
        first = client.get(path)
        etag = first.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""


def test_widget_js_is_small_cacheable_javascript(client):
    response = client.get("/widget.js")
    assert response.mimetype == "text/javascript"
    assert len(gzip.compress(response.data, 9)) < 8 * 1024
    control = response.headers["Cache-Control"]
    assert "public" in control and int(re.search(r"max-age=(\d+)", control)[1]) >= 86400
    version = client.get("/widget.css").headers["ETag"].strip('"')
    assert "immutable" in client.get(f"/widget.css?v={version}").headers["Cache-Control"]
    assert "immutable" not in client.get("/widget.css?v=old").headers["Cache-Control"]


def test_widget_js_uses_no_storage_cookies_or_foreign_hosts():
    source = assemble(all_kinds())
    for forbidden in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "innerHTML", "eval("):
        assert forbidden not in source, forbidden
    assert re.findall(r"https?://[a-z]", source) == []
    assert 'credentials: "omit"' in source and 'referrerPolicy: "no-referrer"' in source


def test_widget_js_carries_the_same_words_as_the_server(client):
    source = client.get("/widget.js").get_data(as_text=True)
    words = json.loads(re.search(r"/\*WORDS\*/(.*?)/\*END\*/", source, re.S)[1])["text"]
    for lang in ("de", "en"):
        assert words[lang].items() >= say_all(lang, WORDS).items()
        for kind in all_kinds():
            assert words[lang].items() >= say_all(lang, kind.widget_texts, kind.translations).items(), (
                kind.name
            )
    assert words["de"]["latest"] == "Neueste Meldungen" and words["en"]["latest"] == "Latest messages"
    for table in (CATEGORY_LABELS, NAMES):
        for lang in ("de", "en"):
            assert json.dumps(say_all(lang, table), ensure_ascii=False) in source
    kinds = json.loads(re.search(r"/\*KINDS\*/(.*?)/\*END\*/", source, re.S)[1])
    assert kinds["waste"] == {"view": "pickups", "fields": ["next_pickups"], "ahead": True}
    assert "/*PARTS*/" not in source and source.count("const alertBanners") == 1


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_colour_pair_has_at_least_4_5_to_1_contrast():
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    pairs = list(CATEGORY_COLOURS.values())
    pairs += re.findall(r"\{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", css)
    for theme in ("", "dark-"):
        palette = dict(re.findall(rf"var\(--fsw-{theme}(bg|fg|muted|link)\, (#[0-9a-f]{{6}})\)", css))
        pairs += [(palette["bg"], palette[name]) for name in ("fg", "muted", "link")]
    assert len(pairs) > 20
    for background, text in pairs:
        assert contrast(background, text) >= 4.5, (background, text)
    assert {f".fsw-c-{c}" for c in CATEGORY_COLOURS} <= set(re.findall(r"\.fsw-c-[a-z-]+", css))


def crisis(client, tokens, targets):
    body = {"feed": "presse", "title": "Hochwasser: Altstadt meiden", "crisis": True, "targets": targets}
    created = client.post("/api/v1/desk/announcements", json=body, headers=bearer(tokens["paul"]))
    announcement = created.get_json()["id"]
    approved = client.post(
        f"/api/v1/desk/announcements/{announcement}/approve",
        json={"version": 1},
        headers=bearer(tokens["anna"]),
    )
    assert approved.status_code == 200
    return announcement


def test_crisis_banner_appears_while_the_notice_is_in_force_in_page_and_json(app, client):
    tokens = staff(app)
    assert "fsw-banner" not in client.get("/widgets/waste-test").get_data(as_text=True)
    assert client.get("/widgets/waste-test/crisis.json").get_json() == {"data": []}
    announcement = crisis(client, tokens, ["waste-test"])
    html = client.get("/widgets/waste-test?category=paper").get_data(as_text=True)  # filters never hide it
    assert 'class="fsw-banner fsw-crisis"' in html and "Hochwasser: Altstadt meiden" in html
    notices = client.get("/widgets/waste-test/crisis.json")
    assert notices.headers["Access-Control-Allow-Origin"] == "*"
    assert [n["title"] for n in notices.get_json()["data"]] == ["Hochwasser: Altstadt meiden"]
    assert "fsw-banner" not in client.get("/widgets/bauamt").get_data(as_text=True)  # not targeted
    client.post(f"/api/v1/desk/announcements/{announcement}/withdraw", headers=bearer(tokens["paul"]))
    assert "fsw-banner" not in client.get("/widgets/waste-test").get_data(as_text=True)


def test_builder_form_answers_with_snippets_and_a_same_origin_preview(client):
    query = "w_feed=waste-test&w_lang=en&w_items=3&w_mode=full&w_theme=dark&w_filters=category%3Dpapier"
    response = client.get(f"/?{query}")
    html = response.get_data(as_text=True)
    assert "frame-src 'self'" in response.headers["Content-Security-Policy"]
    preview = re.search(r'<iframe class="embed-preview" src="([^"]+)" title="([^"]+)"', html)
    assert preview[1].startswith("/widgets/waste-test?") and "category=paper" in preview[1]
    assert client.get(preview[1].replace("&amp;", "&")).status_code == 200
    snippets = re.findall(r'<textarea id="snippet-(\w+)"[^>]*>(.*?)</textarea>', html, re.S)
    text = {name: ET.fromstring(f"<x>{body}</x>").text for name, body in snippets}
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in text["iframe"]
    assert (
        "http://127.0.0.1:8000/widgets/waste-test?lang=en&amp;items=3&amp;mode=full&amp;theme=dark"
        in text["iframe"]
    )
    assert (
        '<feedserver-widget feed="waste-test" lang="en" items="3" mode="full" theme="dark"' in text["script"]
    )
    assert 'filter="category=paper"' in text["script"] and 'referrerpolicy="no-referrer"' in text["script"]


def test_builder_explains_a_bad_filter_and_shows_no_preview(client):
    response = client.get("/?w_feed=waste-test&w_filters=category%3Dunknown")
    html = response.get_data(as_text=True)
    assert 'id="embed-error"' in html and "embed-preview" not in html
    assert "frame-src" not in response.headers["Content-Security-Policy"]
    assert '<form method="get"' in client.get("/").get_data(as_text=True)


def test_air_chart_is_svg_with_title_and_description(make_app, httpserver, fixture_bytes):
    from tests.widget_live import feeds_config, serve_upstreams

    serve_upstreams(httpserver)
    app = make_app(feeds_config(httpserver))
    assert refresh_feed(app, "air").ok
    client = app.test_client()
    response = client.get("/widgets/air/charts/DEBE034/o3.svg?lang=en")
    assert response.mimetype == "image/svg+xml" and response.headers["Access-Control-Allow-Origin"] == "*"
    svg = ET.fromstring(response.data)
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Ozone: The last 48 hours"
    assert "48 hourly values" in svg.find(f"{SVG}desc").text
    assert len(svg.find(f"{SVG}polyline").get("points").split()) == 48
    assert [t.get("class") for t in svg.findall(f"{SVG}line")] == [
        "fsw-thr fsw-thr-alert",
        "fsw-thr fsw-thr-info",
    ]
    assert client.get("/widgets/air/charts/DEBE034/pm10.svg").status_code == 404
    assert client.get("/widgets/air/charts/DEBE034/o3.svg?station=x").status_code == 400
    page = client.get("/widgets/air?component=no2").get_data(as_text=True)
    assert "Stickstoffdioxid" in page and "Ozon" not in page


def test_bench_prints_the_gzipped_size_of_widget_js():
    result = subprocess.run(
        [sys.executable, "bench/widget_size.py"], capture_output=True, text=True, cwd=STATIC.parent.parent
    )
    assert result.returncode == 0, result.stdout
    packed = int(re.search(r"widget\.js: \d+ bytes, (\d+) bytes gzipped", result.stdout)[1])
    assert packed == len(gzip.compress(assemble(all_kinds()).encode(), 9)) < 8 * 1024
