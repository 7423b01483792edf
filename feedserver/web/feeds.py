"""/feeds/<id>.<format>: the stored bytes of every feed, whole or filtered, with validators."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlencode

from flask import Blueprint, request

from ..filters import FilterError, parse_selection
from ..output import accepted_filters, current, filtered, formats_of
from ..push.topics import add_links, feed_topic_url
from .common import now, runtime, serve_bytes
from .problems import problem

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
    if len(request.query_string) > MAX_QUERY:
        return problem(414, "URI Too Long", f"The query string is limited to {MAX_QUERY} characters.")
    query = {name: ",".join(request.args.getlist(name)) for name in request.args}
    options = {}
    if fmt == "ics" and "alarm" in query:
        options["alarm"] = _alarm(query["alarm"])
        if options["alarm"] is None:
            return problem(400, "Bad Request", "alarm must be a time of day like 18:00.", parameter="alarm")
    at = now()
    if not query:
        served = current(rt, config, fmt, at)
    else:
        accepted = accepted_filters(config)
        try:
            filters = {k: v for k, v in query.items() if not (k == "alarm" and options)}
            selection = parse_selection(filters, accepted, rt.store.current_items(feed_id))
        except FilterError as exc:
            return problem(
                400,
                "Bad Request",
                f"Invalid filter parameter {exc.name!r}: {exc.problem}.",
                parameter=exc.name,
                valid=exc.valid,
            )
        canonical = urlencode(sorted(query.items()))
        served = filtered(rt, config, fmt, selection, canonical, at, **options)
    # WebSub discovery on every answer: this server's hub, and the canonical topic URL (filters sorted).
    self_url = feed_topic_url(rt.settings, feed_id, fmt, urlencode(sorted(query.items())))
    if served is None:
        response = problem(503, "Service Unavailable", "This feed has not been fetched successfully yet.")
        response.headers["Retry-After"] = "60"
        return add_links(response, rt.settings, self_url)
    return add_links(serve_bytes(served, at), rt.settings, self_url)


def _alarm(value: str) -> time | None:
    """'18:00' -> time(18, 0); None when it is not a time of day."""
    hour, _, minute = value.partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(minute) == 2 and int(hour) < 24 and int(minute) < 60):
        return None
    return time(int(hour), int(minute))
