"""The parse budget of one refresh: the CPU time a source may spend turning one payload into items.

The fetch deadline ends with the last byte; parsing and normalizing come after it. Every pattern that reads
upstream text runs in linear time and fields are cut to their limits before any pattern sees them, but a
payload of many items can still keep a scheduler thread busy: the pipeline opens a budget around parse and
normalize, and `spend()` (called for every item by make_item and normalize) raises ParseError once the
thread has used more CPU time than allowed, so the feed fails like any other bad answer (marked stale, its
last good items still served). CPU time, not wall time: waiting for the GIL or a busy machine is not the
upstream's doing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import ParseError


@dataclass(frozen=True)
class _Budget:
    seconds: float
    started: float


_current: ContextVar[_Budget | None] = ContextVar("feedserver_parse_budget", default=None)


def _clock() -> float:
    return time.thread_time()


@contextmanager
def parse_budget(seconds: float) -> Iterator[None]:
    """Let the code inside spend at most `seconds` of this thread's CPU time, as checked by spend()."""
    token = _current.set(_Budget(seconds, _clock()))
    try:
        yield
    finally:
        _current.reset(token)


def spend() -> None:
    """Raise ParseError when the current parse budget is used up; outside a budget, do nothing."""
    budget = _current.get()
    if budget is not None and _clock() - budget.started > budget.seconds:
        raise ParseError(f"parsing took longer than {budget.seconds:g} s of CPU time")
