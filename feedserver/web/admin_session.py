"""The /admin session cookie and its CSRF tokens: the only cookie this server ever sets.

The cookie is signed (itsdangerous) with `[server] secret_key`, scoped to Path=/admin and always
`Secure; HttpOnly; SameSite=Strict`. It carries nothing but a random session id: before login it only ties the
login form's CSRF token to the browser; after login the id names a session stored on the server (as a hash,
feedserver.desk.sessions), which logout, idle time, the lifetime, a new password or a disabled user end for
good. Each form carries a CSRF token: the session id signed with a different salt, so a page of another site
can neither read nor forge it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import Response, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..desk.sessions import new_session_id

COOKIE = "feedserver_admin"
PATH = "/admin"
SESSION_SALT = "feedserver.admin.session"
CSRF_SALT = "feedserver.admin.csrf"


@dataclass(frozen=True)
class AdminSession:
    """What the cookie says: a random session id (a logged-in one is also stored on the server)."""

    sid: str

    @classmethod
    def fresh(cls) -> AdminSession:
        """A new random id: before login for the form's CSRF token, and a new one at every login."""
        return cls(new_session_id())


def read_session(secret: str, max_age: int) -> AdminSession | None:
    """The session from the request's cookie, or None when missing, tampered with or too old."""
    value = request.cookies.get(COOKIE)
    if not value or len(value) > 4096:
        return None
    try:
        data = _serializer(secret, SESSION_SALT).loads(value, max_age=max_age)
        return AdminSession(str(data["sid"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def write_session(response: Response, secret: str, session: AdminSession, max_age: int) -> None:
    """Set the signed session cookie with the strict flags."""
    value = _serializer(secret, SESSION_SALT).dumps({"sid": session.sid})
    response.set_cookie(
        COOKIE, value, max_age=max_age, path=PATH, secure=True, httponly=True, samesite="Strict"
    )


def clear_session(response: Response) -> None:
    """Delete the session cookie (logout)."""
    response.delete_cookie(COOKIE, path=PATH, secure=True, httponly=True, samesite="Strict")


def csrf_token(secret: str, session: AdminSession) -> str:
    """The token every form of this session carries."""
    return _serializer(secret, CSRF_SALT).dumps(session.sid)


def csrf_valid(secret: str, session: AdminSession | None, token: str | None, max_age: int) -> bool:
    """True when the token was issued for this very session (and is not too old)."""
    if session is None or not token or len(token) > 1024:
        return False
    try:
        sid = _serializer(secret, CSRF_SALT).loads(token, max_age=max_age)
    except BadSignature:
        return False
    return isinstance(sid, str) and hmac.compare_digest(sid, session.sid)


def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)
