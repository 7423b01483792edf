"""[webpush]: the server's VAPID key pair and contact, which turn on "notify me" (Web Push, RFC 8030/8291).

Without the table the feature is off: no button, and the subscription endpoints answer 404. The private key is
only ever read from the environment (`{ env = "NAME" }`); `feedserver webpush-keys` makes a pair.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from py_vapid import Vapid

from ..fields import Interval, Secret


def vapid_key(private_key: str) -> Vapid:
    """The key pair of a private key written as py-vapid writes it (base64url raw or DER)."""
    try:
        return Vapid.from_string(private_key=private_key)
    except Exception as exc:  # noqa: BLE001 - py-vapid raises whatever its decoder raises
        raise ValidationError(f"not a VAPID private key ({type(exc).__name__}); make one with "
                              "`feedserver webpush-keys`") from None  # fmt: skip


def public_key(key: Vapid) -> str:
    """The application server key browsers subscribe with: the public point, base64url without padding."""
    raw = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_private_key() -> str:
    """A fresh private key, base64url of its 32 raw bytes (what [webpush] vapid_private_key reads)."""
    key = Vapid()
    key.generate_keys()
    raw = key.private_key.private_numbers().private_value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class WebPushSchema(Schema):
    """[webpush]."""

    class Meta:
        unknown = RAISE

    vapid_private_key = Secret(required=True, validate=lambda value: bool(vapid_key(value)))
    subject = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$", error="must be mailto:… or https://…"
        ),
    )
    ttl = Interval(load_default=86400)  # how long a push service keeps an undelivered notification
    max_subscriptions = fields.Integer(load_default=100_000, validate=validate.Range(1, 10_000_000))


@dataclass(frozen=True)
class WebPushSettings:
    """Web Push on (with keys) or off."""

    private_key: str | None = field(default=None, repr=False)
    subject: str = ""
    ttl: int = 86400
    max_subscriptions: int = 100_000

    @property
    def enabled(self) -> bool:
        """True when the server has its VAPID key."""
        return self.private_key is not None

    @property
    def application_server_key(self) -> str | None:
        """The public key for PushManager.subscribe, or None when off."""
        return public_key(vapid_key(self.private_key)) if self.private_key else None


def webpush_settings(values: dict | None) -> WebPushSettings:
    """Settings from the validated table, or off when the config has none."""
    if not values:
        return WebPushSettings()
    return WebPushSettings(
        values["vapid_private_key"], values["subject"], values["ttl"], values["max_subscriptions"]
    )
