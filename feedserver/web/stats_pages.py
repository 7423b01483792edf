"""Usage statistics for the offices: /stats (a page) and /api/v1/stats (JSON); counts only."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..i18n import N_, say, say_all
from ..push import stats
from .common import language, now, runtime
from .page_text import page_words
from .problems import problem

bp = Blueprint("stats", __name__)
DEFAULT_DAYS, MAX_DAYS = 30, 366
PRIVACY = N_(
    "Only requests per feed, format and day are counted. No IP addresses, user agents or other details "
    "about readers are stored."
)
WORDS = {
    "heading": N_("Usage statistics"),
    "days": N_("days"),
    "format": N_("Format"),
    "requests": N_("Requests"),
    "not_modified": N_("of which 304 (not modified)"),
    "subscribers": N_("WebSub subscriptions"),
    "followers": N_("ActivityPub followers"),
    "period": N_("Period"),
}


def _days() -> int | None:
    value = request.args.get("days", str(DEFAULT_DAYS))
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_DAYS else None


@bp.get("/api/v1/stats")
def stats_json():
    """Requests, 304s and subscribers per feed and format over the last `days` days (default 30).
    ---
    get:
      operationId: getStats
      tags: [statistics]
      summary: Usage statistics
      description: Per feed and format, the requests answered and the 304s among them over the last `days`
        days in the server's time zone, current WebSub subscriptions (and ActivityPub followers), and the
        day rows. Counts only; nothing about a reader is stored.
      parameters:
        - in: query
          schema: feedserver.api_schemas.StatsQuerySchema
      responses:
        "200":
          description: The counts.
          content:
            application/json:
              schema: feedserver.api_schemas.StatsResponseSchema
        "400": BadRequest
        "414": UriTooLong
    """
    days = _days()
    if days is None:
        return problem(
            400, "Bad Request", f"days must be a whole number from 1 to {MAX_DAYS}.", parameter="days"
        )
    stats.flush(current_app)  # this process's latest counts too
    body = stats.summary(runtime(), days, now())
    body["privacy"] = PRIVACY  # the API speaks English
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/stats")
def stats_page():
    """The same figures as a page for the offices."""
    days = _days()
    if days is None:
        return problem(
            400, "Bad Request", f"days must be a whole number from 1 to {MAX_DAYS}.", parameter="days"
        )
    stats.flush(current_app)
    lang = language()
    html = render_template(
        "stats.html",
        lang=lang,
        t=page_words(lang) | say_all(lang, WORDS),
        privacy=say(lang, PRIVACY),
        summary=stats.summary(runtime(), days, now()),
        days=days,
        server=runtime().settings.server,
    )
    return Response(
        html,
        headers={"Vary": "Accept-Language", "Content-Language": lang, "Cache-Control": "public, max-age=60"},
    )
