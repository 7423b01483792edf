"""SQL of Web Push subscriptions: save (one per browser and feed), remove with proof, list, drop when gone."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..tables import from_row, webpush_subscriptions

table = webpush_subscriptions


@dataclass(frozen=True)
class PushSubscription:
    """A browser's subscription to one feed."""

    id: int
    feed_id: str
    endpoint: str
    p256dh: str
    auth: str
    filters: dict
    language: str

    @property
    def info(self) -> dict:
        """The subscription as pywebpush takes it (what the browser's PushSubscription.toJSON() gave)."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def _digest(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def save(engine: Engine, feed_id: str, endpoint: str, keys: dict, filters: dict, language: str, now) -> int:
    """Store a subscription (or replace the keys and filters of the same browser's); its id."""
    values = {"p256dh": keys["p256dh"], "auth": keys["auth"], "filters": json.dumps(filters, sort_keys=True),
              "language": language}  # fmt: skip
    where = and_(table.c.feed_id == feed_id, table.c.endpoint_sha256 == _digest(endpoint))
    for _ in range(2):  # an insert that loses a race becomes the update
        with engine.begin() as connection:
            found = connection.execute(select(table.c.id).where(where)).scalar()
            if found is not None:
                connection.execute(update(table).where(table.c.id == found).values(**values))
                return found
            try:
                row = {"feed_id": feed_id, "endpoint_sha256": _digest(endpoint), "endpoint": endpoint,
                       "created_at": now, **values}  # fmt: skip
                return connection.execute(insert(table).values(**row)).inserted_primary_key[0]
            except IntegrityError:
                continue
    raise RuntimeError("subscription could not be stored")


def remove(engine: Engine, feed_id: str, endpoint: str, auth: str) -> bool:
    """Delete a subscription whose owner proves it with the auth secret only their browser knows."""
    where = and_(table.c.feed_id == feed_id, table.c.endpoint_sha256 == _digest(endpoint))
    with engine.begin() as connection:
        row = connection.execute(select(table.c.id, table.c.auth).where(where)).first()
        if row is None or not hmac.compare_digest(row.auth.encode(), auth.encode()):
            return False
        connection.execute(delete(table).where(table.c.id == row.id))
    return True


def drop(engine: Engine, subscription_id: int) -> None:
    """Delete a subscription the push service says is gone."""
    with engine.begin() as connection:
        connection.execute(delete(table).where(table.c.id == subscription_id))


def for_feed(engine: Engine, feed_id: str) -> list[PushSubscription]:
    """Every subscription to a feed."""
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.feed_id == feed_id)).mappings().all()
    return [_subscription(row) for row in rows]


def find(engine: Engine, subscription_id: int) -> PushSubscription | None:
    """One subscription, or None when it was removed."""
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.id == subscription_id)).mappings().first()
    return _subscription(row) if row else None


def count(engine: Engine) -> int:
    """How many subscriptions the server holds."""
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _subscription(row) -> PushSubscription:
    return from_row(PushSubscription, row, filters=json.loads(row["filters"]))
