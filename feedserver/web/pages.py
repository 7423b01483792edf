"""Human pages: the catalogue of all feeds (de/en), one page per feed, and /opml."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request

from ..items import in_language
from ..push.topics import add_links, catalogue_topic_url, hub_url
from ..serving import current
from .common import language, local_text, now, runtime
from .page_entries import by_topic, entries, entry, in_place, places
from .page_text import FORMAT_TYPES, page_words
from .problems import problem
from .security import CSP
from .widgets.builder import builder

bp = Blueprint("pages", __name__)


@bp.app_template_filter("local")
def local_time(value: datetime, lang: str) -> str:
    """A time in the server's time zone with its abbreviation (MEZ/MESZ on German pages, CET/CEST)."""
    return local_text(value, ZoneInfo(runtime().settings.server.timezone), lang)


@bp.get("/")
def catalogue():
    """Every feed with its status and subscribe links, in German or English."""
    lang, rt = language(), runtime()
    embed = builder(rt, request.args, lang)
    self_url = catalogue_topic_url(rt.settings, lang)  # the catalogue is a WebSub topic too
    every = entries(rt, lang, now())
    place = request.args.get("place", "").strip()[:100]
    shown = in_place(every, place) if place else every
    html = render_template(
        "catalogue.html",
        lang=lang,
        t=page_words(lang),
        entries=every,
        groups=by_topic(shown),
        place=place,
        places=places(rt.settings),
        server=rt.settings.server,
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
    items = [in_language(i, lang) for i in rt.store.messages(feed.id, at, feed.max_items)] if served else []
    html = render_template(
        "feed.html",
        lang=lang,
        t=page_words(lang),
        entry=entry(rt, feed, rt.store.feed_state(feed.id), lang, at),
        items=items,
        server=rt.settings.server,
        types=FORMAT_TYPES,
        webpush_key=rt.settings.webpush.application_server_key,  # None: "notify me" is off
        replies_office=feed.office if rt.settings.replies.enabled else None,
        replies_days=rt.settings.replies.retention_days,
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
