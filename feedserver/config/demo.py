"""[demo] config table -> DemoSettings: whether `feedserver serve` runs the bundled demo upstream, and where.

The demo upstream (feedserver.demo) replays recorded upstream payloads with their times moved to now; feeds
reach it through `demo:` URLs. It only ever listens on a loopback address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from marshmallow import RAISE, Schema, ValidationError, fields, validate

DEMO_SCHEME = "demo:"


def loopback(value: str) -> None:
    """A loopback IP address (127.0.0.0/8 or ::1): the demo upstream is never reachable from elsewhere."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(f"must be a loopback IP address such as 127.0.0.1, not {value!r}") from None
    if not address.is_loopback:
        raise ValidationError(f"must be a loopback address (127.0.0.0/8 or ::1), not {value}")


class DemoSchema(Schema):
    """[demo]: off by default; the shipped config.toml turns it on so `make run` shows every kind offline."""

    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=False)
    host = fields.String(load_default="127.0.0.1", validate=loopback)
    port = fields.Integer(load_default=0, validate=validate.Range(0, 65535))  # 0: any free port


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 0  # 0: the system picks a free port when the demo upstream starts


def is_demo_url(value: object) -> bool:
    """True for an option value naming a path on the demo upstream (`demo:/waste/erlensee.ics`)."""
    return isinstance(value, str) and value.startswith(DEMO_SCHEME)
