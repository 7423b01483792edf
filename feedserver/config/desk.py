"""[desk] config table -> DeskSettings: how long /admin sessions live and how failed logins are throttled."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..fields import Interval

MINUTE, HOUR, DAY = 60, 3600, 86400


class DeskSchema(Schema):
    """[desk]: session lifetimes and the login throttle (defaults suit an office's working day)."""

    class Meta:
        unknown = RAISE

    session_idle = Interval(minimum=MINUTE, maximum=DAY, load_default=30 * MINUTE)
    session_lifetime = Interval(minimum=MINUTE, maximum=7 * DAY, load_default=8 * HOUR)
    login_failures = fields.Integer(load_default=5, validate=validate.Range(1, 100))
    address_failures = fields.Integer(load_default=20, validate=validate.Range(1, 10_000))
    failure_window = Interval(minimum=MINUTE, maximum=DAY, load_default=15 * MINUTE)
    lockout = Interval(minimum=1, maximum=DAY, load_default=MINUTE)
    lockout_max = Interval(minimum=1, maximum=7 * DAY, load_default=DAY)

    @validates_schema
    def _ordered(self, data: dict, **kwargs) -> None:
        if data["session_idle"] > data["session_lifetime"]:
            raise ValidationError("must not be longer than session_lifetime", "session_idle")
        if data["lockout"] > data["lockout_max"]:
            raise ValidationError("must not be longer than lockout_max", "lockout")


@dataclass(frozen=True)
class Throttle:
    """`failures` failed attempts within `window` seconds lock a key; the n-th lock lasts base * 2**(n-1)."""

    failures: int = 5
    window: int = 15 * MINUTE
    base: int = MINUTE
    cap: int = DAY

    def lock_seconds(self, lockouts: int) -> int:
        """How long the `lockouts`-th lock-out in a row lasts."""
        return min(self.cap, self.base * 2 ** min(max(0, lockouts - 1), 32))


@dataclass(frozen=True)
class DeskSettings:
    """Everything the desk's sessions and login throttle are configured with."""

    session_idle: int = 30 * MINUTE
    session_lifetime: int = 8 * HOUR
    account: Throttle = Throttle()  # per login name (known or not: unknown names are treated alike)
    address: Throttle = Throttle(failures=20)  # per client address: failed logins and bad API tokens


def desk_settings(table: dict) -> DeskSettings:
    """Settings from the loaded [desk] table (already validated by the schema)."""
    timing = {"window": table["failure_window"], "base": table["lockout"], "cap": table["lockout_max"]}
    return DeskSettings(
        session_idle=table["session_idle"],
        session_lifetime=table["session_lifetime"],
        account=Throttle(failures=table["login_failures"], **timing),
        address=Throttle(failures=table["address_failures"], **timing),
    )
