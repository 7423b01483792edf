"""Error answers from one place, never echoing the request: application/problem+json (RFC 9457) for
programs, and a short HTML page for browsers (content negotiation on Accept)."""

from __future__ import annotations

import logging

from flask import Flask, Response, has_request_context, json, render_template, request
from werkzeug.exceptions import HTTPException

from ..i18n import N_, say, say_all
from .common import language
from .page_text import ERROR_WORDS, page_words

log = logging.getLogger(__name__)
PROBLEM_TYPE = "about:blank"


PROBLEM_TYPES = ("application/problem+json", "application/json")
# Each status's name as the heading of a browser's error page; English pages keep the answer's own title.
HEADINGS = {
    400: N_("Bad Request"), 404: N_("Not Found"), 405: N_("Method Not Allowed"), 406: N_("Not Acceptable"),
    413: N_("Content Too Large"), 414: N_("URI Too Long"), 415: N_("Unsupported Media Type"),
    429: N_("Too Many Requests"), 500: N_("Internal Server Error"), 503: N_("Service Unavailable"),
}  # fmt: skip


def problem(status: int, title: str, detail: str | None = None, **extra) -> Response:
    """A problem response (an HTML page for a browser); errors are cached briefly at most."""
    if _browser():
        response = _page(status, title, detail)
    else:
        body = {"type": PROBLEM_TYPE, "title": title, "status": status}
        if detail:
            body["detail"] = detail
        body.update(extra)
        response = Response(
            json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
        )
    response.headers["Cache-Control"] = "no-store" if status >= 500 else "public, max-age=60"
    response.vary.add("Accept")
    return response


def _browser() -> bool:
    """True when the client prefers HTML to JSON (a browser; curl and programs send */* or ask for JSON)."""
    if not has_request_context():
        return False
    return request.accept_mimetypes.best_match([*PROBLEM_TYPES, "text/html"]) == "text/html"


def _page(status: int, title: str, detail: str | None) -> Response:
    lang = language()
    heading = say(lang, HEADINGS[status]) if lang != "en" and status in HEADINGS else title
    words = say_all(lang, ERROR_WORDS) | page_words(lang)
    html = render_template("error.html", lang=lang, t=words, status=status, heading=heading, detail=detail)
    return Response(html, status=status, mimetype="text/html")


def register(app: Flask) -> None:
    """Turn every HTTP error and any unexpected exception into a problem response."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = problem(exc.code or 500, exc.name)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "The error was logged.")
