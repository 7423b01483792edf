"""[websub] and [activitypub] config tables -> PushSettings (validated with marshmallow like the rest)."""

from __future__ import annotations

from dataclasses import dataclass

from limits import parse_many
from marshmallow import RAISE, Schema, ValidationError, fields, validate

DAY = 86400
INBOX_RATE_LIMIT = "120/minute"  # per remote origin; account deletions of a big server come in bursts
INBOX_QUEUE_LIMIT = 1000  # inbox requests waiting for verification, all origins together


def rate_limit(value: str) -> None:
    """A marshmallow validator of a rate in flask-limiter syntax ('600/minute', '10/second;600/hour')."""
    try:
        parse_many(value)
    except ValueError:
        raise ValidationError("must be a rate like '600/minute' or '10/second;600/hour'") from None


class WebSubSchema(Schema):
    """[websub]: leases the hub grants and how undeliverable content is retried."""

    class Meta:
        unknown = RAISE

    default_lease = fields.Integer(load_default=10 * DAY, validate=validate.Range(60, 365 * DAY))
    max_lease = fields.Integer(load_default=30 * DAY, validate=validate.Range(60, 365 * DAY))
    retry_delay = fields.Integer(load_default=60, validate=validate.Range(1, DAY))
    max_attempts = fields.Integer(load_default=8, validate=validate.Range(1, 30))


class ActivityPubSchema(Schema):
    """[activitypub]: every feed as a followable actor (on by default), retries as WebSub's, inbox limits."""

    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=True)
    retry_delay = fields.Integer(load_default=60, validate=validate.Range(1, DAY))
    max_attempts = fields.Integer(load_default=8, validate=validate.Range(1, 30))
    inbox_rate_limit = fields.String(load_default=INBOX_RATE_LIMIT, validate=rate_limit)
    inbox_queue_limit = fields.Integer(load_default=INBOX_QUEUE_LIMIT, validate=validate.Range(10, 1_000_000))


@dataclass(frozen=True)
class Retry:
    """Exponential backoff: the n-th retry waits delay * 2**(n-1) seconds, capped; then the job is dropped."""

    delay: int = 60
    max_attempts: int = 8
    cap: int = 6 * 3600

    def wait(self, attempts: int) -> int:
        """Seconds before the next try after `attempts` failed ones."""
        return min(self.cap, self.delay * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class PushSettings:
    """Everything the hub, the ActivityPub actors and their delivery queue are configured with."""

    default_lease: int = 10 * DAY
    max_lease: int = 30 * DAY
    websub_retry: Retry = Retry()
    activitypub: bool = True
    activitypub_retry: Retry = Retry()
    inbox_rate_limit: str = INBOX_RATE_LIMIT
    inbox_queue_limit: int = INBOX_QUEUE_LIMIT


def push_settings(websub: dict, activitypub: dict) -> PushSettings:
    """Settings from the loaded [websub] and [activitypub] tables (already validated by the schemas)."""
    return PushSettings(
        default_lease=min(websub["default_lease"], websub["max_lease"]),
        max_lease=websub["max_lease"],
        websub_retry=Retry(websub["retry_delay"], websub["max_attempts"]),
        activitypub=activitypub["enabled"],
        activitypub_retry=Retry(activitypub["retry_delay"], activitypub["max_attempts"]),
        inbox_rate_limit=activitypub["inbox_rate_limit"],
        inbox_queue_limit=activitypub["inbox_queue_limit"],
    )
