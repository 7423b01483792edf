"""SQL for push and social: WebSub subscriptions, ActivityPub keys, followers and announced notes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..tables import ap_actors, ap_followers, ap_notes, from_row, websub_subscriptions


@dataclass(frozen=True)
class Subscription:
    """One active (verified) WebSub subscription."""

    id: int
    topic: str
    callback: str
    feed_id: str | None
    format: str
    secret: str | None
    expires_at: datetime
    last_etag: str | None


@dataclass(frozen=True)
class Follower:
    """A remote actor following a feed, with where to deliver to."""

    actor: str
    inbox: str
    shared_inbox: str | None

    @property
    def delivery_inbox(self) -> str:
        """The shared inbox where the follower's server offers one (one request per server), else its own."""
        return self.shared_inbox or self.inbox


# --- WebSub -------------------------------------------------------------------------------------------
def save_subscription(
    engine: Engine,
    topic: str,
    callback: str,
    feed_id: str | None,
    fmt: str,
    secret: str | None,
    lease: int,
    now: datetime,
) -> int:
    """Create or renew the subscription of a callback to a topic (a renewal replaces lease and secret)."""
    values = {"secret": secret, "lease_seconds": lease, "expires_at": now + timedelta(seconds=lease)}
    key = and_(websub_subscriptions.c.topic == topic, websub_subscriptions.c.callback == callback)
    with engine.begin() as connection:
        existing = connection.execute(select(websub_subscriptions.c.id).where(key)).scalar()
        if existing is not None:
            connection.execute(update(websub_subscriptions).where(key).values(**values))
            return existing
        row = {"topic": topic, "callback": callback, "feed_id": feed_id, "format": fmt, "created_at": now}
        return connection.execute(insert(websub_subscriptions).values(**row, **values)).inserted_primary_key[
            0
        ]


def remove_subscription(engine: Engine, topic: str, callback: str) -> int | None:
    """End a subscription; its id, or None when there was none."""
    key = and_(websub_subscriptions.c.topic == topic, websub_subscriptions.c.callback == callback)
    with engine.begin() as connection:
        existing = connection.execute(select(websub_subscriptions.c.id).where(key)).scalar()
        connection.execute(delete(websub_subscriptions).where(key))
    return existing


def remove_subscription_by_id(engine: Engine, subscription_id: int) -> None:
    """End a subscription whose callback answered 410 Gone."""
    with engine.begin() as connection:
        connection.execute(delete(websub_subscriptions).where(websub_subscriptions.c.id == subscription_id))


def subscription(engine: Engine, subscription_id: int) -> Subscription | None:
    """One subscription by id, or None when it ended."""
    query = select(websub_subscriptions).where(websub_subscriptions.c.id == subscription_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return _subscription(row) if row else None


def subscriptions_for(engine: Engine, feed_id: str, now: datetime) -> list[Subscription]:
    """Active subscriptions to a feed's topics, and to the catalogue (which shows every feed's status)."""
    query = select(websub_subscriptions).where(
        or_(websub_subscriptions.c.feed_id == feed_id, websub_subscriptions.c.feed_id.is_(None)),
        websub_subscriptions.c.expires_at > now,
    )
    with engine.connect() as connection:
        return [_subscription(row) for row in connection.execute(query.order_by("id")).mappings()]


def mark_queued(engine: Engine, subscription_id: int, etag: str) -> bool:
    """Note that a subscription is being sent this content; False when it already was (no second copy)."""
    table = websub_subscriptions
    with engine.begin() as connection:
        result = connection.execute(
            update(table)
            .where(table.c.id == subscription_id, or_(table.c.last_etag.is_(None), table.c.last_etag != etag))
            .values(last_etag=etag)
        )
    return result.rowcount == 1


def purge_expired(engine: Engine, now: datetime) -> int:
    """Forget subscriptions whose lease ran out; how many."""
    with engine.begin() as connection:
        result = connection.execute(
            delete(websub_subscriptions).where(websub_subscriptions.c.expires_at <= now)
        )
    return result.rowcount


def subscription_count(engine: Engine) -> int:
    """All stored subscriptions (the hub refuses new ones past a ceiling)."""
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(websub_subscriptions)).scalar_one()


def subscriber_counts(engine: Engine, now: datetime) -> dict[tuple[str, str], int]:
    """Active subscriptions per (feed id, format); catalogue subscriptions are not a feed's."""
    table = websub_subscriptions
    query = (
        select(table.c.feed_id, table.c.format, func.count())
        .where(table.c.feed_id.is_not(None), table.c.expires_at > now)
        .group_by(table.c.feed_id, table.c.format)
    )
    with engine.connect() as connection:
        return {(feed_id, fmt): count for feed_id, fmt, count in connection.execute(query).all()}


def _subscription(row) -> Subscription:
    return from_row(Subscription, row)


# --- ActivityPub actors -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Actor:
    """A feed's stored key pair and whether its items have been looked at once."""

    feed_id: str
    private_key_pem: str
    public_key_pem: str
    created_at: datetime
    synced_at: datetime | None


def actor(engine: Engine, feed_id: str, make_keys: Callable[[], tuple[str, str]], now: datetime) -> Actor:
    """The feed's actor record, its key pair generated and stored on first use (once, even under races)."""
    found = find_actor(engine, feed_id)
    if found is not None:
        return found
    private_pem, public_pem = make_keys()
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(ap_actors).values(
                    feed_id=feed_id, private_key_pem=private_pem, public_key_pem=public_pem, created_at=now
                )
            )
    except IntegrityError:
        pass  # another process stored its pair first: use that one, so every signature matches one key
    return find_actor(engine, feed_id)


def mark_synced(engine: Engine, feed_id: str, now: datetime) -> None:
    """The feed's items have been looked at once: later ones are news for followers."""
    with engine.begin() as connection:
        connection.execute(update(ap_actors).where(ap_actors.c.feed_id == feed_id).values(synced_at=now))


def find_actor(engine: Engine, feed_id: str) -> Actor | None:
    """The feed's actor record, or None while nobody has looked at the actor (no keys made yet)."""
    with engine.connect() as connection:
        row = connection.execute(select(ap_actors).where(ap_actors.c.feed_id == feed_id)).mappings().first()
    return Actor(**row) if row else None


# --- ActivityPub followers ----------------------------------------------------------------------------
def add_follower(engine: Engine, feed_id: str, follower: Follower, now: datetime) -> None:
    """Store (or refresh the inboxes of) a follower."""
    key = and_(ap_followers.c.feed_id == feed_id, ap_followers.c.actor == follower.actor)
    values = {"inbox": follower.inbox, "shared_inbox": follower.shared_inbox}
    with engine.begin() as connection:
        if connection.execute(select(ap_followers.c.actor).where(key)).first() is not None:
            connection.execute(update(ap_followers).where(key).values(**values))
        else:
            connection.execute(
                insert(ap_followers).values(feed_id=feed_id, actor=follower.actor, followed_at=now, **values)
            )


def remove_follower(engine: Engine, actor_id: str, feed_id: str | None = None) -> int:
    """Remove a follower from one feed (Undo Follow) or from all (the account was deleted); how many rows."""
    query = delete(ap_followers).where(ap_followers.c.actor == actor_id)
    if feed_id is not None:
        query = query.where(ap_followers.c.feed_id == feed_id)
    with engine.begin() as connection:
        return connection.execute(query).rowcount


def follows(engine: Engine, actor_id: str, feed_id: str | None = None) -> bool:
    """Whether an actor follows a feed (any feed when none is given)."""
    query = select(ap_followers.c.actor).where(ap_followers.c.actor == actor_id)
    if feed_id is not None:
        query = query.where(ap_followers.c.feed_id == feed_id)
    with engine.connect() as connection:
        return connection.execute(query.limit(1)).first() is not None


def followers(engine: Engine, feed_id: str) -> list[Follower]:
    """Everyone following a feed."""
    query = select(ap_followers).where(ap_followers.c.feed_id == feed_id).order_by(ap_followers.c.followed_at)
    with engine.connect() as connection:
        return [from_row(Follower, row) for row in connection.execute(query).mappings()]


def follower_counts(engine: Engine) -> dict[str, int]:
    """Followers per feed id."""
    query = select(ap_followers.c.feed_id, func.count()).group_by(ap_followers.c.feed_id)
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


# --- ActivityPub notes --------------------------------------------------------------------------------
def note_states(engine: Engine, feed_id: str) -> dict[str, datetime | None]:
    """Every item ever announced for a feed -> when it was deleted (None while it is current)."""
    query = select(ap_notes.c.item_id, ap_notes.c.deleted_at).where(ap_notes.c.feed_id == feed_id)
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


def announce_note(
    engine: Engine, feed_id: str, item_id: str, note: dict, crisis: bool, now: datetime
) -> bool:
    """Record a note as announced; False when it already was (another worker got there first)."""
    values = {"note": json.dumps(note, ensure_ascii=False), "crisis": crisis, "deleted_at": None}
    try:
        with engine.begin() as connection:
            deleted = _note_key(feed_id, item_id) & ap_notes.c.deleted_at.is_not(None)
            again = connection.execute(update(ap_notes).where(deleted).values(**values))  # current again
            if again.rowcount == 1:
                return True
            connection.execute(
                insert(ap_notes).values(feed_id=feed_id, item_id=item_id, published_at=now, **values)
            )
        return True
    except IntegrityError:
        return False  # the insert lost a race: the note is announced (once)


def current_notes(engine: Engine, feed_id: str) -> dict[str, str]:
    """The JSON text of every announced, not deleted note of a feed, by item id."""
    current = and_(ap_notes.c.feed_id == feed_id, ap_notes.c.deleted_at.is_(None))
    query = select(ap_notes.c.item_id, ap_notes.c.note).where(current)
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


def revise_note(engine: Engine, feed_id: str, item_id: str, old_text: str, note: dict) -> bool:
    """Replace an announced note by its corrected version; False when another worker already did."""
    with engine.begin() as connection:
        current = (
            _note_key(feed_id, item_id) & ap_notes.c.deleted_at.is_(None) & (ap_notes.c.note == old_text)
        )
        result = connection.execute(
            update(ap_notes).where(current).values(note=json.dumps(note, ensure_ascii=False))
        )
    return result.rowcount == 1


def _note_key(feed_id: str, item_id: str):
    """The where-clause of one feed's note of one item."""
    return (ap_notes.c.feed_id == feed_id) & (ap_notes.c.item_id == item_id)


def mark_deleted(engine: Engine, feed_id: str, item_id: str, now: datetime) -> bool:
    """The item left the feed: its note becomes a Tombstone; False when it already was one."""
    with engine.begin() as connection:
        result = connection.execute(
            update(ap_notes)
            .where(
                ap_notes.c.feed_id == feed_id, ap_notes.c.item_id == item_id, ap_notes.c.deleted_at.is_(None)
            )
            .values(deleted_at=now)
        )
    return result.rowcount == 1


def note(engine: Engine, feed_id: str, item_id: str) -> tuple[dict, datetime | None] | None:
    """One announced note and its deletion time, or None when it was never announced."""
    query = select(ap_notes.c.note, ap_notes.c.deleted_at).where(
        ap_notes.c.feed_id == feed_id, ap_notes.c.item_id == item_id
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return (json.loads(row.note), row.deleted_at) if row else None


def recent_notes(engine: Engine, feed_id: str, limit: int) -> tuple[int, list[dict]]:
    """How many current notes a feed has, and the newest `limit` of them."""
    current = and_(ap_notes.c.feed_id == feed_id, ap_notes.c.deleted_at.is_(None))
    query = select(ap_notes.c.note).where(current).order_by(ap_notes.c.published_at.desc()).limit(limit)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(ap_notes).where(current)).scalar_one()
        return total, [json.loads(text) for text in connection.execute(query).scalars()]
