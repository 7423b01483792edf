"""Usage statistics for the offices: /stats (a page) and /api/v1/stats (JSON); counts only."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..push import stats
from .common import language, now, runtime
from .page_text import TEXT
from .problems import problem

bp = Blueprint("stats", __name__)
DEFAULT_DAYS, MAX_DAYS = 30, 366
PRIVACY = {
    "de": "Gezählt werden nur Abrufe je Feed, Format und Tag. Es werden keine IP-Adressen, "
    "Browserkennungen oder andere Angaben über Lesende gespeichert.",
    "en": "Only requests per feed, format and day are counted. No IP addresses, user agents "
    "or other details about readers are stored.",
}
WORDS = {
    "de": {"heading": "Nutzungsstatistik", "days": "Tage", "format": "Format", "requests": "Abrufe",
           "not_modified": "davon 304 (unverändert)", "subscribers": "WebSub-Abonnements",
           "followers": "ActivityPub-Folgende", "period": "Zeitraum"},
    "en": {"heading": "Usage statistics", "days": "days", "format": "Format", "requests": "Requests",
           "not_modified": "of which 304 (not modified)", "subscribers": "WebSub subscriptions",
           "followers": "ActivityPub followers", "period": "Period"},
}  # fmt: skip


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
    body["privacy"] = PRIVACY["en"]
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
        t=TEXT[lang] | WORDS[lang],
        privacy=PRIVACY[lang],
        summary=stats.summary(runtime(), days, now()),
        days=days,
        server=runtime().settings.server,
    )
    return Response(
        html,
        headers={"Vary": "Accept-Language", "Content-Language": lang, "Cache-Control": "public, max-age=60"},
    )
