"""/admin/replies: citizens' messages to the feeds, for the office responsible for each feed.

Staff see the messages of their offices (admins all of them): open ones first, with the author's handle, the
post they answer and the text as plain text. They mark one handled or answer it; an answer goes back to the
author as a reply (public, or to the author alone), and both actions are in the audit log. Where the office's
answers need a second person's approval, an answer waits as a draft until an approver other than its writer
approves it. The same session,
CSRF and language rules as the rest of the desk (web/admin.py) apply.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for
from flask_babel import gettext, lazy_gettext

from ..desk.rules import APPROVER_ROLES, DeskError, Invalid, NotFound
from ..push import channel_records, replies
from ..push import records as push_records
from ..push.http import PushError
from ..sanitize import plain_text
from . import admin
from .common import now, runtime

bp = Blueprint("admin_replies", __name__, url_prefix="/admin/replies")
bp.before_request(admin.guard)
bp.after_request(admin.finish)
bp.url_defaults(admin.keep_language)
bp.register_error_handler(DeskError, admin.refused)
MAX_ANSWER = 2000  # characters of an answer (Mastodon's limit is 500 by default; longer ones fold)


@bp.get("/")
def inbox():
    """The messages of the user's offices: open ones first."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    found = replies.for_user(runtime(), g.user)
    return admin.page("admin/replies.html", title=gettext("Citizens' messages"), messages=found)


@bp.get("/<int:reply_id>")
def detail(reply_id: int):
    """One message with the post it answers, the answer form and the handled button."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    return _detail_page(_mine(reply_id))


@bp.post("/<int:reply_id>/handled")
def handled(reply_id: int):
    """Mark a message handled."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    found = _mine(reply_id)
    replies.mark_handled(runtime(), found, g.user, now())
    return redirect(url_for(".detail", reply_id=found.id))


@bp.post("/<int:reply_id>/answer")
def answer(reply_id: int):
    """Answer a message: back to its author as a reply, public or to them alone."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    found = _mine(reply_id)
    text = request.form.get("answer", "").replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_ANSWER:
        error = gettext("Write an answer of 1 to %(max)d characters.", max=MAX_ANSWER)
        return _detail_page(found, error=error, typed=text, status=422)
    public = request.form.get("visibility") == "public"
    try:
        replies.answer(runtime(), found, text, public, g.user, now())
    except Invalid as exc:
        return _detail_page(found, error=_first(exc), typed=text, status=422)
    except PushError as exc:
        return _detail_page(found, error=str(exc), typed=text, status=502)
    return redirect(url_for(".detail", reply_id=found.id))


@bp.post("/<int:reply_id>/approve")
def approve(reply_id: int):
    """A second person approves the answer that waits, which then goes out."""
    if (redirect_to := admin.login_required()) is not None:
        return redirect_to
    found = _mine(reply_id)
    try:
        replies.approve_answer(runtime(), found, g.user, now())
    except PushError as exc:
        return _detail_page(found, error=str(exc), status=502)
    return redirect(url_for(".detail", reply_id=found.id))


def _first(refusal: Invalid) -> str:
    """The first message of a refused answer's field errors."""
    return str(next(iter(refusal.extra["errors"].values()))[0])


def _detail_page(found, error: str | None = None, typed: str = "", status: int = 200):
    original = _original(found)
    may_approve = g.user.role in APPROVER_ROLES and g.user.name != found.drafted_by
    return admin.page("admin/reply.html", status, title=found.handle, m=found, original=original,
                      error=error, typed=typed or found.draft or "", max_answer=MAX_ANSWER,
                      may_approve=may_approve)  # fmt: skip


def _original(found) -> str | None:
    """The text of the feed's post the message answers, when it is one of ours."""
    if not found.in_reply_to:
        return None
    if found.channel:
        post = channel_records.post_by_remote_id(runtime().store.engine, found.channel, found.in_reply_to)
        return (post.sent_text or post.text) if post else None
    item_id = found.in_reply_to.rstrip("/").rsplit("/", 1)[-1]
    kept = push_records.note(runtime().store.engine, found.feed_id, item_id)
    return plain_text(kept[0].get("content", "")) if kept else None


def _mine(reply_id: int):
    """A message of the user's offices, or 404 (another office's message is not shown, not even as 403)."""
    try:
        return replies.visible(runtime(), g.user, reply_id)
    except NotFound:
        raise NotFound(lazy_gettext("There is no message with this id.")) from None
