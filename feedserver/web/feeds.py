"""/feeds/<id>.<format>: the stored bytes of every feed, whole or filtered, with validators."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from ..filters import FilterError, parse_selection
from ..push.stats import count_feed_request
from ..push.topics import feed_topic_url, link_header
from ..renditions import accepted_filters, formats_of
from ..serving import Served, current, filtered
from .common import now, runtime, serve_bytes
from .problems import problem
from .security import route_headers, secured, uses_https

bp = Blueprint("feeds", __name__)
MAX_QUERY = 1000  # characters in a feed URL's query string


@bp.get("/feeds/<feed_id>.<fmt>")
def feed(feed_id: str, fmt: str):
    """One feed in one format; query parameters are its documented filters."""
    rt = runtime()
    config = rt.settings.feeds.get(feed_id)
    if config is None:
        return problem(404, "Not Found", "There is no feed with this id; see /opml for all feeds.")
    if fmt not in formats_of(config):
        return problem(404, "Not Found", f"This feed is available as: {', '.join(formats_of(config))}.")
    at = now()
    if request.query_string:
        served = _filtered(rt, config, fmt, at)
        if isinstance(served, Response):
            return served  # a problem with the query
        canonical = urlencode(sorted(_query().items()))
    else:  # the hot path: a whole feed, its bytes straight from the cache
        served, canonical = current(rt, config, fmt, at), ""
    # WebSub discovery on every answer: this server's hub, and the canonical topic URL (filters sorted).
    base_url = rt.settings.server.base_url
    link = ("Link", link_header(rt.settings, feed_topic_url(rt.settings, feed_id, fmt, canonical)))
    if served is None:
        response = problem(503, "Service Unavailable", "This feed has not been fetched successfully yet.")
        response.headers["Retry-After"] = "60"
        response.headers.add(*link)
        return response
    response = serve_bytes(served, at, (link, *route_headers("data", uses_https(base_url))))
    count_feed_request(feed_id, fmt, response.status_code)
    return secured(response)


def _query() -> dict[str, str]:
    """The query parameters, repeated ones joined by commas."""
    return {name: ",".join(request.args.getlist(name)) for name in request.args}


def _filtered(rt, config, fmt: str, at) -> Served | Response | None:
    """The bytes of a filtered request, or a problem response naming the parameter at fault."""
    if len(request.query_string) > MAX_QUERY:
        return problem(414, "URI Too Long", f"The query string is limited to {MAX_QUERY} characters.")
    query = _query()
    options = {}
    if fmt == "ics" and "alarm" in query:
        options["alarm"] = _alarm(query["alarm"])
        if options["alarm"] is None:
            return problem(400, "Bad Request", "alarm must be a time of day like 18:00.", parameter="alarm")
    if not query:  # a bare "?" or only empty names: the whole feed
        return current(rt, config, fmt, at)
    filters = {k: v for k, v in query.items() if not (k == "alarm" and options)}
    try:
        selection = parse_selection(filters, accepted_filters(config), rt.store.current_items(config.id))
    except FilterError as exc:
        return problem(
            400,
            "Bad Request",
            f"Invalid filter parameter {exc.name!r}: {exc.problem}.",
            parameter=exc.name,
            valid=exc.valid,
        )
    return filtered(rt, config, fmt, selection, urlencode(sorted(query.items())), at, **options)


def _alarm(value: str) -> time | None:
    """'18:00' -> time(18, 0); None when it is not a time of day."""
    hour, _, minute = value.partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(minute) == 2 and int(hour) < 24 and int(minute) < 60):
        return None
    return time(int(hour), int(minute))
