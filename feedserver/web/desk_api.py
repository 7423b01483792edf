"""/api/v1/desk/...: the editorial desk for programs, authenticated with `Authorization: Bearer <token>`.

No cookies, no sessions: every request carries its token. Errors are problem+json (401, 403, 404, 409 for a
stale or repeated approval, 400 for a body that is not JSON, 422 with field errors that never echo the input,
429 with Retry-After while the client address is locked after too many bad tokens or failed logins).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from marshmallow import ValidationError

from ..desk import schemas
from ..desk.access import Access
from ..desk.actions import Desk
from ..desk.rules import DeskError, NotFound, TooManyRequests, User
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


@bp.get("/me")
def me():
    """The user the token belongs to.
    ---
    get:
      summary: Who am I (the token's user, role and offices)
      security:
        - bearerAuth: []
      responses:
        200:
          content:
            application/json:
              schema: UserOut
        401:
          description: No or unknown token
    """
    return jsonify(schemas.UserOut().dump(_user()))


@bp.get("/announcements")
def list_announcements():
    """Announcements of the token user's offices (all for admins), newest first.
    ---
    get:
      summary: List announcements, optionally by status (pending, approved, withdrawn) and feed
      security:
        - bearerAuth: []
      parameters:
        - in: query
          schema: ListQuery
      responses:
        200:
          content:
            application/json:
              schema:
                type: array
                items: AnnouncementOut
        401:
          description: No or unknown token
        422:
          description: Unknown status or malformed feed id
    """
    query = schemas.load(schemas.ListQuery(), request.args.to_dict())
    found = g.desk.list(_user(), status=query["status"], feed_id=query["feed"])
    return jsonify(schemas.AnnouncementOut(many=True).dump(found))


@bp.post("/announcements")
def create_announcement():
    """Create a draft: version 1, pending until another approver approves it.
    ---
    post:
      summary: Create a draft announcement in one of your office's feeds
      security:
        - bearerAuth: []
      requestBody:
        required: true
        content:
          application/json:
            schema: AnnouncementCreate
      responses:
        201:
          content:
            application/json:
              schema: AnnouncementOut
        400:
          description: Body is not JSON
        401:
          description: No or unknown token
        403:
          description: The feed belongs to another office
        422:
          description: Invalid fields (see `errors`)
    """
    fields = schemas.load(schemas.AnnouncementCreate(), _json_body())
    feed_id = fields.pop("feed")
    created = g.desk.create(_user(), feed_id, fields, now())
    response = _announcement(created, 201)
    response.headers["Location"] = url_for(".get_announcement", announcement_id=created.id)
    return response


@bp.get("/announcements/<int:announcement_id>")
def get_announcement(announcement_id: int):
    """One announcement with every version and its approval.
    ---
    get:
      summary: Get an announcement with its versions
      security:
        - bearerAuth: []
      responses:
        200:
          content:
            application/json:
              schema: AnnouncementOut
        401:
          description: No or unknown token
        403:
          description: Another office's announcement
        404:
          description: No such announcement
    """
    return _announcement(g.desk.get(_user(), _checked_id(announcement_id)))


@bp.route("/announcements/<int:announcement_id>", methods=["PUT", "PATCH"])
def edit_announcement(announcement_id: int):
    """Edit: PUT replaces every field, PATCH the fields sent; either adds a version pending approval.
    ---
    put:
      summary: Replace the content (new version; needs a new approval)
      security:
        - bearerAuth: []
      requestBody:
        required: true
        content:
          application/json:
            schema: AnnouncementUpdate
      responses:
        200:
          content:
            application/json:
              schema: AnnouncementOut
        403:
          description: Another office's announcement
        404:
          description: No such announcement
        409:
          description: The announcement was withdrawn
        422:
          description: Invalid fields (see `errors`)
    patch:
      summary: Change some fields (new version; needs a new approval)
      security:
        - bearerAuth: []
      requestBody:
        required: true
        content:
          application/json:
            schema: AnnouncementUpdate
      responses:
        200:
          content:
            application/json:
              schema: AnnouncementOut
        403:
          description: Another office's announcement
        404:
          description: No such announcement
        409:
          description: The announcement was withdrawn
        422:
          description: Invalid fields (see `errors`)
    """
    partial = request.method == "PATCH"
    changes = schemas.load(schemas.AnnouncementUpdate(), _json_body(), partial=partial)
    if not partial and changes.get("publish_at") is None:
        # PUT without a publication time keeps the current one rather than republishing "now".
        changes.pop("publish_at", None)
    edited = g.desk.edit(_user(), _checked_id(announcement_id), changes, now())
    return _announcement(edited)


@bp.post("/announcements/<int:announcement_id>/approve")
def approve_announcement(announcement_id: int):
    """Approve exactly the version named in the body (four-eyes: not text you wrote any of).
    ---
    post:
      summary: Approve a version of an announcement
      security:
        - bearerAuth: []
      requestBody:
        required: true
        content:
          application/json:
            schema: Approval
      responses:
        200:
          content:
            application/json:
              schema: AnnouncementOut
        403:
          description: Not an approver, another office, or you wrote some of the text since the last approval
        404:
          description: No such announcement
        409:
          description: Stale version (not the current one), already approved, or withdrawn
        422:
          description: Invalid fields (see `errors`)
    """
    approval = schemas.load(schemas.Approval(), _json_body())
    approved = g.desk.approve(_user(), _checked_id(announcement_id), approval["version"], now())
    return _announcement(approved)


@bp.post("/announcements/<int:announcement_id>/withdraw")
def withdraw_announcement(announcement_id: int):
    """Withdraw: the announcement leaves every feed now; versions and audit log stay.
    ---
    post:
      summary: Withdraw an announcement
      security:
        - bearerAuth: []
      responses:
        200:
          content:
            application/json:
              schema: AnnouncementOut
        403:
          description: Another office's announcement
        404:
          description: No such announcement
        409:
          description: Already withdrawn
    """
    return _announcement(g.desk.withdraw(_user(), _checked_id(announcement_id), now()))


@bp.get("/announcements/<int:announcement_id>/audit")
def announcement_audit(announcement_id: int):
    """The audit log of one announcement, newest first.
    ---
    get:
      summary: Audit log of one announcement
      security:
        - bearerAuth: []
      responses:
        200:
          content:
            application/json:
              schema:
                type: array
                items: AuditEntryOut
        403:
          description: Another office's announcement
        404:
          description: No such announcement
    """
    entries = g.desk.audit(_user(), _checked_id(announcement_id))
    return jsonify(schemas.AuditEntryOut(many=True).dump(entries))


@bp.get("/audit")
def audit():
    """The audit log of every announcement the user may see (admins: everything), newest first.
    ---
    get:
      summary: Audit log
      security:
        - bearerAuth: []
      responses:
        200:
          content:
            application/json:
              schema:
                type: array
                items: AuditEntryOut
        401:
          description: No or unknown token
    """
    return jsonify(schemas.AuditEntryOut(many=True).dump(g.desk.audit(_user())))
