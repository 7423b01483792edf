"""RSS and Atom name static/feed.xsl in an xml-stylesheet instruction: a browser that applies XSLT shows the
feed as a readable page (what it is, how to subscribe, the items); feed readers parse the feed as before.

The feeds checked are the golden set's (tests/golden/, byte-identical to what the server sends, every kind and
an empty feed); lxml's libxslt is the engine Chromium uses too.
"""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from tests.api_support import feed_tables, serve_upstreams

GOLDEN = Path(__file__).parent / "golden"
STYLESHEET = Path(__file__).parent.parent / "feedserver/static/feed.xsl"
FEEDS = sorted(p for p in GOLDEN.glob("*/feed.*") if p.suffix in (".rss", ".atom"))
INSTRUCTION = b'<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:8000/static/feed.xsl"?>\n'


def transform(body: bytes) -> html.HtmlElement:
    """The page a browser would show for this feed."""
    result = etree.XSLT(etree.parse(str(STYLESHEET)))(etree.fromstring(body))
    return html.document_fromstring(str(result))


@pytest.mark.parametrize("path", FEEDS, ids=[f"{p.parent.name}/{p.name}" for p in FEEDS])
def test_rss_and_atom_carry_the_stylesheet_and_parse_exactly_as_without_it(path):
    body = path.read_bytes()
    declaration, instruction, rest = body.split(b"\n", 2)
    assert declaration.startswith(b"<?xml version=") and instruction + b"\n" == INSTRUCTION
    parsed, plain = feedparser.parse(body), feedparser.parse(declaration + b"\n" + rest)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if path.suffix == ".atom" else "rss20")
    assert [(e.id, e.title) for e in parsed.entries] == [(e.id, e.title) for e in plain.entries]
    assert parsed.feed.title == plain.feed.title


@pytest.mark.parametrize("path", FEEDS, ids=[f"{p.parent.name}/{p.name}" for p in FEEDS])
def test_the_stylesheet_shows_title_how_to_subscribe_and_every_item(path):
    body = path.read_bytes()
    feed = etree.fromstring(body)
    page = transform(body)
    atom = "{http://www.w3.org/2005/Atom}"
    title = feed.findtext("channel/title") or feed.findtext(f"{atom}title")
    items = feed.findall("channel/item") or feed.findall(f"{atom}entry")
    self_url = f"http://127.0.0.1:8000/feeds/{path.parent.name}{path.suffix}"
    lang = page.get("lang")
    assert lang == ("de" if "de" in (feed.findtext("channel/language") or feed.get(XML_LANG) or "") else "en")
    assert page.findtext(".//title") == title and page.findtext(".//h1") == title
    assert [c.text for c in page.findall(".//code")] == [self_url]
    assert ("Web-Feed" if lang == "de" else "web feed") in page.findtext(".//p[@class='notice']")
    assert page.find(".//link[@rel='stylesheet']").get("href") == "http://127.0.0.1:8000/static/style.css"
    shown = [h.text_content() for h in page.findall(".//ol/li/h3")]
    assert shown == [(i.findtext("title") or i.findtext(f"{atom}title")) for i in items]
    if not items:
        assert ("Derzeit keine Meldungen." if lang == "de" else "No messages at the moment.") in str(
            html.tostring(page, encoding="unicode")
        )
    assert page.findall(".//script") == [] and not page.xpath("//@style")


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def test_item_text_stays_text_in_the_page():
    body = (GOLDEN / "waste-ics/feed.rss").read_bytes()
    body = re.sub(
        rb"<description>[^<]*</description>",
        b"<description>a &lt;b&gt;bold&lt;/b&gt; claim</description>",
        body,
        count=2,
    )
    page = transform(body)
    assert page.findall(".//b") == [] and "a <b>bold</b> claim" in page.text_content()


def test_the_server_serves_the_stylesheet_as_xml_and_feeds_may_use_it(make_app, httpserver):
    client = make_app(feed_tables(serve_upstreams(httpserver))).test_client()
    response = client.get("/static/feed.xsl")
    assert response.status_code == 200 and response.mimetype in ("application/xslt+xml", "text/xsl")
    assert etree.fromstring(response.data).tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    policy = client.get("/opml").headers["Content-Security-Policy"]  # every data answer, feeds too
    assert "script-src 'self'" in policy and "style-src 'self'" in policy  # XSLT counts as a script
