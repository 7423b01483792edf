"""Embeddable widgets: /widgets/<id> (an iframe page, no JavaScript), its charts, /widget.js and /widget.css.

Cookie-free, storage-free and self-contained: the page needs one request besides itself (widget.css); its
charts are inline SVG; every link opens in a new tab without a referrer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, Response, json, render_template, request, url_for
from jinja2 import ChoiceLoader, FileSystemLoader

from ...config import FeedSettings
from ...display import clock_text, day_text, moment_text, number_text
from ...registry import all_kinds, load_kind
from ..api.http import feed_max_age
from ..common import now, runtime
from ..problems import problem
from .assets import Asset, asset, widget_script
from .model import OptionError, WidgetData, WidgetOptions, parse_options, widget_data
from .text import words

bp = Blueprint("widgets", __name__)
# The iframe page runs no script and loads nothing but its stylesheet; any site may frame it.
PAGE_CSP = "default-src 'none'; style-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'"
ASSET_SECONDS = 86400  # widget.js and widget.css: a day, then a cheap revalidation by ETag
ASSET_STALE = 7 * 86400  # ... and a week in which a stale copy may be used while revalidating
VERSIONED_SECONDS = 365 * 86400  # widget.css?v=<hash>: immutable


@bp.record_once
def _kind_templates(state) -> None:
    """Templates are looked up in the app's folder, then in the kinds' (their widget views and charts)."""
    folders = list(dict.fromkeys(folder for kind in all_kinds() for folder in kind.template_folders))
    env = state.app.jinja_env
    env.loader = ChoiceLoader([env.loader, FileSystemLoader(folders)])


@bp.get("/widget.js")
def widget_js():
    """The <feedserver-widget> web component, with the views of every kind."""
    return _serve_asset(widget_script(), ASSET_SECONDS)


@bp.get("/widget.css")
def widget_css():
    """The widgets' stylesheet; with ?v=<its hash> it never changes and may be cached for a year."""
    css = asset("widget.css")
    versioned = request.args.get("v") == css.etag.strip('"')
    return _serve_asset(css, VERSIONED_SECONDS if versioned else ASSET_SECONDS, immutable=versioned)


@bp.get("/widgets/<feed_id>")
def widget_page(feed_id: str):
    """The widget of one feed as a page for an iframe; query parameters are options and feed filters."""
    found = _load(feed_id)
    if isinstance(found, Response):
        return found
    feed, options, at = found
    try:
        data = widget_data(runtime(), feed, options, at)
    except OptionError as exc:  # a feed filter the feed does not accept
        return _refusal(exc)
    html = render_template("widgets/page.html", **_context(data), css_url=_css_url())
    response = _cacheable(html.encode(), "text/html; charset=utf-8", feed, data.valid_until, at)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Content-Language"] = options.lang
    return response


@bp.get("/widgets/<feed_id>/charts/<station>/<component>.svg")
def widget_chart(feed_id: str, station: str, component: str):
    """A chart of the feed's kind as SVG, e.g. an air reading's 48 hours (CORS: widget.js inserts it)."""
    found = _load(feed_id, allowed=("lang",))
    if isinstance(found, Response):
        return found
    feed, options, at = found
    data = widget_data(runtime(), feed, WidgetOptions(lang=options.lang, items=20), at)
    chart = load_kind(feed.kind).chart(data.data, (station, component), options.lang, data.zone)
    if chart is None:
        return problem(404, "Not Found", "This feed has no chart for this station and pollutant.")
    svg = render_template("widgets/chart.svg", chart=chart)
    response = _cacheable(svg.encode(), "image/svg+xml; charset=utf-8", feed, data.valid_until, at)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/widgets/<feed_id>/crisis.json")
def widget_crisis(feed_id: str):
    """The crisis notices in force for a feed (the JSON API has none yet); CORS for widget.js."""
    found = _load(feed_id, allowed=())
    if isinstance(found, Response):
        return found
    feed, _options, at = found
    crisis = runtime().overlay.on_top(feed.id, at)
    notices = [
        {"id": i.id, "title": i.title, "summary": i.summary, "url": i.url, "published": _iso(i.published)}
        for i in crisis.items
    ]
    body = json.dumps({"data": notices}, ensure_ascii=False).encode()
    response = _cacheable(body, "application/json", feed, crisis.next_change, at)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _load(feed_id: str, allowed: tuple[str, ...] | None = None):
    """(feed, options, now) or a 404/400 problem; `allowed` limits the parameters an endpoint takes."""
    feed = runtime().settings.feeds.get(feed_id)
    if feed is None:
        return problem(404, "Not Found", "There is no feed with this id; the catalogue at / lists them all.")
    args = request.args.to_dict(flat=False)
    if allowed is not None and any(name not in allowed for name in args):
        takes = ", ".join(allowed) or "no parameters"
        return problem(400, "Bad Request", f"This address takes only: {takes}.")
    try:
        options = parse_options(args, feed)
    except OptionError as exc:
        return _refusal(exc)
    return feed, options, now()


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _refusal(exc: OptionError) -> Response:
    extra = {"parameter": exc.parameter} if exc.parameter else {}
    return problem(400, "Bad Request", exc.detail, valid=list(exc.valid), **extra)


def _context(data: WidgetData) -> dict:
    """Template variables: the data, the words and the formatting helpers in the widget's language."""
    lang, zone = data.options.lang, data.zone
    state = runtime().store.feed_state(data.feed.id)
    base = runtime().settings.server.base_url.rstrip("/")
    kind = load_kind(data.feed.kind)
    return {
        "w": data,
        "data": data.data,
        "text": words(lang, [kind]),
        "feed_url": f"{base}/feeds/{data.feed.id}?lang={lang}",
        "updated": state.last_success,
        "pending": state.last_success is None,
        "day": lambda d: day_text(d, lang),
        "moment": lambda m: moment_text(m, lang, zone) if isinstance(m, datetime) else day_text(m, lang),
        "clock": lambda m: clock_text(m, zone),
        "number": lambda v: number_text(v, lang),
        **(kind.widget_context(data.data, lang, zone) if data.view == kind.view else {}),
    }


def _css_url() -> str:
    return url_for("widgets.widget_css", v=asset("widget.css").etag.strip('"'))


def _cacheable(body: bytes, media_type: str, feed: FeedSettings, valid_until, at: datetime) -> Response:
    """A body with a strong ETag, cached no longer than the feed's interval allows or the data holds."""
    seconds = feed_max_age(feed.every)
    if valid_until is not None:
        seconds = max(0, min(seconds, int((valid_until - at).total_seconds())))
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={seconds}", "Referrer-Policy": "no-referrer"}
    if _client_has(etag):
        return Response(status=304, headers=headers)
    return Response(body, content_type=media_type, headers=headers)


def _serve_asset(file: Asset, seconds: int, immutable: bool = False) -> Response:
    extra = ", immutable" if immutable else f", stale-while-revalidate={ASSET_STALE}"
    control = f"public, max-age={seconds}{extra}"
    headers = {
        "ETag": file.etag,
        "Cache-Control": control,
        "Referrer-Policy": "no-referrer",
        "Access-Control-Allow-Origin": "*",
    }
    if _client_has(file.etag):
        return Response(status=304, headers=headers)
    return Response(file.body, content_type=file.media_type, headers=headers)


def _client_has(etag: str) -> bool:
    """If-None-Match names this ETag (or *)."""
    tags = {t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")}
    return etag in tags or "*" in tags
