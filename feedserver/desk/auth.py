"""Desk credentials: API tokens (only their sha256 is stored) and password hashes (werkzeug.security)."""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

TOKEN_PREFIX = "fsd_"  # recognisable in logs and secret scanners
TOKEN_SHAPE = re.compile(r"fsd_[A-Za-z0-9_-]{43}")
MIN_PASSWORD = 12


def new_token() -> tuple[str, str]:
    """A fresh API token and the sha256 hex digest that is stored in its place."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def well_formed(token: str) -> bool:
    """True when a presented token has the shape this server hands out (cheap rejection of junk)."""
    return bool(TOKEN_SHAPE.fullmatch(token))


def hash_password(password: str) -> str:
    """A salted, slow hash of a password."""
    return generate_password_hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Compare a password with a stored hash in constant-ish time, also when there is no hash."""
    if not stored_hash:
        check_password_hash(_dummy_hash(), password)  # as slow as a real check: names cannot be probed
        return False
    return check_password_hash(stored_hash, password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > 1024:
        return "a password may have at most 1024 characters"
    return None


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))
