"""[metrics] and [logging]: what operators see of a running server.

`/metrics` is off by default; when on, it answers only clients in `allow` (loopback by default) and, when a
token is configured, only requests that carry it (`Authorization: Bearer ...`); everyone else gets a 404,
as if there were nothing. Logs are lines of text, or one JSON object per line for a log collector.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..fields import Secret

LOOPBACK = ("127.0.0.0/8", "::1/128")


def _networks(values: list[str]) -> None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError(f"not a network: {value!r}") from None


class MetricsSchema(Schema):
    """[metrics]."""

    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=False)
    allow = fields.List(fields.String(), load_default=lambda: list(LOOPBACK), validate=_networks)
    token = Secret(load_default=None)


class LoggingSchema(Schema):
    """[logging]."""

    class Meta:
        unknown = RAISE

    format = fields.String(load_default="text", validate=validate.OneOf(["text", "json"]))
    level = fields.String(load_default="INFO", validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]))


@dataclass(frozen=True)
class MetricsSettings:
    """Whether /metrics answers, to whom, with which token."""

    enabled: bool = False
    allow: tuple[str, ...] = LOOPBACK
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LoggingSettings:
    """How log lines are written."""

    format: str = "text"
    level: str = "INFO"


def metrics_settings(values: dict) -> MetricsSettings:
    """Settings from the validated table."""
    return MetricsSettings(values["enabled"], tuple(values["allow"]), values["token"])
