"""application/problem+json (RFC 9457) from one place; never echoes the request back."""

from __future__ import annotations

import logging

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
PROBLEM_TYPE = "about:blank"


def problem(status: int, title: str, detail: str | None = None, **extra) -> Response:
    """A problem response; errors are cached briefly at most."""
    body = {"type": PROBLEM_TYPE, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
    )
    response.headers["Cache-Control"] = "no-store" if status >= 500 else "public, max-age=60"
    return response


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
