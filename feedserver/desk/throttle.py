"""The login throttle's arithmetic: failures in a window lock a key, each lock-out twice as long as the last.

A key is a login name (whether or not such a user exists, so the answers cannot tell them apart) or a client
address. Keys are stored only as sha256 digests: a "name" may be a password typed into the wrong field.
Pure functions over Attempts; feedserver.desk.access_records stores them, feedserver.desk.access applies them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config.desk import Throttle


@dataclass(frozen=True)
class Attempts:
    """What is known about one key: failures in the current window, lock-outs so far, the current lock."""

    failures: int = 0
    window_start: datetime | None = None
    lockouts: int = 0
    locked_until: datetime | None = None


def name_key(name: str) -> str:
    """The throttle key of a login name (case and surrounding blanks do not make a new one)."""
    return _digest("name:" + name.strip().lower())


def address_key(address: str) -> str:
    """The throttle key of a client address."""
    return _digest("address:" + address)


def retry_after(state: Attempts, now: datetime) -> int:
    """Whole seconds until the key's lock-out ends; 0 when it is not locked."""
    if state.locked_until is None or state.locked_until <= now:
        return 0
    return math.ceil((state.locked_until - now).total_seconds())


def after_failure(state: Attempts, now: datetime, policy: Throttle) -> Attempts:
    """The key's state after one more failure: counted in its window, locked when the window is full."""
    lockouts = state.lockouts
    if state.locked_until is not None and now - state.locked_until >= timedelta(seconds=policy.cap):
        lockouts = 0  # quiet for as long as the longest lock-out: start again from the shortest
    expired = state.window_start is None or now - state.window_start >= timedelta(seconds=policy.window)
    failures = 1 if expired else state.failures + 1
    if failures >= policy.failures:
        locked_until = now + timedelta(seconds=policy.lock_seconds(lockouts + 1))
        return Attempts(0, None, lockouts + 1, locked_until)
    return Attempts(failures, now if expired else state.window_start, lockouts, state.locked_until)


def started_lock(before: Attempts, after: Attempts) -> bool:
    """True when this failure began a lock-out."""
    return after.lockouts > before.lockouts


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
