"""/admin sessions on the server: a random id in the cookie, only its sha256 stored, and when they end.

A session ends at logout, when its user ends it from their list, after `[desk] session_idle` without a
request, `[desk] session_lifetime` after login at the latest, and when its user is disabled or gets a new
password.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from ..config.desk import DeskSettings
from .access_records import SessionRecord
from .auth import token_digest

# (mark in the User-Agent header, name shown): the first match wins, so the more specific marks come first.
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,39}")


def new_session_id() -> str:
    """A fresh random session id for the cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def sid_digest(sid: str) -> str:
    """The stored form of a session id."""
    return token_digest(sid)


def ends_at(session: SessionRecord, settings: DeskSettings) -> datetime:
    """When the session ends unless used again: idle timeout or absolute lifetime, whichever comes first."""
    idle_end = session.last_seen_at + timedelta(seconds=settings.session_idle)
    return min(idle_end, session.created_at + timedelta(seconds=settings.session_lifetime))


def alive(session: SessionRecord, now: datetime, settings: DeskSettings) -> bool:
    """True while the session is neither revoked nor past its idle timeout or lifetime."""
    return session.revoked_at is None and now < ends_at(session, settings)


def agent_summary(user_agent: str) -> str:
    """'Firefox, Linux' from a User-Agent header, for the user's session list (the header is not stored)."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser or system:
        return ", ".join(part for part in (browser, system) if part)
    product = PRODUCT.match(user_agent.strip())
    return product.group() if product else ""
