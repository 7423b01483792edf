"""Threshold crossings in a series of readings: the moments an information, alert or all-clear goes out.

The rules (one station and one component, readings sorted by time):

* A reading "exceeds" a threshold when its value is strictly greater (EU wording: "rises above").
* Rising above the information threshold gives an "info" event; rising above the alert threshold an "alert".
* A reading that jumps straight over both thresholds gives a single "alert": one message, the more urgent one,
  rather than two messages about the same hour.
* Falling back from above the alert threshold to between the two thresholds gives nothing (still above info);
  rising over the alert threshold again later gives another "alert".
* Falling below the lowest configured threshold after an info or alert gives an "all-clear".
* Nothing repeats while the value stays on the same level. A series that starts above a threshold gives its
  event at the first reading: what happened before the series is unknown.
* Gaps in the series (missing hours) do not reset the state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class Level(StrEnum):
    """What a crossing announces."""

    INFO = "info"
    ALERT = "alert"
    ALL_CLEAR = "all-clear"


class _State(IntEnum):
    BELOW = 0
    INFO = 1
    ALERT = 2


@dataclass(frozen=True)
class Thresholds:
    """The information and alert thresholds of one component; either may be None (not configured)."""

    info: float | None = None
    alert: float | None = None

    def __post_init__(self) -> None:
        if self.info is not None and self.alert is not None and self.info > self.alert:
            raise ValueError(f"information threshold {self.info} is above the alert threshold {self.alert}")

    @property
    def lowest(self) -> float | None:
        """The threshold whose undercut means all clear."""
        configured = [t for t in (self.info, self.alert) if t is not None]
        return min(configured) if configured else None

    def level_of(self, value: float) -> _State:
        """How high a single value is: below, above info, or above alert."""
        if self.alert is not None and value > self.alert:
            return _State.ALERT
        if self.info is not None and value > self.info:
            return _State.INFO
        return _State.BELOW


@dataclass(frozen=True)
class Crossing:
    """One event: the reading that crossed, what it announces and the threshold it refers to."""

    at: datetime
    value: float
    level: Level
    threshold: float


def crossings(series: Iterable[tuple[datetime, float]], thresholds: Thresholds) -> list[Crossing]:
    """Info, alert and all-clear events of a chronologically sorted series of (end time, value) readings."""
    events: list[Crossing] = []
    state = _State.BELOW
    for at, value in series:
        new_state = thresholds.level_of(value)
        event = _event(state, new_state, at, value, thresholds)
        if event is not None:
            events.append(event)
        state = new_state
    return events


def _event(old: _State, new: _State, at: datetime, value: float, thresholds: Thresholds) -> Crossing | None:
    if new == _State.ALERT and old != _State.ALERT:
        return Crossing(at, value, Level.ALERT, thresholds.alert)
    if new == _State.INFO and old == _State.BELOW:
        return Crossing(at, value, Level.INFO, thresholds.info)
    if new == _State.BELOW and old != _State.BELOW:
        return Crossing(at, value, Level.ALL_CLEAR, thresholds.lowest)
    return None


def current_level(value: float, thresholds: Thresholds) -> str | None:
    """'alert', 'info' or None for the latest reading, for widgets that colour the current value."""
    state = thresholds.level_of(value)
    return {_State.ALERT: Level.ALERT.value, _State.INFO: Level.INFO.value}.get(state)
