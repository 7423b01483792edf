"""Human pages: the catalogue of all feeds (de/en), one page per feed, and /opml."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request

from ..push.topics import add_links, catalogue_topic_url, hub_url
from ..renditions import formats_of
from ..serving import current
from .common import language, now, runtime
from .problems import problem
from .security import CSP
from .widgets.builder import builder

bp = Blueprint("pages", __name__)
TIME_FORMATS = {"de": "%d.%m.%Y %H:%M %Z", "en": "%Y-%m-%d %H:%M %Z"}


@bp.app_template_filter("local")
def local_time(value: datetime, lang: str) -> str:
    """A time as people of this city read it: in the server's time zone, with its abbreviation (CET, CEST)."""
    zone = ZoneInfo(runtime().settings.server.timezone)
    return value.astimezone(zone).strftime(TIME_FORMATS.get(lang, TIME_FORMATS["en"]))


TEXT = {
    "de": {
        "feeds": "Feeds",
        "status": "Status",
        "ok": "aktuell",
        "stale": "veraltet seit",
        "pending": "noch nicht abgerufen",
        "updated": "Letzte Änderung",
        "subscribe": "Abonnieren",
        "licence": "Lizenz",
        "source": "Quelle",
        "switch": "English",
        "switch_lang": "en",
        "intro": "Offene Daten der Stadt als Feeds für Feedreader, "
        "Kalender und eigene Anwendungen. Ohne Cookies, ohne Tracking.",
        "all_feeds": "Alle Feeds als OPML",
        "items": "Meldungen",
        "no_items": "Derzeit keine Meldungen.",
        "back": "Zur Übersicht",
        "calendar": "Kalender abonnieren",
        "never": "noch nie",
    },
    "en": {
        "feeds": "Feeds",
        "status": "Status",
        "ok": "up to date",
        "stale": "stale since",
        "pending": "not fetched yet",
        "updated": "Last change",
        "subscribe": "Subscribe",
        "licence": "Licence",
        "source": "Source",
        "switch": "Deutsch",
        "switch_lang": "de",
        "intro": "The city's open data as feeds for feed readers, "
        "calendars and your own applications. No cookies, no tracking.",
        "all_feeds": "All feeds as OPML",
        "items": "Messages",
        "no_items": "No messages at the moment.",
        "back": "Back to all feeds",
        "calendar": "Subscribe to calendar",
        "never": "never",
    },
}
FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed", "ics": "iCalendar"}
FORMAT_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}


def _entries(lang: str) -> list[dict]:
    rt = runtime()
    states = rt.store.feed_states()
    base = rt.settings.server.base_url.rstrip("/")
    entries = []
    for feed in rt.settings.feeds.values():
        state = states.get(feed.id)
        entries.append(
            {
                "feed": feed,
                "state": state,
                "formats": [
                    (fmt, FORMAT_LABELS[fmt], f"{base}/feeds/{feed.id}.{fmt}") for fmt in formats_of(feed)
                ],
                "webcal": f"webcal://{base.split('://', 1)[1]}/feeds/{feed.id}.ics"
                if "ics" in formats_of(feed)
                else None,
            }
        )
    return entries


@bp.get("/")
def catalogue():
    """Every feed with its status and subscribe links, in German or English."""
    lang = language()
    embed = builder(runtime(), request.args, lang)
    self_url = catalogue_topic_url(runtime().settings, lang)  # the catalogue is a WebSub topic too
    html = render_template(
        "catalogue.html",
        lang=lang,
        t=TEXT[lang],
        entries=_entries(lang),
        server=runtime().settings.server,
        types=FORMAT_TYPES,
        builder=embed,
        websub={"hub": hub_url(runtime().settings), "self": self_url},  # WebSub discovery in <head>
    )
    headers = {"Vary": "Accept-Language", "Content-Language": lang}
    if embed.embed is not None:  # the builder's preview is an iframe of our own /widgets/ page
        headers["Content-Security-Policy"] = CSP["page"] + "; frame-src 'self'"
    return add_links(Response(html, headers=headers), runtime().settings, self_url)


@bp.get("/feeds/<feed_id>")
def feed_page(feed_id: str):
    """One feed's current messages as a page (the link target of every item)."""
    rt = runtime()
    feed = rt.settings.feeds.get(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id.")
    lang = language()
    at = now()
    served = current(rt, feed, "json", at)
    items = rt.store.messages(feed.id, at, feed.max_items) if served else []
    entry = next(e for e in _entries(lang) if e["feed"].id == feed_id)
    html = render_template(
        "feed.html",
        lang=lang,
        t=TEXT[lang],
        entry=entry,
        items=items,
        server=rt.settings.server,
        types=FORMAT_TYPES,
    )
    return Response(html, headers={"Vary": "Accept-Language", "Content-Language": lang})


@bp.get("/opml")
def opml():
    """All feeds as OPML 2.0, for importing into a feed reader at once."""
    rt = runtime()
    base = rt.settings.server.base_url.rstrip("/")
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = rt.settings.server.title
    body = ET.SubElement(root, "body")
    for feed in rt.settings.feeds.values():
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=feed.title,
            title=feed.title,
            xmlUrl=f"{base}/feeds/{feed.id}.rss",
            htmlUrl=f"{base}/feeds/{feed.id}",
            description=feed.description,
            language=feed.language,
        )
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(
        data,
        content_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="feeds.opml"'},
    )
