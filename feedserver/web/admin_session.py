"""The /admin session cookie and its CSRF tokens: the only cookie this server ever sets.

The cookie is signed (itsdangerous) with `[server] secret_key`, scoped to Path=/admin and always
`Secure; HttpOnly; SameSite=Strict`. It carries a random session id, the user id once logged in, and a
fingerprint of the user's password hash (a password change ends every session). Each form carries a CSRF
token: the session id signed with a different salt, so a page of another site can neither read nor forge it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from flask import Response, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "feedserver_admin"
PATH = "/admin"
MAX_AGE = 8 * 3600  # a working day; then log in again
SESSION_SALT = "feedserver.admin.session"
CSRF_SALT = "feedserver.admin.csrf"


@dataclass(frozen=True)
class AdminSession:
    """What the cookie says: a session id, and the user once they logged in."""

    sid: str
    user_id: int | None = None
    fingerprint: str = ""

    @classmethod
    def anonymous(cls) -> AdminSession:
        """A fresh session before login (it carries the login form's CSRF token)."""
        return cls(secrets.token_urlsafe(24))

    @classmethod
    def logged_in(cls, user_id: int, fingerprint: str) -> AdminSession:
        """A fresh session id at login, so a session fixed before login is worthless."""
        return cls(secrets.token_urlsafe(24), user_id, fingerprint)


def read_session(secret: str) -> AdminSession | None:
    """The session from the request's cookie, or None when missing, tampered with or too old."""
    value = request.cookies.get(COOKIE)
    if not value or len(value) > 4096:
        return None
    try:
        data = _serializer(secret, SESSION_SALT).loads(value, max_age=MAX_AGE)
        return AdminSession(str(data["sid"]), data.get("uid"), str(data.get("fp", "")))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def write_session(response: Response, secret: str, session: AdminSession) -> None:
    """Set the signed session cookie with the strict flags."""
    value = _serializer(secret, SESSION_SALT).dumps(
        {"sid": session.sid, "uid": session.user_id, "fp": session.fingerprint}
    )
    response.set_cookie(
        COOKIE, value, max_age=MAX_AGE, path=PATH, secure=True, httponly=True, samesite="Strict"
    )


def clear_session(response: Response) -> None:
    """Delete the session cookie (logout)."""
    response.delete_cookie(COOKIE, path=PATH, secure=True, httponly=True, samesite="Strict")


def csrf_token(secret: str, session: AdminSession) -> str:
    """The token every form of this session carries."""
    return _serializer(secret, CSRF_SALT).dumps(session.sid)


def csrf_valid(secret: str, session: AdminSession | None, token: str | None) -> bool:
    """True when the token was issued for this very session (and is not too old)."""
    if session is None or not token or len(token) > 1024:
        return False
    try:
        sid = _serializer(secret, CSRF_SALT).loads(token, max_age=MAX_AGE)
    except BadSignature:
        return False
    return isinstance(sid, str) and hmac.compare_digest(sid, session.sid)


def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)
