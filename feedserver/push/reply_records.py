"""SQL of citizens' replies: keep one (once), count recent ones, list them for an office, mark them handled or
answered, and delete them (the author's Delete, the retention time, an erasure request)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..tables import from_row, replies

MAX_LISTED = 500


@dataclass(frozen=True)
class Reply:
    """A citizen's message to a feed actor, as the office sees it."""

    id: int
    feed_id: str
    office: str
    remote_id: str
    actor: str
    handle: str
    instance: str
    text: str
    received_at: datetime
    in_reply_to: str | None = None
    handled_at: datetime | None = None
    handled_by: str | None = None
    answer: str | None = None
    answer_id: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    draft: str | None = None  # an answer waiting for a second person's approval
    draft_public: bool | None = None
    drafted_by: str | None = None
    drafted_at: datetime | None = None
    approved_by: str | None = None
    channel: str | None = None  # a reply to a post on this channel (None: to a feed actor)
    channel_ref: str | None = None  # what an answer on the channel refers to


def digest(remote_id: str) -> str:
    """The key a Note's id is kept unique by (ids may be longer than an index takes)."""
    return hashlib.sha256(remote_id.encode()).hexdigest()


def add(engine: Engine, values: dict) -> int | None:
    """Keep a message; its id, or None when it is kept already (a repeated delivery)."""
    try:
        with engine.begin() as connection:
            row = {**values, "remote_id_sha256": digest(values["remote_id"])}
            return connection.execute(insert(replies).values(**row)).inserted_primary_key[0]
    except IntegrityError:
        return None


def count_since(
    engine: Engine, since: datetime, *, actor: str | None = None, instance: str | None = None
) -> int:
    """How many messages one author or one instance sent since then (an int)."""
    query = select(func.count()).select_from(replies).where(replies.c.received_at >= since)
    if actor is not None:
        query = query.where(replies.c.actor == actor)
    if instance is not None:
        query = query.where(replies.c.instance == instance)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def listed(engine: Engine, offices: frozenset[str] | None) -> list[Reply]:
    """The messages of these offices (all of them for None), open ones first, newest first."""
    query = select(replies).order_by(replies.c.handled_at.is_not(None), replies.c.received_at.desc())
    if offices is not None:
        query = query.where(replies.c.office.in_(sorted(offices)))
    with engine.connect() as connection:
        return [from_row(Reply, row) for row in connection.execute(query.limit(MAX_LISTED)).mappings()]


def find(engine: Engine, reply_id: int) -> Reply | None:
    """One message, or None."""
    with engine.connect() as connection:
        row = connection.execute(select(replies).where(replies.c.id == reply_id)).mappings().first()
    return from_row(Reply, row) if row else None


def mark_handled(engine: Engine, reply_id: int, by: str, now: datetime) -> None:
    """The office dealt with it."""
    _update(engine, reply_id, handled_at=now, handled_by=by)


def record_answer(
    engine: Engine, reply_id: int, text: str, answer_id: str, by: str, now: datetime, approved_by: str | None
) -> None:
    """The office answered (which handles it too, and ends a waiting draft)."""
    _update(engine, reply_id, answer=text, answer_id=answer_id, answered_at=now, answered_by=by,
            handled_at=now, handled_by=approved_by or by, approved_by=approved_by, draft=None,
            draft_public=None)  # fmt: skip


def record_draft(engine: Engine, reply_id: int, text: str, public: bool, by: str, now: datetime) -> None:
    """An answer that waits for a second person's approval (a new draft replaces the one before)."""
    _update(engine, reply_id, draft=text, draft_public=public, drafted_by=by, drafted_at=now)


def remove_by_author(engine: Engine, remote_id: str, actor: str) -> int:
    """The author deleted their Note: so does the office's inbox."""
    where = (replies.c.remote_id_sha256 == digest(remote_id)) & (replies.c.actor == actor)
    return _delete(engine, where)


def is_kept(engine: Engine, remote_id: str, actor: str) -> bool:
    """Whether a Note of this author is kept (so its Delete is worth verifying)."""
    where = (replies.c.remote_id_sha256 == digest(remote_id)) & (replies.c.actor == actor)
    with engine.connect() as connection:
        return connection.execute(select(replies.c.id).where(where)).first() is not None


def purge(engine: Engine, before: datetime) -> int:
    """Delete what was received before then (the retention time); how many."""
    return _delete(engine, replies.c.received_at < before)


def by_handle(engine: Engine, handle: str) -> list[Reply]:
    """Everything kept of one author (GDPR Art. 15)."""
    with engine.connect() as connection:
        rows = connection.execute(select(replies).where(replies.c.handle == handle)).mappings()
        return [from_row(Reply, row) for row in rows]


def erase_handle(engine: Engine, handle: str) -> int:
    """Delete everything kept of one author (GDPR Art. 17); how many."""
    return _delete(engine, replies.c.handle == handle)


def _update(engine: Engine, reply_id: int, **values) -> None:
    with engine.begin() as connection:
        connection.execute(update(replies).where(replies.c.id == reply_id).values(**values))


def _delete(engine: Engine, where) -> int:
    with engine.begin() as connection:
        return connection.execute(delete(replies).where(where)).rowcount
