"""Translations through gettext: every English msgid in the code and the templates has its German text, the
committed .mo files match their .po sources, and every desk page speaks one language, German or English.

The catalogs are checked against a fresh extraction of the source tree with babel.cfg (what `make
translations` does), so a new `_('...')` without a German translation fails here, not in front of staff.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from feedserver.notices import announcement_item_id
from feedserver.push import channel_records, reply_records
from tests.desk_support import (
    PASSWORDS,
    add_user,
    admin_app,
    csrf_of,
    draft,
    login,
    login_attempt,
    set_password,
    token_for,
)
from tests.test_desk_channels import FEEDS, OFFLINE, TOKEN_VARIABLE
from tests.test_pages_text import leftovers

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "feedserver" / "translations"
PLUGIN_TRANSLATIONS = ROOT / "tests" / "noise_plugin_translations"  # a plugin kind's own catalog
# as in `make translations`: N_ and NC_ mark the public side's words (feedserver/i18n.py)
KEYWORDS = DEFAULT_KEYWORDS | {
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "N_": None,
    "NC_": ((1, "c"), 2),
}
LANGUAGES = ("de", "en")
BRACED = re.compile(r"\{\w*\}")  # str.format fields (marshmallow's validators fill in {max})


def extracted() -> dict[tuple[str | None, str], tuple]:
    """What `make translations` extracts: (context, msgid) -> the whole id (a tuple for plurals)."""
    with (ROOT / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found = extract_from_dir(ROOT, method_map, options_map, KEYWORDS)
    return {(context, _key(message)): message for _file, _line, message, _comments, context in found}


def catalog(lang: str, suffix: str = "po", folder: Path = TRANSLATIONS) -> Catalog:
    path = folder / lang / "LC_MESSAGES" / f"messages.{suffix}"
    with path.open("rb") as source:
        return read_po(source, locale=lang) if suffix == "po" else read_mo(source)


def _key(msgid) -> str:
    """A catalog's key: the msgid, the singular one of a plural (a .mo file reads plurals as lists)."""
    return msgid[0] if isinstance(msgid, tuple | list) else msgid


def _forms(string) -> tuple[str, ...]:
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def _compiled(message) -> tuple[str, ...]:
    """What pybabel compile writes for a message: an empty plural form becomes its msgid's form."""
    if not message.pluralizable:
        return (message.string,)
    return tuple(form or message.id[min(n, 1)] for n, form in enumerate(message.string))


def untranslated(ids: dict[str, tuple], translated: Catalog) -> list[str]:
    """Every way the catalog fails the code: a msgid missing, not translated, fuzzy, with other
    placeholders, or a stale one the code no longer has."""
    problems = []
    for (context, key), msgid in ids.items():
        message = translated.get(key, context=context)
        if message is None:
            problems.append(f"missing: {key!r}")
        elif message.fuzzy or not all(_forms(message.string)):
            problems.append(f"{'fuzzy' if message.fuzzy else 'not translated'}: {key!r}")
        elif any(set(BRACED.findall(_key(msgid))) != set(BRACED.findall(s)) for s in _forms(message.string)):
            problems.append(f"other {{fields}} than the msgid: {key!r}")
    problems += [f"{message.id!r}: {error}" for message, errors in translated.check() for error in errors]
    problems += [
        f"stale (run `make translations`): {m.id!r}"
        for m in translated
        if m.id and (m.context, _key(m.id)) not in ids
    ]
    return problems


def test_every_message_of_the_code_and_the_templates_has_its_german_translation():
    ids = extracted()
    assert (None, "Log in") in ids and (None, "Must be 1 to {max} characters long.") in ids  # templates, code
    public = {(None, "Latest messages"), (None, "Tomorrow"), ("waste category", "Other"), (None, "All clear")}
    assert public <= ids.keys()  # widgets, feed texts and the built-in kinds' and sources' words too
    assert untranslated(ids, catalog("de")) == []


def test_the_check_above_finds_what_it_should():
    ids = {(None, i): i for i in ("Log in", "Save", "At most {max}", "%(n)s x")} | {("bin", "Other"): "Other"}
    german = Catalog(locale="de")
    german.add("Log in", "Anmelden", flags=["fuzzy"])
    german.add("At most {max}", "Höchstens {höchstens}")
    german.add("%(n)s x", "%(m)s x", flags=["python-format"])
    german.add("Gone", "Weg")
    german.add("Other", "Weitere")  # translated, but not in the context the code asks for
    found = "\n".join(untranslated(ids, german))
    for problem in (
        "fuzzy: 'Log in'",
        "missing: 'Save'",
        "other {fields}",
        "'%(n)s x'",
        "stale",
        "missing: 'Other'",
    ):
        assert problem in found


@pytest.mark.parametrize(
    "folder,lang", [(TRANSLATIONS, "de"), (TRANSLATIONS, "en"), (PLUGIN_TRANSLATIONS, "de")]
)
def test_the_committed_mo_files_are_compiled_from_the_po_files_as_they_are(folder, lang):
    """The server's catalogs, and the one the test suite's plugin kind ships (keyed by context and msgid)."""
    source = {
        (m.context, _key(m.id)): _compiled(m)
        for m in catalog(lang, folder=folder)
        if m.id and any(_forms(m.string)) or m.pluralizable
    }
    compiled = {(m.context, _key(m.id)): _forms(m.string) for m in catalog(lang, "mo", folder) if m.id}
    assert compiled == source, f"run `make translations` (or pybabel compile -d {folder.relative_to(ROOT)})"


def test_the_english_catalog_knows_every_message():
    english = catalog("en")
    assert [key for context, key in extracted() if english.get(key, context=context) is None] == []


# --- every desk page in both languages --------------------------------------------------------------------
GERMAN = ("Meldung", "meldung", "Anmeld", "Abmeld", "Sitzung", "Protokoll", "Freigabe", "freigeben", "Zurück",
          "Bitte", "Redaktion", "Passwort", "Zum Inhalt", "Veröffentlich", "Fehlversuch", "nein")  # fmt: skip
ENGLISH = ("Announcement", "announcement", "Log in", "Log out", "Logged in", "Session", "Audit log", "pprov",
           "Withdraw", "Skip to", "Editorial", "Password", "Please", "Too many", "Must be", "characters",
           "Not Found", "Forbidden", " by ")  # fmt: skip
FOREIGN = {"de": ENGLISH, "en": GERMAN}
CARL = "carl-has-a-long-password"


class Said(HTMLParser):
    """The words a page says in its own language: text and aria-labels outside elements with another lang."""

    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    )

    def __init__(self, lang: str):
        super().__init__()
        self.lang, self.open, self.words = lang, [lang], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = attributes.get("lang") or self.open[-1]
        if lang == self.lang and attributes.get("aria-label"):
            self.words.append(attributes["aria-label"])
        if tag not in self.VOID:
            self.open.append(lang)

    def handle_endtag(self, tag):
        if tag not in self.VOID and len(self.open) > 1:
            self.open.pop()

    def handle_data(self, data):
        if self.open[-1] == self.lang:
            self.words.append(data)


def foreign_words(html: str, lang: str) -> list[str]:
    """Sentinel words of the other language among the words the page says in its own."""
    said = Said(lang)
    said.feed(html)
    text = " ".join(said.words)
    return [word for word in FOREIGN[lang] if word in text]


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    """The desk with presse posting to two channels (stadt, kreis), so the form offers them."""
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    return admin_app(tmp_path, monkeypatch, extra=OFFLINE, feeds=FEEDS)


@pytest.fixture
def desk(app):
    """anna and bernd logged in; announcements 1 (pending, by anna), 2 (approved) and 3 (withdrawn); carl,
    an author of the bauamt office, who has none."""
    add_user(app, "carl", "author", "bauamt")
    set_password(app, "carl", CARL)
    anna, bernd = login(app, "anna"), login(app, "bernd")
    for title in ("Wochenmarkt fällt aus", "Stadtfest am Markt", "Konzert im Park"):
        assert draft(anna, title=title).status_code == 302
    for number, action in ((2, "approve"), (3, "withdraw")):
        page = bernd.get(f"/admin/announcements/{number}")
        form = {"csrf_token": csrf_of(page), "version": "1"}
        assert bernd.post(f"/admin/announcements/{number}/{action}", data=form).status_code == 302
    delivered(app, 2)
    citizen = "https://social.example/users/erika"
    reply_records.add(app.extensions["feedserver"].store.engine, {
        "feed_id": "presse", "office": "presse", "remote_id": f"{citizen}/statuses/1", "actor": citizen,
        "handle": "@erika@social.example", "instance": "social.example", "in_reply_to": None,
        "text": "Fällt der Markt auch nächste Woche aus?", "received_at": datetime.now(UTC),
    })  # fmt: skip
    waiting = reply_records.add(app.extensions["feedserver"].store.engine, {
        "feed_id": "presse", "office": "presse", "remote_id": f"{citizen}/statuses/2", "actor": citizen,
        "handle": "@erika@social.example", "instance": "social.example", "in_reply_to": None,
        "text": "Und der Flohmarkt?", "received_at": datetime.now(UTC),
    })  # fmt: skip
    engine = app.extensions["feedserver"].store.engine
    reply_records.record_draft(engine, waiting, "Der findet statt.", True, "anna", datetime.now(UTC))
    return anna, bernd


def delivered(app, announcement_id: int) -> None:
    """Announcement 2 went out on stadt and failed for good on kreis (the post rows a worker leaves)."""
    engine, now = app.extensions["feedserver"].store.engine, datetime.now(UTC)
    item_id = announcement_item_id("presse", announcement_id)
    for channel in ("stadt", "kreis"):
        post = channel_records.Post(channel, "presse", item_id, "Stadtfest am Markt", "de", "queued")
        assert channel_records.add(engine, post, now)
    sent = channel_records.post(engine, "stadt", "presse", item_id)
    channel_records.mark_sent(engine, sent, "1", "https://stadt.example/@stadt/1", sent.text, now)
    channel_records.mark_failed(engine, post, "token refused: ('Mastodon API returned error', 401)", now)


def desk_pages(app, desk, lang: str) -> dict[str, object]:
    """Every desk page (name -> response), the page's language asked for with ?lang=."""
    anna, bernd = desk
    q = f"?lang={lang}"
    pages = {
        name: anna.get(f"{path}{q}")
        for name, path in (
            ("index", "/admin/"),
            ("form", "/admin/new"),
            ("edit", "/admin/announcements/1/edit"),
            ("own announcement", "/admin/announcements/1"),
            ("approved announcement", "/admin/announcements/2"),
            ("withdrawn announcement", "/admin/announcements/3"),
            ("audit", "/admin/audit"),
            ("sessions", "/admin/sessions"),
            ("error", "/admin/announcements/999"),
            ("messages", "/admin/replies/"),
            ("message", "/admin/replies/1"),
            ("own answer waiting", "/admin/replies/2"),
            ("plan", "/admin/plan"),
        )
    }
    pages["answer to approve"] = bernd.get(f"/admin/replies/2{q}")
    pages["empty messages"] = login(app, "carl", CARL).get(f"/admin/replies/{q}")
    pages["answer refused"] = anna.post(
        f"/admin/replies/1/answer{q}", data={"csrf_token": csrf_of(pages["message"]), "answer": ""}
    )
    pages["announcement to approve"] = bernd.get(f"/admin/announcements/1{q}")
    pages["empty index"] = login(app, "carl", CARL).get(f"/admin/{q}")  # an office without announcements
    token = csrf_of(anna.get(f"/admin/new{q}"))
    wrong = {
        "csrf_token": token,
        "feed": "presse",
        "title": "",
        "link": "ftp://x",
        "ends": "2026-12-01T10:00",
    }
    pages["form with errors"] = anna.post(f"/admin/new{q}", data=wrong)
    rule_broken = wrong | {"title": "Ohne Beginn", "link": "", "crisis": "on"}  # the rules across fields
    pages["form with a rule broken"] = anna.post(f"/admin/new{q}", data=rule_broken)
    pages["own answer refused"] = anna.post(
        f"/admin/replies/2/approve{q}", data={"csrf_token": csrf_of(pages["own answer waiting"])}
    )  # its writer may not approve it
    preview = {"csrf_token": token, "feed": "presse", "title": "Stadtfest", "text": "Musik. " * 100,
               "channels_offered": "1", "channels": ["stadt", "kreis"], "preview": "1"}  # fmt: skip
    pages["preview"] = anna.post(f"/admin/new{q}", data=preview)
    pages["edit preview"] = anna.post(f"/admin/announcements/1/edit{q}", data=preview | {"text": "Kurz."})
    pages["refused retry"] = anna.post(
        f"/admin/announcements/2/deliveries/stadt/retry{q}", data={"csrf_token": token}
    )
    pages["refused approval"] = anna.post(
        f"/admin/announcements/1/approve{q}",
        data={"csrf_token": csrf_of(pages["own announcement"]), "version": "1"},
    )
    stranger = app.test_client()
    pages["login"] = stranger.get(f"/admin/login{q}")
    pages["forged form"] = stranger.post(f"/admin/login{q}", data={"name": "x", "password": "y"})
    stranger.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang  # the same choice made by the browser's language
    pages["wrong password"] = login_attempt(stranger, "anna", "wrong")
    for _ in range(10):
        pages["locked"] = login_attempt(stranger, "zz-someone", "guess")
        if pages["locked"].status_code == 429:
            break
    return pages


STATUS = {
    "answer refused": 422,
    "form with errors": 422,
    "form with a rule broken": 422,
    "error": 404,
    "refused approval": 403,
    "own answer refused": 403,
    "forged form": 400,
}
STATUS |= {"wrong password": 401, "locked": 429, "refused retry": 409}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_desk_page_speaks_one_language_and_shows_no_leftovers(app, desk, lang):
    for name, response in desk_pages(app, desk, lang).items():
        html = response.get_data(as_text=True)
        assert response.status_code == STATUS.get(name, 200), (name, response.status_code)
        assert f'<html lang="{lang}">' in html, name
        assert leftovers(html) == [], name
        assert foreign_words(html, lang) == [], name


@pytest.mark.parametrize(
    "lang,words",
    [
        ("de", ("Muss 1 bis 160 Zeichen lang sein.", "Muss ein http", "Ein Ende braucht einen Beginn.")),
        ("en", ("Must be 1 to 160 characters long.", "Must be an http", "An end needs a start.")),
    ],
)
def test_form_errors_and_refusals_are_in_the_pages_language(app, desk, lang, words):
    pages = desk_pages(app, desk, lang)
    errors = pages["form with errors"].text + pages["form with a rule broken"].text
    assert all(word in errors for word in words), errors
    minutes = {"de": "in 1 Minute erneut", "en": "again in 1 minute."}[lang]
    assert minutes in pages["locked"].get_data(as_text=True)
    assert {"de": "Vier-Augen-Prinzip", "en": "Four-eyes rule"}[lang] in pages["refused approval"].get_data(
        as_text=True
    )
    own = {"de": "die sie nicht geschrieben hat", "en": "someone other than its writer"}[lang]
    assert own in pages["own answer refused"].get_data(as_text=True)


def test_a_language_chosen_with_lang_stays_on_every_link_form_and_redirect(app):
    browser = app.test_client()
    page = browser.get("/admin/login?lang=en").get_data(as_text=True)
    assert 'action="/admin/login?lang=en"' in page
    assert 'href="/admin/login?lang=de" hreflang="de" lang="de">Deutsch</a>' in page  # the switch
    form = {"name": "anna", "password": PASSWORDS["anna"], "csrf_token": csrf_of(browser.get("/admin/login"))}
    answer = browser.post("/admin/login?lang=en", data=form)
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/?lang=en"
    index = browser.get(answer.headers["Location"]).get_data(as_text=True)
    links = re.findall(r'(?:href|action)="(/admin[^"]*)"', index)
    assert links and all(link.endswith("lang=en") or link.endswith("lang=de") for link in links), links
    assert [link for link in links if link.endswith("lang=de")] == ["/admin/?lang=de"]  # only the switch
    assert 'href="/stats?lang=en"' in index


def test_without_lang_the_browsers_language_decides_and_german_is_the_servers_default(app):
    browser = app.test_client()
    assert "Log in</h1>" in browser.get("/admin/login", headers={"Accept-Language": "en-GB,en"}).text
    assert "Anmelden</h1>" in browser.get("/admin/login", headers={"Accept-Language": "fr"}).text
    assert "Anmelden</h1>" in browser.get("/admin/login").text


def test_the_desk_api_answers_programs_in_english_whatever_their_accept_language(app):
    client, german = (
        app.test_client(),
        {"Accept-Language": "de", "Authorization": f"Bearer {token_for(app, 'anna')}"},
    )
    invalid = client.post("/api/v1/desk/announcements", json={"feed": "presse", "title": ""}, headers=german)
    assert invalid.status_code == 422
    assert invalid.get_json()["errors"]["title"] == ["Must be 1 to 160 characters long."]
    missing = client.get("/api/v1/desk/announcements/999", headers=german)
    assert missing.get_json()["title"] == "Not Found"
    assert missing.get_json()["detail"] == "There is no announcement with this id."
