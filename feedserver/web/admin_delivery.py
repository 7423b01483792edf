"""/admin/announcements/<id>/deliveries/<channel>/retry: queue a failed channel delivery again.

Only members of the announcement's office (admins: everyone) may, only for a delivery that failed for good
(not one that is queued, retrying or sent), and each retry is in the audit log. The same session, CSRF and
language rules as the rest of the desk (web/admin.py) apply.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, url_for
from flask_babel import lazy_gettext

from ..desk import rules
from ..desk.rules import Conflict, DeskError, NotFound
from ..notices import announcement_item_id
from ..push import deliveries
from . import admin
from .common import now, runtime

bp = Blueprint("admin_delivery", __name__, url_prefix="/admin/announcements")
bp.before_request(admin.guard)
bp.after_request(admin.finish)
bp.url_defaults(admin.keep_language)
bp.register_error_handler(DeskError, admin.refused)


@bp.post("/<int:announcement_id>/deliveries/<channel>/retry")
def retry(announcement_id: int, channel: str):
    """Queue one failed delivery of an announcement to a channel again, and audit it."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    if announcement_id > admin.MAX_ID or channel not in runtime().settings.channels:
        raise NotFound(lazy_gettext("There is no such delivery."))
    found = g.desk.get(g.user, announcement_id)
    rules.require_office(g.user, g.desk.office(found.feed_id))
    item_id = announcement_item_id(found.feed_id, found.id)
    if not deliveries.retry(runtime(), found.feed_id, item_id, channel, now()):
        raise Conflict(lazy_gettext("Only a delivery that failed can be retried."))
    g.desk.note(g.user, "delivery-retry", now(), found.id, detail=f"channel {channel}")
    return redirect(url_for("admin.detail", announcement_id=found.id))
