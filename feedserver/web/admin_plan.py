"""/admin/plan: the planning view, the desk's scheduled and published messages by day and office.

From a week ago to two weeks ahead, of the offices the user belongs to (admins: all), narrowed to one office
with ?office=; each message links to its announcement. The same session and language rules as the rest of
the desk (web/admin.py) apply.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, g, request
from flask_babel import format_date, gettext, lazy_gettext

from ..desk import plan as planning
from ..desk.rules import DeskError
from . import admin
from .common import now, runtime

bp = Blueprint("admin_plan", __name__, url_prefix="/admin")
bp.before_request(admin.guard)
bp.after_request(admin.finish)
bp.url_defaults(admin.keep_language)
bp.register_error_handler(DeskError, admin.refused)
STATE_LABELS = {
    "published": lazy_gettext("published"),
    "scheduled": lazy_gettext("scheduled"),
    "pending": lazy_gettext("awaiting approval"),
}


@bp.get("/plan")
def plan_page():
    """Scheduled and published messages by day and office, optionally of one office."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    feeds = g.desk.postable_feeds(g.user)
    offices = sorted({office for f in feeds if (office := f.options.get("office"))})
    office = request.args.get("office", "")
    if office and office not in offices:
        raise DeskError(lazy_gettext("There is no office of yours with this name."))
    found = g.desk.list(g.user)
    if office:
        found = [a for a in found if g.desk.office(a.feed_id) == office]
    zone = ZoneInfo(runtime().settings.server.timezone)
    days = planning.plan(found, g.desk.office, now(), zone)
    first, last = planning.window(now(), zone)
    today = now().astimezone(zone).date()
    return admin.page(
        "admin/plan.html",
        title=gettext("Planning"),
        days=days,
        offices=offices,
        office=office,
        feeds={f.id: f.title for f in feeds},
        today=today,
        day_label=lambda day: format_date(day, "full"),
        period=(format_date(first, "long"), format_date(last, "long")),
        state_labels={state: str(label) for state, label in STATE_LABELS.items()},
    )
