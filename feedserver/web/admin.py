"""/admin: the editorial desk for people: log in, draft, edit, approve, withdraw, read the audit log.

Server-rendered forms, no JavaScript. The one cookie of this server (see admin_session.py) lives here, and
every POST carries a CSRF token. Sessions are stored on the server (feedserver.desk.access): logout, idle
time, the lifetime, a new password or a disabled user end them; each user sees and ends their own at
/admin/sessions. Logins are throttled per name and per client address. Without `[server] secret_key` the
whole page answers 503 and logs why.

German or English through gettext (English msgids, feedserver/translations), chosen as on the public pages:
?lang= first, then Accept-Language. A ?lang= choice stays on every desk link, form and redirect.
"""

from __future__ import annotations

import logging
import math
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, has_request_context, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext, ngettext
from marshmallow import ValidationError

from ..desk import rules, schemas
from ..desk.access import Access
from ..desk.actions import Desk
from ..desk.rules import STATUSES, DeskError, Invalid, NotFound, TooManyRequests
from ..push import deliveries
from .admin_forms import form_content, form_values, submitted_values
from .admin_labels import (
    ACTION_LABELS,
    CHANNEL_TYPES,
    DELIVERY_LABELS,
    PREVIEW_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)
from .admin_preview import draft_previews
from .admin_session import AdminSession, clear_session, csrf_token, csrf_valid, read_session, write_session
from .common import local_text, now, runtime
from .problems import problem

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)
MAX_ID = 2**31 - 1
LANGUAGES = ("de", "en")


@bp.before_request
def guard():
    """503 without a secret key; read the session cookie; every POST must carry its session's CSRF token."""
    secret = runtime().settings.server.secret_key
    if not secret:
        if not current_app.extensions.get("feedserver.admin.warned"):
            current_app.extensions["feedserver.admin.warned"] = True
            log.warning(
                '/admin is off: set [server] secret_key = { env = "FEEDSERVER_SECRET_KEY" } to enable it'
            )
        return problem(503, "Service Unavailable", "The admin page is not configured on this server.")
    g.secret, g.desk, g.access = secret, Desk(runtime()), Access(runtime())
    g.lifetime = runtime().settings.desk.session_lifetime
    g.session = read_session(secret, g.lifetime)
    if request.method == "POST" and not csrf_valid(
        secret, g.session, request.form.get("csrf_token"), g.lifetime
    ):
        return refused(
            DeskError(lazy_gettext("The form's CSRF token is missing or invalid; reload the page."))
        )
    found = g.access.session_user(g.session.sid, now()) if g.session is not None else None
    g.user, g.session_id = found if found is not None else (None, None)
    return None


@bp.url_defaults
def keep_language(endpoint: str, values: dict) -> None:
    """A language chosen with ?lang= stays chosen on every desk link, form and redirect (no cookie for it)."""
    chosen = request.args.get("lang") if has_request_context() else None
    if chosen in LANGUAGES:
        values.setdefault("lang", chosen)


@bp.after_request
def finish(response):
    """Nothing here may be cached; the session cookie is written only by this blueprint."""
    response.headers["Cache-Control"] = "no-store"
    if g.get("new_session") is not None:
        write_session(response, g.secret, g.new_session, g.lifetime)
    elif g.get("end_session"):
        clear_session(response)
    return response


@bp.errorhandler(DeskError)
def refused(exc: DeskError):
    """The desk's error page, in the page's language."""
    return page("admin/error.html", exc.status, detail=str(exc.detail), title=str(exc.title))


def page(template: str, status: int = 200, **context):
    """A desk page in the user's language, with the CSRF token, the language switch and time helpers."""
    session = g.get("new_session") or g.get("session")
    zone, lang = ZoneInfo(runtime().settings.server.timezone), str(get_locale())
    html = render_template(
        template,
        user=g.get("user"),
        csrf=csrf_token(g.secret, session) if session else "",
        lang=lang,
        switch=_switch(lang),
        local=lambda value: local_text(value, zone, lang) if value else "–",  # as on the public pages
        status_labels={status: str(label) for status, label in STATUS_LABELS.items()},
        action_label=lambda action: str(ACTION_LABELS.get(action, action)),
        role_label=lambda role: str(ROLE_LABELS.get(role, role)),
        **context,
    )
    return html, status, {"Content-Type": "text/html; charset=utf-8"}


def _switch(lang: str) -> tuple[str, str]:
    """(the other language, this page's address in it); a page answering a POST switches on its GET page."""
    other = "en" if lang == "de" else "de"
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return other, url_for(request.endpoint, **(request.view_args or {}), lang=other)
    target = "admin.login_form" if request.endpoint == "admin.login" else "admin.index"
    return other, url_for(target, lang=other)


def login_required():
    """None for a logged-in user, else the redirect to the login form."""
    return None if g.user is not None else redirect(url_for("admin.login_form"))


def _checked_id(announcement_id: int) -> int:
    if announcement_id > MAX_ID:
        raise NotFound(lazy_gettext("There is no announcement with this id."))
    return announcement_id


# --- login ----------------------------------------------------------------------------------------------
@bp.get("/login")
def login_form():
    """The login form (it starts an anonymous session that carries the form's CSRF token)."""
    if g.session is None:
        g.new_session = AdminSession.fresh()
    return page("admin/login.html", title=gettext("Log in"))


@bp.post("/login")
def login():
    """Check name and password under the throttle; on success a fresh session, stored on the server."""
    name, password = request.form.get("name", "")[:64], request.form.get("password", "")[:1024]
    agent = request.headers.get("User-Agent", "")[:500]
    try:
        found = g.access.login(name, password, _client(), agent, now())
    except TooManyRequests as exc:
        return _locked(exc)
    if found is None:
        return page("admin/login.html", 401, title=gettext("Log in"), failed=True)
    g.new_session = AdminSession(found[1])  # a new id: a session id planted before login is worthless
    return redirect(url_for(".index"))


@bp.post("/logout")
def logout():
    """End the session on the server (a copy of the cookie opens nothing afterwards) and drop the cookie."""
    if g.user is not None:
        g.access.logout(g.user, g.session_id, now())
    g.end_session = True
    return redirect(url_for(".login_form"))


def _locked(exc: TooManyRequests):
    """The login form again, with 429 and Retry-After: the same for every name, known or not."""
    minutes = math.ceil(exc.retry_after / 60)
    html, status, headers = page("admin/login.html", 429, title=gettext("Log in"), locked_minutes=minutes)
    return html, status, headers | {"Retry-After": str(exc.retry_after)}


def _client() -> str:
    return request.remote_addr or "-"  # behind proxies the real one, when [server] proxy_hops says so


# --- own sessions ---------------------------------------------------------------------------------------
@bp.get("/sessions")
def sessions():
    """The user's own open sessions (when, where from, which browser), each with a button to end it."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    desk = runtime().settings.desk
    return page(
        "admin/sessions.html",
        title=gettext("Sessions"),
        sessions=g.access.sessions(g.user, now()),
        current=g.session_id,
        idle=_duration(desk.session_idle),
        lifetime=_duration(desk.session_lifetime),
    )


@bp.post("/sessions/<int:session_id>/end")
def end_session(session_id: int):
    """End one of the user's own sessions; ending the current one logs out."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    if session_id > MAX_ID or not g.access.end_session(g.user, session_id, now()):
        raise NotFound(lazy_gettext("You have no open session with this id."))  # another's: as if none
    if session_id == g.session_id:
        g.end_session = True
        return redirect(url_for(".login_form"))
    return redirect(url_for(".sessions"))


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    if seconds % 60 == 0:
        return ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)
    return ngettext("%(num)d second", "%(num)d seconds", seconds)


# --- announcements --------------------------------------------------------------------------------------
@bp.get("/")
def index():
    """Announcements of the user's offices by status: pending first."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    found = g.desk.list(g.user)
    groups = {status: [a for a in found if a.status == status] for status in STATUSES}
    return page("admin/index.html", title=gettext("Announcements"), groups=groups)


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Draft a new announcement (version 1, pending approval)."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    feeds = g.desk.postable_feeds(g.user)
    if request.method == "GET":
        return _form_page(None, feeds, form_values(None, _zone(), _offered(None, feeds)))
    if request.form.get("preview"):
        return _preview_page(None, feeds)
    data = form_content(request.form, _zone(), with_feed=True)
    try:
        fields = schemas.load(schemas.AnnouncementCreate(), data)
        feed_id = fields.pop("feed")
        created = g.desk.create(g.user, feed_id, _every_ticked(fields, feed_id), now())
    except (ValidationError, Invalid) as exc:
        return _form_page(None, feeds, submitted_values(request.form), _errors(exc))
    return redirect(url_for(".detail", announcement_id=created.id))


@bp.get("/announcements/<int:announcement_id>")
def detail(announcement_id: int):
    """One announcement with its versions, and the approve and withdraw buttons where allowed."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    found = g.desk.get(g.user, _checked_id(announcement_id))
    may_approve = rules.may_approve(g.user, found, g.desk.office(found.feed_id))
    audit = g.desk.audit(g.user, found.id)
    return page(
        "admin/announcement.html", title=found.latest.title, a=found, may_approve=may_approve, audit=audit,
        feed_channels=g.desk.channels(found.feed_id), deliveries=deliveries.of_announcement(runtime(), found),
        delivery_labels={state: str(label) for state, label in DELIVERY_LABELS.items()},
    )  # fmt: skip


@bp.route("/announcements/<int:announcement_id>/edit", methods=["GET", "POST"])
def edit(announcement_id: int):
    """Edit: the form saves a new version, which needs a new approval."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    found = g.desk.get(g.user, _checked_id(announcement_id))
    if request.method == "GET":
        return _form_page(found, [], form_values(found.latest, _zone(), _offered(found, [])))
    if request.form.get("preview"):
        return _preview_page(found, [])
    data = form_content(request.form, _zone(), with_feed=False)
    try:
        changes = schemas.load(schemas.AnnouncementUpdate(), data)
        if changes.get("publish_at") is None:
            changes.pop("publish_at", None)  # an empty field keeps the current publication time
        g.desk.edit(g.user, found.id, _every_ticked(changes, found.feed_id), now())
    except (ValidationError, Invalid) as exc:
        return _form_page(found, [], submitted_values(request.form), _errors(exc))
    return redirect(url_for(".detail", announcement_id=found.id))


@bp.post("/announcements/<int:announcement_id>/approve")
def approve(announcement_id: int):
    """Approve the version named in the form (the one the approver was shown)."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    version = request.form.get("version", "")
    if not version.isdigit() or len(version) > 9:
        raise DeskError(lazy_gettext("The form names no valid version."))
    g.desk.approve(g.user, _checked_id(announcement_id), int(version), now())
    return redirect(url_for(".detail", announcement_id=announcement_id))


@bp.post("/announcements/<int:announcement_id>/withdraw")
def withdraw(announcement_id: int):
    """Withdraw: out of every feed now, history kept."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    g.desk.withdraw(g.user, _checked_id(announcement_id), now())
    return redirect(url_for(".detail", announcement_id=announcement_id))


@bp.get("/audit")
def audit():
    """The audit log of everything the user may see."""
    if (redirect_to := login_required()) is not None:
        return redirect_to
    return page("admin/audit.html", title=gettext("Audit log"), entries=g.desk.audit(g.user))


def _every_ticked(fields: dict, feed_id: str) -> dict:
    """Every channel of the feed ticked means every channel (None), as the form showed it: saving an edit
    form unchanged adds no version, and a channel the feed gets later is included."""
    ticked = fields.get("channels")
    if ticked is not None and set(ticked) == set(g.desk.channels(feed_id)):
        fields["channels"] = None
    return fields


def _offered(found, feeds) -> tuple[str, ...]:
    """The channels the form offers: its announcement's feed's, or those of every feed the user posts to."""
    feed_ids = [found.feed_id] if found else [feed.id for feed in feeds]
    return tuple(dict.fromkeys(name for feed_id in feed_ids for name in g.desk.channels(feed_id)))


def _preview_page(found, feeds):
    """The form again, as submitted, with the draft's previews (or its errors); nothing is saved."""
    try:
        shown = draft_previews(request.form, _zone(), found)
    except (ValidationError, Invalid) as exc:
        return _form_page(found, feeds, submitted_values(request.form), _errors(exc))
    return _form_page(found, feeds, submitted_values(request.form), previews=shown)


def _form_page(found, feeds, values, errors=None, previews=()):
    all_feeds = list(runtime().settings.feeds.values())
    configured = runtime().settings.channels
    status = 422 if errors else 200
    title = gettext("Edit announcement") if found else gettext("New announcement")
    return page(
        "admin/form.html",
        status,
        title=title,
        a=found,
        feeds=feeds,
        all_feeds=all_feeds,
        v=values,
        errors=errors or {},
        max_title=schemas.MAX_TITLE,
        channels=[configured[name] for name in _offered(found, feeds)],
        feed_channels={feed.id: g.desk.channels(feed.id) for feed in ([] if found else feeds)},
        channel_types=CHANNEL_TYPES,
        previews=previews,
        preview_labels={network: str(label) for network, label in PREVIEW_LABELS.items()},
    )


def _errors(exc: ValidationError | Invalid) -> dict[str, list[str]]:
    """Field -> messages, as words in the page's language (lazy messages are made strings here)."""
    found = exc.messages if isinstance(exc, ValidationError) else exc.extra["errors"]
    return {name: [str(message) for message in messages] for name, messages in found.items()}


def _zone() -> str:
    return runtime().settings.server.timezone
