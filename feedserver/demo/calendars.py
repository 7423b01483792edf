"""Recorded iCalendar waste calendars, replayed so that their pickups always lie ahead.

Each event is moved by a whole number of periods into the window that starts four weeks before today. The
period is 52 weeks (364 days: weekdays stay right) for a calendar of about a year, and the whole weeks it
spans for a shorter one (a calendar recorded in June covers June to December): a recorded calendar becomes
an endless one whose past month and coming months are always there. A pickup keeps its date while it stays
in the window, so a feed that polls the replay sees pickups come and go at the edges, never a moved or
vanished upcoming one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

PERIOD = timedelta(weeks=52)
YEAR_LIKE = timedelta(weeks=48)  # a calendar spanning this long is a year's: it repeats yearly
BACK = timedelta(weeks=4)
# DTSTART;VALUE=DATE:20260113, DTEND:20200107T000000Z ... (the date-valued properties of an event)
DATED = re.compile(rb"^(DTSTART|DTEND|RECURRENCE-ID)([;:][^\r\n]*:|:)(\d{8})", re.IGNORECASE)


def replay_calendar(body: bytes, today: date) -> bytes:
    """The calendar with every event moved by whole periods into [today - 4 weeks, + one period)."""
    window_start = today - BACK
    period = repeat_period(body)
    lines = body.splitlines(keepends=True)
    out: list[bytes] = []
    event: list[bytes] | None = None
    for line in lines:
        upper = line.strip().upper()
        if upper == b"BEGIN:VEVENT":
            event = [line]
        elif event is not None:
            event.append(line)
            if upper == b"END:VEVENT":
                out.extend(_moved(event, window_start, period))
                event = None
        else:
            out.append(line)
    return b"".join(out + (event or []))


def repeat_period(body: bytes) -> timedelta:
    """52 weeks for a calendar of about a year, else the whole weeks from its first to its last event."""
    days = [_day(m[3]) for m in map(DATED.match, body.splitlines()) if m and m[1].upper() == b"DTSTART"]
    if not days:
        return PERIOD
    span = max(days) - min(days) + timedelta(days=1)
    return PERIOD if span >= YEAR_LIKE else timedelta(weeks=-(-span.days // 7))


def _moved(event: list[bytes], window_start: date, period: timedelta) -> list[bytes]:
    start = next((m for m in map(DATED.match, event) if m and m[1].upper() == b"DTSTART"), None)
    if start is None:
        return event
    day = _day(start[3])
    periods = -((day - window_start).days // period.days)  # the k putting day + k periods in the window
    shift = period * periods
    return [_shift_line(line, shift) for line in event]


def _shift_line(line: bytes, shift: timedelta) -> bytes:
    match = DATED.match(line)
    if not match or not shift:
        return line
    moved = (_day(match[3]) + shift).strftime("%Y%m%d").encode()
    return line[: match.start(3)] + moved + line[match.end(3) :]


def _day(text: bytes) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
