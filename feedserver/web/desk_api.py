"""/api/v1/desk/...: the editorial desk for programs, authenticated with `Authorization: Bearer <token>`.

No cookies, no sessions: every request carries its token. Errors are problem+json (401, 403, 404, 409 for a
stale or repeated approval, 400 for a body that is not JSON, 422 with field errors that never echo the input,
429 with Retry-After while the client address is locked after too many bad tokens or failed logins).
"""

from __future__ import annotations

import yaml
from flask import Blueprint, g, jsonify, request, url_for
from marshmallow import ValidationError

from ..desk import schemas
from ..desk.access import Access
from ..desk.actions import Desk
from ..desk.rules import DeskError, NotFound, TooManyRequests, User
from ..push import replies
from ..push.http import PushError
from .common import now, runtime
from .problems import problem

bp = Blueprint("desk_api", __name__, url_prefix="/api/v1/desk")
MAX_ID = 2**31 - 1  # larger ids cannot exist and would overflow the database's integer


@bp.before_request
def authenticate():
    """Every desk API call needs a valid token; the user is kept in `g` for this request only."""
    if request.method == "OPTIONS":
        return  # Flask's automatic OPTIONS answer reveals nothing but the allowed methods
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    g.desk = Desk(runtime())
    token = token.strip() if scheme.lower() == "bearer" else None
    g.desk_user = Access(runtime()).token_user(token, request.remote_addr or "-", now())


@bp.after_request
def no_store(response):
    """Answers depend on the token: never cache them, never set a cookie."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Set-Cookie", None)
    return response


@bp.errorhandler(DeskError)
def desk_error(exc: DeskError):
    response = problem(exc.status, exc.title, exc.detail, **exc.extra)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedserver-desk"'
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.errorhandler(ValidationError)
def invalid(exc: ValidationError):
    return problem(
        422, "Unprocessable Content", "The request has invalid fields; see `errors`.", errors=exc.messages
    )


def _user() -> User:
    return g.desk_user


def _json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise _BadBody()
    return body


class _BadBody(DeskError):
    status, title = 400, "Bad Request"

    def __init__(self):
        super().__init__("The body must be a JSON object (Content-Type: application/json).")


def _checked_id(announcement_id: int) -> int:
    if announcement_id > MAX_ID:
        raise NotFound("There is no announcement with this id.")
    return announcement_id


def _announcement(found, status: int = 200):
    response = jsonify(schemas.AnnouncementOut().dump(found))
    response.status_code = status
    return response


# --- OpenAPI: apispec reads each view's operations from the YAML after `---` in its docstring -----------
NO_TOKEN = (401, "No or unknown token")
NOT_JSON = (400, "Body is not JSON")
OTHER_OFFICE = (403, "Another office's announcement")
NO_SUCH = (404, "No such announcement")
INVALID = (422, "Invalid fields (see `errors`)")


def _json(schema: str, status: int = 200, many: bool = False) -> dict:
    """A success response with a JSON body of one schema (`many`: an array of it)."""
    body = {"type": "array", "items": schema} if many else schema
    return {status: {"content": {"application/json": {"schema": body}}}}


ANNOUNCEMENT = _json("AnnouncementOut")
EDIT = (ANNOUNCEMENT, OTHER_OFFICE, NO_SUCH, (409, "The announcement was withdrawn"), INVALID)


def _operation(
    summary: str, answer: dict, *errors: tuple[int, str], body: str | None = None, query: str | None = None
) -> dict:
    """A token-protected operation: its success `answer`, then the `errors` as (status, description)."""
    operation: dict = {"summary": summary, "security": [{"bearerAuth": []}]}
    if query is not None:
        operation["parameters"] = [{"in": "query", "schema": query}]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    operation["responses"] = answer | {status: {"description": text} for status, text in errors}
    return operation


def _documented(**operations: dict):
    """Give a view its operations (method -> operation) as the YAML apispec reads from the docstring."""

    def document(view):
        view.__doc__ = f"{view.__doc__ or ''}\n---\n{yaml.safe_dump(operations, sort_keys=False)}"
        return view

    return document


@bp.get("/me")
@_documented(get=_operation("Who am I (the token's user, role and offices)", _json("UserOut"), NO_TOKEN))
def me():
    """The user the token belongs to."""
    return jsonify(schemas.UserOut().dump(_user()))


@bp.get("/announcements")
@_documented(
    get=_operation(
        "List announcements, optionally by status (pending, approved, withdrawn) and feed",
        _json("AnnouncementOut", many=True),
        NO_TOKEN,
        (422, "Unknown status or malformed feed id"),
        query="ListQuery",
    )
)
def list_announcements():
    """Announcements of the token user's offices (all for admins), newest first."""
    query = schemas.load(schemas.ListQuery(), request.args.to_dict())
    found = g.desk.list(_user(), status=query["status"], feed_id=query["feed"])
    return jsonify(schemas.AnnouncementOut(many=True).dump(found))


@bp.post("/announcements")
@_documented(
    post=_operation(
        "Create a draft announcement in one of your office's feeds",
        _json("AnnouncementOut", status=201),
        NOT_JSON,
        NO_TOKEN,
        (403, "The feed belongs to another office"),
        INVALID,
        body="AnnouncementCreate",
    )
)
def create_announcement():
    """Create a draft: version 1, pending until another approver approves it."""
    fields = schemas.load(schemas.AnnouncementCreate(), _json_body())
    feed_id = fields.pop("feed")
    created = g.desk.create(_user(), feed_id, fields, now())
    response = _announcement(created, 201)
    response.headers["Location"] = url_for(".get_announcement", announcement_id=created.id)
    return response


@bp.get("/announcements/<int:announcement_id>")
@_documented(
    get=_operation("Get an announcement with its versions", ANNOUNCEMENT, NO_TOKEN, OTHER_OFFICE, NO_SUCH)
)
def get_announcement(announcement_id: int):
    """One announcement with every version and its approval."""
    return _announcement(g.desk.get(_user(), _checked_id(announcement_id)))


@bp.route("/announcements/<int:announcement_id>", methods=["PUT", "PATCH"])
@_documented(
    put=_operation(
        "Replace the content (new version; needs a new approval)", *EDIT, body="AnnouncementUpdate"
    ),
    patch=_operation(
        "Change some fields (new version; needs a new approval)", *EDIT, body="AnnouncementUpdate"
    ),
)
def edit_announcement(announcement_id: int):
    """Edit: PUT replaces every field, PATCH the fields sent; either adds a version pending approval."""
    partial = request.method == "PATCH"
    changes = schemas.load(schemas.AnnouncementUpdate(), _json_body(), partial=partial)
    if not partial and changes.get("publish_at") is None:
        # PUT without a publication time keeps the current one rather than republishing "now".
        changes.pop("publish_at", None)
    edited = g.desk.edit(_user(), _checked_id(announcement_id), changes, now())
    return _announcement(edited)


@bp.post("/announcements/<int:announcement_id>/approve")
@_documented(
    post=_operation(
        "Approve a version of an announcement",
        ANNOUNCEMENT,
        (403, "Not an approver, another office, or you wrote some of the text since the last approval"),
        NO_SUCH,
        (409, "Stale version (not the current one), already approved, or withdrawn"),
        INVALID,
        body="Approval",
    )
)
def approve_announcement(announcement_id: int):
    """Approve exactly the version named in the body (four-eyes: not text you wrote any of)."""
    approval = schemas.load(schemas.Approval(), _json_body())
    approved = g.desk.approve(_user(), _checked_id(announcement_id), approval["version"], now())
    return _announcement(approved)


@bp.post("/announcements/<int:announcement_id>/withdraw")
@_documented(
    post=_operation(
        "Withdraw an announcement", ANNOUNCEMENT, OTHER_OFFICE, NO_SUCH, (409, "Already withdrawn")
    )
)
def withdraw_announcement(announcement_id: int):
    """Withdraw: the announcement leaves every feed now; versions and audit log stay."""
    return _announcement(g.desk.withdraw(_user(), _checked_id(announcement_id), now()))


@bp.get("/announcements/<int:announcement_id>/audit")
@_documented(
    get=_operation("Audit log of one announcement", _json("AuditEntryOut", many=True), OTHER_OFFICE, NO_SUCH)
)
def announcement_audit(announcement_id: int):
    """The audit log of one announcement, newest first."""
    entries = g.desk.audit(_user(), _checked_id(announcement_id))
    return jsonify(schemas.AuditEntryOut(many=True).dump(entries))


@bp.get("/audit")
@_documented(get=_operation("Audit log", _json("AuditEntryOut", many=True), NO_TOKEN))
def audit():
    """The audit log of every announcement the user may see (admins: everything), newest first."""
    return jsonify(schemas.AuditEntryOut(many=True).dump(g.desk.audit(_user())))


# --- citizens' messages ---------------------------------------------------------------------------------
NO_MESSAGE = (404, "No such message (or another office's)")


@bp.get("/replies")
@_documented(
    get=_operation("Citizens' messages to the user's offices", _json("ReplyOut", many=True), NO_TOKEN)
)
def list_replies():
    """Replies to and mentions of the feeds of the user's offices (admins: all), open ones first."""
    return jsonify(schemas.ReplyOut(many=True).dump(replies.for_user(runtime(), _user())))


@bp.post("/replies/<int:reply_id>/answer")
@_documented(
    post=_operation(
        "Answer a message (a reply to its author)",
        _json("ReplyOut"),
        NOT_JSON,
        NO_MESSAGE,
        INVALID,
        (502, "The author's server cannot be reached"),
        body="AnswerIn",
    )  # fmt: skip
)
def answer_reply(reply_id: int):
    """Send the office's answer to the message's author, public or to them alone (or keep it for approval)."""
    found = replies.visible(runtime(), _user(), reply_id)
    fields = schemas.load(schemas.AnswerIn(), _json_body())
    try:
        replies.answer(runtime(), found, fields["text"], fields["visibility"] == "public", _user(), now())
    except PushError as exc:
        return problem(502, "Bad Gateway", str(exc))
    return jsonify(schemas.ReplyOut().dump(replies.visible(runtime(), _user(), reply_id)))


@bp.post("/replies/<int:reply_id>/approve")
@_documented(
    post=_operation(
        "Approve the answer that waits (its office's answers need a second person); it then goes out",
        _json("ReplyOut"),
        NO_TOKEN,
        NO_MESSAGE,
        (403, "Not an approver, or the answer's own writer"),
        (409, "No answer waits for approval"),
        (502, "The author's server cannot be reached"),
    )  # fmt: skip
)
def approve_reply_answer(reply_id: int):
    """Approve and send the answer another member of staff wrote."""
    found = replies.visible(runtime(), _user(), reply_id)
    try:
        replies.approve_answer(runtime(), found, _user(), now())
    except PushError as exc:
        return problem(502, "Bad Gateway", str(exc))
    return jsonify(schemas.ReplyOut().dump(replies.visible(runtime(), _user(), reply_id)))


@bp.post("/replies/<int:reply_id>/handled")
@_documented(post=_operation("Mark a message handled", _json("ReplyOut"), NO_TOKEN, NO_MESSAGE))
def reply_handled(reply_id: int):
    """The office dealt with the message without answering."""
    replies.mark_handled(runtime(), replies.visible(runtime(), _user(), reply_id), _user(), now())
    return jsonify(schemas.ReplyOut().dump(replies.visible(runtime(), _user(), reply_id)))
