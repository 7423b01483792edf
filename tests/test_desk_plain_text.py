"""Staff text is plain text (issue 16, attack 8): stored exactly as typed, escaped by every renderer, and
anything the desk refuses is refused with a 422 naming the field, never silently changed.

The attack: desk text like `&lt;img ...&gt; </script>` was stored as an empty body without an error, and a
title collapsed to `">`.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import icalendar
import pytest
from markupsafe import escape

from tests.conftest import refresh_feed
from tests.desk_support import API, NOW, admin_app, bearer, create, csrf_of, desk_app, draft, login, publish

TITLE = '"><script>alert(1)</script>'
TEXT = "&lt;img src=x onerror=alert(1)&gt; </script>\nZweite Zeile & <b>mehr</b>"
OWN_SCRIPT = b'<script src="/static/copy.js" defer></script>'
ACTIVE = re.compile(rb"<\s*/?\s*(script|img|b)\b", re.IGNORECASE)  # a tag, not text about one
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def app(make_app, frozen):
    return desk_app(make_app, "presse")


def test_markup_like_staff_text_is_stored_exactly_as_typed(client, tokens):
    created = create(client, tokens["paul"], title=TITLE, text=TEXT)
    assert created.status_code == 201, created.get_json()
    [version] = created.get_json()["versions"]
    assert (version["title"], version["text"]) == (TITLE, TEXT)


def test_every_renderer_escapes_staff_text_and_readers_get_it_exactly(app, client, tokens):
    starts = (NOW + timedelta(days=1)).isoformat()
    publish(client, tokens, title=TITLE, text=TEXT, starts=starts, crisis=True, targets=["presse"])
    bodies = {fmt: client.get(f"/feeds/presse.{fmt}").data for fmt in ("rss", "atom", "json", "ics")}
    page = client.get("/feeds/presse").data.replace(OWN_SCRIPT, b"", 1)  # its copy buttons' script only
    bodies |= {"page": page, "widget": client.get("/widgets/presse").data}
    for name in ("rss", "atom", "page", "widget"):  # iCalendar and JSON are not HTML: text stays text
        assert not ACTIVE.search(bodies[name]), (name, ACTIVE.search(bodies[name]))

    rss_item = ET.fromstring(bodies["rss"]).find("channel/item")
    assert rss_item.findtext("title") == TITLE  # RSS titles are plain text
    description = rss_item.findtext("description")  # RSS descriptions are HTML: plain text goes in escaped
    assert "<" not in description and html.unescape(description) == TEXT
    atom_entry = ET.fromstring(bodies["atom"]).find(f"{ATOM}entry")
    assert atom_entry.findtext(f"{ATOM}title") == TITLE and atom_entry.findtext(f"{ATOM}summary") == TEXT
    assert atom_entry.find(f"{ATOM}summary").get("type", "text") == "text"
    [item] = json.loads(bodies["json"])["items"]
    assert (item["title"], item["content_text"]) == (TITLE, TEXT)
    [event] = icalendar.Calendar.from_ical(bodies["ics"]).walk("VEVENT")
    assert str(event["SUMMARY"]) == TITLE and str(event["DESCRIPTION"]).startswith(TEXT)
    for name in ("page", "widget"):
        assert str(escape(TITLE)).encode() in bodies[name], name
    [notice] = client.get("/widgets/presse/crisis.json").get_json()["data"]
    assert (notice["title"], notice["summary"]) == (TITLE, TEXT)
    [api_item] = client.get("/api/v1/feeds/presse/items").get_json()["data"]
    assert api_item["title"] == TITLE

    from feedserver.push.ap_documents import note_document

    runtime = app.extensions["feedserver"]
    [stored] = runtime.store.current_items("presse")
    note = note_document(runtime.settings, runtime.feed("presse"), stored)
    assert not ACTIVE.search(note["content"].encode())
    title, text, _link = re.findall(r"<p>(.*?)</p>", note["content"], re.DOTALL)
    assert (html.unescape(title), html.unescape(text.replace("<br>", "\n"))) == (TITLE, TEXT)


def test_a_less_than_sign_and_an_entity_reference_survive_as_typed(client, tokens):
    title, text = "Temperaturen < 0 °C", "&lt; bleibt &lt;, & bleibt &, <3 bleibt <3"
    publish(client, tokens, title=title, text=text)
    [item] = client.get("/feeds/presse.json").get_json()["items"]
    assert (item["title"], item["content_text"]) == (title, text)
    atom_entry = ET.fromstring(client.get("/feeds/presse.atom").data).find(f"{ATOM}entry")
    assert atom_entry.findtext(f"{ATOM}summary") == text


def test_surrounding_white_space_and_windows_line_ends_are_the_only_things_tidied(client, tokens):
    typed = {"title": "  Stadtfest  am Markt ", "text": "\r\nEins\r\n\r\nZwei  \r\n"}
    created = create(client, tokens["paul"], **typed)
    [version] = created.get_json()["versions"]
    assert (version["title"], version["text"]) == ("Stadtfest  am Markt", "Eins\n\nZwei")


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"title": "Glätte\x07SECRET-INPUT"}, "title"),
        ({"title": "Zwei\nZeilen"}, "title"),
        ({"title": "Tab\tim Titel"}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 161}, "title"),
        ({"text": "Nul\x00SECRET-INPUT"}, "text"),
        ({"text": "Escape \x1b[31m"}, "text"),
        ({"text": "C1 \x85 control"}, "text"),
        ({"text": "lone surrogate \ud800"}, "text"),
        ({"text": "x" * 10_001}, "text"),
    ],
    ids=["bell", "newline", "tab", "blank", "long-title", "nul", "escape", "c1", "surrogate", "long-text"],
)
def test_refused_text_gets_422_naming_the_field_and_nothing_is_stored(client, tokens, fields, field):
    response = create(client, tokens["paul"], **fields)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert b"SECRET-INPUT" not in response.data
    listed = client.get(f"{API}/announcements", headers=bearer(tokens["paul"])).get_json()
    assert listed == []


def test_an_edit_with_a_control_character_is_refused_and_adds_no_version(client, tokens):
    created = create(client, tokens["paul"]).get_json()
    url = f"{API}/announcements/{created['id']}"
    refused = client.patch(url, json={"text": "Streu\x00dienst"}, headers=bearer(tokens["paul"]))
    assert refused.status_code == 422 and "text" in refused.get_json()["errors"]
    assert client.get(url, headers=bearer(tokens["paul"])).get_json()["current_version"] == 1


def test_the_admin_form_keeps_markup_like_text_and_refuses_control_characters(tmp_path, monkeypatch, frozen):
    anna = login(admin_app(tmp_path, monkeypatch), "anna")
    created = draft(anna, title=TITLE, text=TEXT)
    assert created.status_code == 302
    page = anna.get(created.headers["Location"]).get_data(as_text=True)
    assert str(escape(TITLE)) in page and str(escape(TEXT)) in page and "<script" not in page
    refused = draft(anna, title="Glätte\x07")
    assert refused.status_code == 422 and 'id="title-error"' in refused.get_data(as_text=True)
    assert csrf_of(refused)  # the form comes back to be corrected


def test_feeds_of_plain_text_stay_plain_after_a_refresh(app, client, tokens):
    publish(client, tokens, title=TITLE, text=TEXT)
    assert refresh_feed(app, "presse").ok  # the scheduler's refresh must not reduce it after all
    [item] = client.get("/feeds/presse.json").get_json()["items"]
    assert (item["title"], item["content_text"]) == (TITLE, TEXT)
