"""[replies]: citizens' replies to and mentions of the feed actors, read by the office of the feed.

A feed names its office with `office = "..."` (a desk feed's office is its announcements' office). Replies to
a feed without an office are acknowledged and not kept: nobody would read them, and personal data nobody reads
is not stored. Messages and handles are deleted after `retention_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import RAISE, Schema, fields, validate


class RepliesSchema(Schema):
    """[replies]."""

    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=True)
    retention_days = fields.Integer(load_default=90, validate=validate.Range(1, 3650))
    per_actor_hour = fields.Integer(load_default=10, validate=validate.Range(1, 10_000))
    per_instance_hour = fields.Integer(load_default=100, validate=validate.Range(1, 100_000))
    max_characters = fields.Integer(load_default=5000, validate=validate.Range(100, 100_000))
    # Accounts (their actor URL) or whole instances (a host name) whose messages are not taken.
    blocked = fields.List(fields.String(validate=validate.Length(1, 2048)), load_default=list)
    # Offices whose answers go out only after a second person (an approver or admin) approves them.
    answers_need_approval = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$")), load_default=list
    )


@dataclass(frozen=True)
class RepliesSettings:
    """How replies are taken and how long they are kept."""

    enabled: bool = True
    retention_days: int = 90
    per_actor_hour: int = 10
    per_instance_hour: int = 100
    max_characters: int = 5000
    blocked: tuple[str, ...] = ()
    answers_need_approval: frozenset[str] = frozenset()


def replies_settings(values: dict) -> RepliesSettings:
    """Settings from the validated table."""
    approval = frozenset(values["answers_need_approval"])
    blocked = tuple(values["blocked"])
    return RepliesSettings(**{**values, "blocked": blocked, "answers_need_approval": approval})
