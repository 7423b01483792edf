"""marshmallow fields shared by the config schema and the source option schemas."""

from __future__ import annotations

import os
import re
from datetime import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields

INTERVAL_PART = re.compile(r"(\d+)\s*([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SERVICE_PATTERN = r"[a-z0-9][a-z0-9-]*\Z"  # a hosted waste app's `service` becomes part of a host name


def parse_interval(text: str) -> int:
    """'90s', '30m', '6h', '1d', '1h30m' -> seconds; ValueError otherwise."""
    compact = text.replace(" ", "").lower()
    if len(compact) > 32:  # "1d12h30m15s" is 11: longer is a typo, and findall on it would be quadratic
        raise ValueError(f"not an interval: {text[:40]!r} (use e.g. 90s, 30m, 6h, 1d)")
    parts = INTERVAL_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"not an interval: {text!r} (use e.g. 90s, 30m, 6h, 1d)")
    return sum(int(n) * UNIT_SECONDS[u] for n, u in parts)


class Interval(fields.Field):
    """A polling interval like '6h', between a minimum and a maximum."""

    def __init__(self, minimum: int = 30, maximum: int = 7 * 86400, **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("must be a string like '30m', '6h' or '1d'")
        try:
            seconds = value if isinstance(value, int) else parse_interval(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        if not self.minimum <= seconds <= self.maximum:
            raise ValidationError(f"must be between {self.minimum} s and {self.maximum // 86400} days")
        return seconds


class Url(fields.String):
    """An absolute http(s) or file URL, or a `demo:` path on the bundled demo upstream (see [demo])."""

    def __init__(self, schemes: tuple[str, ...] = ("http", "https", "file", "demo"), **kwargs):
        super().__init__(**kwargs)
        self.schemes = schemes

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = urlsplit(text)
        if parts.scheme.lower() not in self.schemes:
            raise ValidationError(f"must be a URL starting with {' or '.join(s + ':' for s in self.schemes)}")
        if parts.scheme not in ("file", "demo") and not parts.hostname:
            raise ValidationError("URL has no host")
        return text


class ClockTime(fields.Field):
    """A local time of day written 'HH:MM'."""

    def _deserialize(self, value, attr, data, **kwargs) -> time:
        if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
            raise ValidationError("must be a time of day like '18:00'")
        hour, minute = map(int, value.split(":"))
        if hour > 23 or minute > 59:
            raise ValidationError("must be a time of day between 00:00 and 23:59")
        return time(hour, minute)


class TimeZone(fields.String):
    """An IANA time zone name such as 'Europe/Berlin'."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"unknown time zone {name!r}") from exc
        return name


class Secret(fields.Field):
    """A secret, only ever as a reference `{ env = "NAME" }`, resolved from the environment at load time."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, dict) or set(value) != {"env"} or not isinstance(value["env"], str):
            raise ValidationError('secrets must be written as { env = "NAME" }, never as literal values')
        resolved = os.environ.get(value["env"])
        if not resolved:
            raise ValidationError(f"environment variable {value['env']} is not set")
        return resolved
