"""SQL of the channels to the city's accounts: which item went to which account as which post, and its state.

A post row is the plan and the record at once: `text` is what the post should say now, `sent_text` what the
network has, `remote_id` its id there. Each change of state is one conditional statement, so of two workers
syncing the same feed at once only one queues the work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..tables import channel_cursors, channel_feeds, channel_posts, from_row

# States: backlog (seen at the first look), queued, sent, failed, skipped (over the hourly limit), withdrawn,
# deleted; Web Push rows are backlog or notified.
LIVE = ("queued", "sent", "failed")  # states of a post that is (or is about to be) on the network


@dataclass(frozen=True)
class Post:
    """One item on one channel."""

    channel: str
    feed_id: str
    item_id: str
    text: str
    language: str
    state: str
    crisis: bool = False
    remote_id: str | None = None
    remote_url: str | None = None
    sent_text: str | None = None
    error: str | None = None
    queued_at: datetime | None = None  # when the item was first queued (a post's creation time)
    changed_at: datetime | None = None  # when its text or state last changed (a correction's time)


def _key(channel: str, feed_id: str, item_id: str):
    return and_(
        channel_posts.c.channel == channel,
        channel_posts.c.feed_id == feed_id,
        channel_posts.c.item_id == item_id,
    )


def mark_synced(engine: Engine, channel: str, feed_id: str, now: datetime) -> bool:
    """Record the first look of a channel at a feed; False when it was looked at before."""
    where = and_(channel_feeds.c.channel == channel, channel_feeds.c.feed_id == feed_id)
    with engine.connect() as connection:
        if connection.execute(select(channel_feeds.c.synced_at).where(where)).first() is not None:
            return False
    try:  # two workers may both get here: the primary key lets one of them through
        with engine.begin() as connection:
            connection.execute(insert(channel_feeds).values(channel=channel, feed_id=feed_id, synced_at=now))
        return True
    except IntegrityError:
        return False


def posts(
    engine: Engine, channel: str, feed_id: str, item_ids: Iterable[str] | None = None
) -> dict[str, Post]:
    """The Posts of a feed a channel has seen, by item id: those of `item_ids` and every one still on the
    network (which may have to go); all of them when `item_ids` is None. A sync reads only these, not the
    whole history, which grows with every item the feed ever had."""
    where = and_(channel_posts.c.channel == channel, channel_posts.c.feed_id == feed_id)
    if item_ids is not None:
        where = and_(where, or_(channel_posts.c.state.in_(LIVE), channel_posts.c.item_id.in_(list(item_ids))))
    with engine.connect() as connection:
        rows = connection.execute(select(channel_posts).where(where)).mappings().all()
    return {row["item_id"]: from_row(Post, row) for row in rows}


def post(engine: Engine, channel: str, feed_id: str, item_id: str) -> Post | None:
    """One post, or None."""
    with engine.connect() as connection:
        row = (
            connection.execute(select(channel_posts).where(_key(channel, feed_id, item_id)))
            .mappings()
            .first()
        )
    return from_row(Post, row) if row else None


def add(engine: Engine, draft: Post, now: datetime) -> bool:
    """Record a new item on a channel (queued, or backlog/skipped); False when another worker did."""
    values = {**draft.__dict__, "queued_at": now, "changed_at": now}  # the draft's own times are unset
    try:
        with engine.begin() as connection:
            connection.execute(insert(channel_posts).values(**values))
        return True
    except IntegrityError:
        return False


def queued_since(engine: Engine, channel: str, since: datetime) -> int:
    """How many posts (crisis notices aside) a channel queued since then, over all feeds."""
    where = and_(
        channel_posts.c.channel == channel,
        channel_posts.c.queued_at >= since,
        channel_posts.c.state.in_(LIVE + ("withdrawn", "deleted")),
        channel_posts.c.crisis.is_(False),
    )
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(channel_posts).where(where)).scalar_one()


def revise(engine: Engine, old: Post, text: str, now: datetime) -> bool:
    """The item now reads `text`; False when it changed meanwhile (another worker revised it)."""
    where = and_(_key(old.channel, old.feed_id, old.item_id), channel_posts.c.text == old.text)
    return _update(engine, where, text=text, changed_at=now)


def withdraw(engine: Engine, old: Post, now: datetime) -> bool:
    """The item left the feed: its post is to go; False when it already was withdrawn."""
    where = and_(_key(old.channel, old.feed_id, old.item_id), channel_posts.c.state.in_(LIVE))
    return _update(engine, where, state="withdrawn", changed_at=now)


def mark_sent(engine: Engine, done: Post, remote_id: str, remote_url: str | None, text: str, now) -> None:
    """The network has the post (its id and address) with this text."""
    where = _key(done.channel, done.feed_id, done.item_id)
    state = {"state": "sent"} if done.state in ("queued", "failed") else {}
    _update(
        engine, where, remote_id=remote_id, remote_url=remote_url, sent_text=text, error=None, changed_at=now,
        **state,
    )  # fmt: skip


def mark_failed(engine: Engine, failed: Post, error: str, now: datetime) -> None:
    """The last attempt failed; the reason is kept for the desk (the queue retries it)."""
    _update(engine, _key(failed.channel, failed.feed_id, failed.item_id), error=error[:500], changed_at=now)


def mark_deleted(engine: Engine, gone: Post, now: datetime) -> None:
    """The post is off the network (or never got there)."""
    _update(
        engine, _key(gone.channel, gone.feed_id, gone.item_id), state="deleted", error=None, changed_at=now
    )


def post_by_remote_id(engine: Engine, channel: str, remote_id: str) -> Post | None:
    """The post a channel knows by this id (a reply answers it), or None when it is not the city's."""
    where = (channel_posts.c.channel == channel) & (channel_posts.c.remote_id == remote_id)
    with engine.connect() as connection:
        row = connection.execute(select(channel_posts).where(where)).mappings().first()
    return from_row(Post, row) if row else None


def cursor(engine: Engine, channel: str) -> str | None:
    """How far the channel's replies were read (None: never)."""
    query = select(channel_cursors.c.cursor).where(channel_cursors.c.channel == channel)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none()


def save_cursor(engine: Engine, channel: str, value: str, now: datetime) -> None:
    """Remember how far the channel's replies were read."""
    with engine.begin() as connection:
        where = channel_cursors.c.channel == channel
        moved = connection.execute(update(channel_cursors).where(where).values(cursor=value, updated_at=now))
        if moved.rowcount == 0:
            connection.execute(insert(channel_cursors).values(channel=channel, cursor=value, updated_at=now))


def _update(engine: Engine, where, **values) -> bool:
    with engine.begin() as connection:
        return connection.execute(update(channel_posts).where(where).values(**values)).rowcount == 1
