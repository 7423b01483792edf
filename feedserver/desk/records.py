"""The desk's storage module: every SQL query on the desk tables (users, tokens, announcements, audit log).

Functions take an open SQLAlchemy connection so an action can read, check and write in one transaction.
Versions and approvals are only ever inserted, never updated: history is immutable.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement

from ..tables import (
    announcement_approvals,
    announcement_versions,
    announcements,
    desk_audit,
    desk_tokens,
    desk_user_offices,
    desk_users,
    from_row,
)
from .access_records import revoke_user_sessions
from .rules import Announcement, User, Version

MAX_LISTED = 500  # announcements or audit entries in one listing


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what, when, to which version."""

    id: int
    at: datetime
    actor: str
    action: str
    announcement_id: int | None
    version: int | None
    detail: str


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: never the token itself."""

    id: int
    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


# --- users and offices ----------------------------------------------------------------------------------
def add_user(conn: Connection, name: str, role: str, offices: Collection[str], now: datetime) -> int:
    """Create a user with a role and offices; returns the new id."""
    user_id = conn.execute(
        insert(desk_users).values(name=name, role=role, active=True, created_at=now)
    ).inserted_primary_key[0]
    for office in sorted(set(offices)):
        conn.execute(insert(desk_user_offices).values(user_id=user_id, office=office))
    return user_id


def user_by_name(conn: Connection, name: str) -> User | None:
    """The user with this name, or None."""
    return _one_user(conn, desk_users.c.name == name)


def user_by_id(conn: Connection, user_id: int) -> User | None:
    """The user with this id, or None."""
    return _one_user(conn, desk_users.c.id == user_id)


def all_users(conn: Connection) -> list[User]:
    """Every user, by name."""
    ids = conn.execute(select(desk_users.c.id).order_by(desk_users.c.name)).scalars().all()
    return [user_by_id(conn, user_id) for user_id in ids]


def _one_user(conn: Connection, where: ColumnElement) -> User | None:
    row = conn.execute(select(desk_users).where(where)).mappings().first()
    if row is None:
        return None
    offices = conn.execute(
        select(desk_user_offices.c.office).where(desk_user_offices.c.user_id == row["id"])
    ).scalars()
    return from_row(User, row, offices=frozenset(offices), active=bool(row["active"]))


def set_password_hash(conn: Connection, user_id: int, password_hash: str, now: datetime) -> None:
    """Store a user's password hash (werkzeug.security format); every session of theirs ends."""
    conn.execute(update(desk_users).where(desk_users.c.id == user_id).values(password_hash=password_hash))
    revoke_user_sessions(conn, user_id, now)


def password_hash(conn: Connection, user_id: int) -> str | None:
    """A user's stored password hash, or None when no password was set."""
    query = select(desk_users.c.password_hash).where(desk_users.c.id == user_id)
    return conn.execute(query).scalar()


def set_active(conn: Connection, user_id: int, active: bool, now: datetime) -> None:
    """Enable or disable a user (a disabled user's tokens stop working and their sessions end)."""
    conn.execute(update(desk_users).where(desk_users.c.id == user_id).values(active=active))
    if not active:
        revoke_user_sessions(conn, user_id, now)


# --- API tokens -----------------------------------------------------------------------------------------
def add_token(conn: Connection, user_id: int, token_sha256: str, label: str, now: datetime) -> int:
    """Store the hash of a new token; returns the token's id."""
    values = {"user_id": user_id, "token_sha256": token_sha256, "label": label, "created_at": now}
    return conn.execute(insert(desk_tokens).values(**values)).inserted_primary_key[0]


def user_by_token(conn: Connection, token_sha256: str) -> User | None:
    """The active user owning an unrevoked token with this hash, or None."""
    query = select(desk_tokens.c.user_id).where(
        desk_tokens.c.token_sha256 == token_sha256, desk_tokens.c.revoked_at.is_(None)
    )
    user_id = conn.execute(query).scalar()
    user = user_by_id(conn, user_id) if user_id is not None else None
    return user if user is not None and user.active else None


def tokens(conn: Connection, user_id: int | None = None) -> list[TokenInfo]:
    """Tokens (all, or one user's), oldest first."""
    query = select(desk_tokens, desk_users.c.name).join(desk_users, desk_users.c.id == desk_tokens.c.user_id)
    if user_id is not None:
        query = query.where(desk_tokens.c.user_id == user_id)
    rows = conn.execute(query.order_by(desk_tokens.c.id)).mappings()
    return [TokenInfo(r["id"], r["name"], r["label"], r["created_at"], r["revoked_at"]) for r in rows]


def revoke_token(conn: Connection, token_id: int, now: datetime) -> bool:
    """Revoke one token; False when there is no such unrevoked token."""
    result = conn.execute(
        update(desk_tokens)
        .where(desk_tokens.c.id == token_id, desk_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


# --- announcements --------------------------------------------------------------------------------------
def insert_announcement(conn: Connection, feed_id: str, user_id: int, now: datetime) -> int:
    """A new announcement row (its first version is inserted next); returns its id."""
    values = {
        "feed_id": feed_id,
        "created_by": user_id,
        "created_at": now,
        "updated_at": now,
        "latest_version": 0,
    }
    return conn.execute(insert(announcements).values(**values)).inserted_primary_key[0]


def lock_announcement(conn: Connection, announcement_id: int, now: datetime) -> bool:
    """Write to the announcement row first, so concurrent actions on it queue up; False when it is unknown.

    SQLite takes its write lock and PostgreSQL its row lock here: what is read next stays true until commit.
    """
    result = conn.execute(
        update(announcements).where(announcements.c.id == announcement_id).values(updated_at=now)
    )
    return result.rowcount == 1


def insert_version(
    conn: Connection, announcement_id: int, number: int, content: dict, author_id: int, now: datetime
) -> None:
    """Add one immutable version and make it the announcement's latest."""
    conn.execute(
        insert(announcement_versions).values(
            announcement_id=announcement_id,
            version=number,
            title=content["title"],
            text=content["text"],
            link=content["link"],
            starts=content["starts"],
            ends=content["ends"],
            publish_at=content["publish_at"],
            expires=content["expires"],
            crisis=bool(content["crisis"]),
            targets=json.dumps(list(content["targets"])),
            channels=None if content.get("channels") is None else json.dumps(list(content["channels"])),
            author_id=author_id,
            created_at=now,
        )
    )
    conn.execute(
        update(announcements).where(announcements.c.id == announcement_id).values(latest_version=number)
    )


def insert_approval(conn: Connection, announcement_id: int, number: int, user_id: int, now: datetime) -> None:
    """Record that a user approved exactly this version."""
    values = {
        "announcement_id": announcement_id,
        "version": number,
        "approver_id": user_id,
        "approved_at": now,
    }
    conn.execute(insert(announcement_approvals).values(**values))


def mark_withdrawn(conn: Connection, announcement_id: int, user_id: int, now: datetime) -> None:
    """Take an announcement out of the feeds; nothing of its history is deleted."""
    conn.execute(
        update(announcements)
        .where(announcements.c.id == announcement_id)
        .values(withdrawn_at=now, withdrawn_by=user_id)
    )


def announcement(conn: Connection, announcement_id: int) -> Announcement | None:
    """One announcement with all its versions and approvals, or None."""
    found = _load(conn, announcements.c.id == announcement_id)
    return found[0] if found else None


def announcements_in(
    conn: Connection, feed_ids: Collection[str] | None, limit: int = MAX_LISTED
) -> list[Announcement]:
    """Announcements of these feeds (all feeds for None), newest first."""
    where = announcements.c.feed_id.in_(list(feed_ids)) if feed_ids is not None else None
    return _load(conn, where, limit)


class Reader:
    """The desk as a read-only upstream (feedserver.contract.DeskReader) for the announcements source."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def live_announcements(self, feed_id: str) -> list[Announcement]:
        """The feed's announcements that are approved and not withdrawn."""
        with self.engine.connect() as connection:
            return live_announcements(connection, feed_id)


def live_announcements(conn: Connection, feed_id: str) -> list[Announcement]:
    """Announcements of a feed that are not withdrawn and have an approved version."""
    approved = select(announcement_approvals.c.announcement_id)
    where = (
        (announcements.c.feed_id == feed_id)
        & announcements.c.withdrawn_at.is_(None)
        & announcements.c.id.in_(approved)
    )
    return _load(conn, where, limit=None)


def crisis_candidates(conn: Connection, now: datetime) -> list[Announcement]:
    """Not withdrawn announcements with an approved, unexpired crisis version (their newest approved wins)."""
    crisis_ids = (
        select(announcement_versions.c.announcement_id)
        .join(
            announcement_approvals,
            (announcement_approvals.c.announcement_id == announcement_versions.c.announcement_id)
            & (announcement_approvals.c.version == announcement_versions.c.version),
        )
        .where(
            announcement_versions.c.crisis.is_(True),
            announcement_versions.c.expires.is_(None) | (announcement_versions.c.expires > now),
        )
    )
    where = announcements.c.withdrawn_at.is_(None) & announcements.c.id.in_(crisis_ids)
    return _load(conn, where, limit=None)


def _load(conn: Connection, where, limit: int | None = MAX_LISTED) -> list[Announcement]:
    query = select(announcements).order_by(announcements.c.id.desc())
    if where is not None:
        query = query.where(where)
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).mappings().all()
    if not rows:
        return []  # the common case on every render of every feed: no crisis at all
    names = dict(conn.execute(select(desk_users.c.id, desk_users.c.name)).all())
    versions = _versions(conn, [row["id"] for row in rows], names)
    return [
        from_row(
            Announcement,
            row,
            created_by=names.get(row["created_by"], "?"),
            versions=tuple(versions.get(row["id"], ())),
            withdrawn_by=names.get(row["withdrawn_by"]) if row["withdrawn_by"] else None,
        )
        for row in rows
    ]


def _versions(conn: Connection, ids: list[int], names: dict[int, str]) -> dict[int, list[Version]]:
    if not ids:
        return {}
    v, a = announcement_versions, announcement_approvals
    query = (
        select(v, a.c.approver_id, a.c.approved_at)
        .outerjoin(a, (a.c.announcement_id == v.c.announcement_id) & (a.c.version == v.c.version))
        .where(v.c.announcement_id.in_(ids))
        .order_by(v.c.announcement_id, v.c.version)
    )
    found: dict[int, list[Version]] = {}
    for row in conn.execute(query).mappings():
        found.setdefault(row["announcement_id"], []).append(_version(row, names))
    return found


def _version(row, names: dict[int, str]) -> Version:
    return from_row(
        Version,
        row,
        number=row["version"],
        crisis=bool(row["crisis"]),
        targets=tuple(json.loads(row["targets"] or "[]")),
        channels=None if row["channels"] is None else tuple(json.loads(row["channels"])),
        author=names.get(row["author_id"], "?"),
        approver=names.get(row["approver_id"]) if row["approver_id"] else None,
    )


# --- audit log ------------------------------------------------------------------------------------------
def add_audit(
    conn: Connection,
    actor: User | str | None,
    action: str,
    now: datetime,
    announcement_id: int | None = None,
    version: int | None = None,
    detail: str = "",
) -> None:
    """Append one line to the audit log (actor None: the command line; a string: a name without a user)."""
    conn.execute(
        insert(desk_audit).values(
            at=now,
            actor_id=actor.id if isinstance(actor, User) else None,
            actor=actor.name if isinstance(actor, User) else (actor or "cli"),
            action=action,
            announcement_id=announcement_id,
            version=version,
            detail=detail[:1000],
        )
    )


def audit_entries(
    conn: Connection, announcement_ids: Collection[int] | None = None, limit: int = MAX_LISTED
) -> list[AuditEntry]:
    """Audit log lines, newest first (all, or those about these announcements)."""
    query = select(desk_audit).order_by(desk_audit.c.id.desc()).limit(limit)
    if announcement_ids is not None:
        query = query.where(desk_audit.c.announcement_id.in_(list(announcement_ids)))
    return [
        AuditEntry(r["id"], r["at"], r["actor"], r["action"], r["announcement_id"], r["version"], r["detail"])
        for r in conn.execute(query).mappings()
    ]
