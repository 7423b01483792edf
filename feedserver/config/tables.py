"""Loading one config table with its schema: the first problem becomes a ConfigError naming file and key."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from ..errors import ConfigError


def load_table(schema: Schema, data: Any, file: str, prefix: str) -> dict[str, Any]:
    """The table validated by `schema`; ConfigError with file, dotted key and problem otherwise."""
    if not isinstance(data, dict):
        raise ConfigError(file, prefix, "must be a table")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise_first(exc.messages, file, prefix)


def raise_first(messages: Any, file: str, prefix: str):
    """Raise marshmallow's first error message as a ConfigError naming file and dotted key."""
    key, problem = _first_error(messages)
    raise ConfigError(
        file,
        f"{prefix}.{key}" if key else prefix,
        problem.rstrip(".").lower() if problem.startswith(("Unknown", "Missing", "Not a valid")) else problem,
    ) from None


def _first_error(messages: Any) -> tuple[str, str]:
    """Flatten marshmallow's nested error dict to its first (dotted key, message)."""
    if isinstance(messages, dict):
        for name in sorted(messages, key=str):
            sub_key, problem = _first_error(messages[name])
            if name in ("key", "value") and not sub_key:  # marshmallow's Dict field marks which half failed
                return "", problem
            return (f"{name}.{sub_key}" if sub_key else str(name)), problem
    if isinstance(messages, list) and messages:
        return _first_error(messages[0])
    return "", str(messages)
