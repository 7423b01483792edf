"""The desk form's preview ("Vorschau"): the draft as the SMS line, as each channel's post and as a push
notification, each with its length and limit, made by the code that makes the real ones. Nothing is saved."""

from __future__ import annotations

from flask import g
from werkzeug.datastructures import MultiDict

from ..desk import schemas
from ..push.preview import Preview, previews
from ..push.social import carried_by
from .admin_forms import form_content
from .common import now, runtime


def draft_previews(form: MultiDict, timezone: str, found=None) -> list[Preview]:
    """Previews of the submitted form (a new announcement, or an edit of `found`); the schema's and the
    desk's errors are raised exactly as saving would raise them."""
    data = form_content(form, timezone, with_feed=found is None)
    if found is None:
        fields = schemas.load(schemas.AnnouncementCreate(), data)
        feed_id = fields.pop("feed")
    else:
        fields = schemas.load(schemas.AnnouncementUpdate(), data)
        if fields.get("publish_at") is None:
            fields.pop("publish_at", None)  # as saving does: an empty field keeps the publication time
        feed_id = found.feed_id
    item = g.desk.draft(g.user, feed_id, fields, now(), found)
    feed = runtime().feed(feed_id)
    sms = Preview("sms", "", item.title, len(item.title), schemas.MAX_TITLE, False)
    return [sms, *previews(runtime(), feed, item, carried_by(runtime(), feed, item))]
