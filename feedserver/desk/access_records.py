"""SQL on the desk's access tables: /admin sessions (desk_sessions), login throttle (desk_login_throttle).

Both live in the database so every process (several gunicorn workers, several hosts) sees the same sessions
and the same failed attempts. Functions take an open connection, like feedserver.desk.records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, or_, select, update

from ..tables import desk_login_throttle, desk_sessions, from_row
from .throttle import Attempts


@dataclass(frozen=True)
class SessionRecord:
    """One stored /admin session (the cookie's id is known only by its hash)."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    address: str
    agent: str
    revoked_at: datetime | None = None


# --- sessions -------------------------------------------------------------------------------------------
def add_session(
    conn: Connection, sid_sha256: str, user_id: int, now: datetime, address: str, agent: str
) -> int:
    """Store a new session; returns its id."""
    values = {
        "sid_sha256": sid_sha256,
        "user_id": user_id,
        "created_at": now,
        "last_seen_at": now,
        "address": address[:64],
        "agent": agent[:100],
    }
    return conn.execute(insert(desk_sessions).values(**values)).inserted_primary_key[0]


def session_by_sid(conn: Connection, sid_sha256: str) -> SessionRecord | None:
    """The session whose cookie id has this hash, or None."""
    query = select(desk_sessions).where(desk_sessions.c.sid_sha256 == sid_sha256)
    row = conn.execute(query).mappings().first()
    return _session(row) if row is not None else None


def sessions_of(conn: Connection, user_id: int) -> list[SessionRecord]:
    """A user's unrevoked sessions, newest first (the caller drops the expired ones)."""
    query = (
        select(desk_sessions)
        .where(desk_sessions.c.user_id == user_id, desk_sessions.c.revoked_at.is_(None))
        .order_by(desk_sessions.c.id.desc())
    )
    return [_session(row) for row in conn.execute(query).mappings()]


def touch_session(conn: Connection, session_id: int, now: datetime) -> bool:
    """Record activity (the idle timeout counts from here); False when the session was revoked meanwhile."""
    statement = (
        update(desk_sessions)
        .where(desk_sessions.c.id == session_id, desk_sessions.c.revoked_at.is_(None))
        .values(last_seen_at=now)
    )
    return conn.execute(statement).rowcount == 1


def revoke_session(conn: Connection, session_id: int, now: datetime, user_id: int | None = None) -> bool:
    """End one session (only if it belongs to `user_id`, when given); False when there was none to end."""
    where = [desk_sessions.c.id == session_id, desk_sessions.c.revoked_at.is_(None)]
    if user_id is not None:
        where.append(desk_sessions.c.user_id == user_id)
    return conn.execute(update(desk_sessions).where(*where).values(revoked_at=now)).rowcount == 1


def revoke_user_sessions(conn: Connection, user_id: int, now: datetime) -> int:
    """End every session of a user (disabled, or a new password); returns how many were open."""
    statement = (
        update(desk_sessions)
        .where(desk_sessions.c.user_id == user_id, desk_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return conn.execute(statement).rowcount


def purge_sessions(conn: Connection, ended_before: datetime, started_before: datetime) -> None:
    """Forget sessions revoked before `ended_before`, and any started before `started_before`."""
    old = or_(desk_sessions.c.revoked_at < ended_before, desk_sessions.c.created_at < started_before)
    conn.execute(delete(desk_sessions).where(old))


def _session(row) -> SessionRecord:
    return from_row(SessionRecord, row)


# --- login throttle -------------------------------------------------------------------------------------
def locked_attempts(conn: Connection, key_sha256: str, now: datetime) -> Attempts:
    """A key's failed attempts, read after writing its row: concurrent writers of this key wait until commit.

    The row is created when missing (ON CONFLICT, which SQLite and PostgreSQL both have); the write takes
    SQLite's write lock or PostgreSQL's row lock either way, so no two processes count from the same state.
    """
    statement = _insert(conn)(desk_login_throttle).values(
        key_sha256=key_sha256, failures=0, lockouts=0, seen_at=now
    )
    conn.execute(statement.on_conflict_do_update(index_elements=["key_sha256"], set_={"seen_at": now}))
    return attempts(conn, key_sha256)


def attempts(conn: Connection, key_sha256: str) -> Attempts:
    """The failed attempts recorded for a key (none yet: a fresh state)."""
    query = select(desk_login_throttle).where(desk_login_throttle.c.key_sha256 == key_sha256)
    row = conn.execute(query).mappings().first()
    if row is None:
        return Attempts()
    return from_row(Attempts, row)


def save_attempts(conn: Connection, key_sha256: str, state: Attempts, now: datetime) -> None:
    """Store a key's new state (its row exists: see locked_attempts)."""
    conn.execute(
        update(desk_login_throttle)
        .where(desk_login_throttle.c.key_sha256 == key_sha256)
        .values(
            failures=state.failures,
            window_start=state.window_start,
            lockouts=state.lockouts,
            locked_until=state.locked_until,
            seen_at=now,
        )
    )


def forget_attempts(conn: Connection, key_sha256: str) -> None:
    """Clear a key (a successful login clears its name's failures and lock-outs)."""
    conn.execute(delete(desk_login_throttle).where(desk_login_throttle.c.key_sha256 == key_sha256))


def purge_attempts(conn: Connection, quiet_since: datetime) -> None:
    """Forget keys without a failure since `quiet_since` (their windows and locks are long over)."""
    conn.execute(delete(desk_login_throttle).where(desk_login_throttle.c.seen_at < quiet_since))


def _insert(conn: Connection):
    """The dialect's INSERT, which has on_conflict_do_update."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert
