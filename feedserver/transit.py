"""The transit vocabulary: the SMS lines for delays and cancellations, shared by all transit sources."""

from __future__ import annotations

from datetime import datetime, timedelta

WORDS = {
    "de": {"line": "Linie", "trip": "Fahrt", "from": "ab", "cancelled": "fällt aus"},
    "en": {"line": "Line", "trip": "Trip", "from": "from", "cancelled": "cancelled"},
}


def line_label(line: str | None, language: str, trip_id: str | None = None) -> str:
    """'Linie 5' for a bare line name, 'IC 2315' as it is, 'Fahrt 1234' when the line is unknown."""
    words = WORDS.get(language, WORDS["en"])
    if not line:
        return f"{words['trip']} {trip_id}" if trip_id else words["trip"]
    return f"{words['line']} {line}" if not any(c.isspace() for c in line) else line


def _head_and_place(language, line, direction, stop, at, trip_id) -> tuple[str, str]:
    head = line_label(line, language, trip_id) + (f" → {direction}" if direction else "")
    words = WORDS.get(language, WORDS["en"])
    place = f" {words['from']} {stop}" if stop else ""
    return head, place + (f" {at:%H:%M}" if at else "")


def delay_title(language, line, direction, minutes, stop, at: datetime | None, trip_id=None) -> str:
    """The SMS line of a delay: 'Linie 5 → Hbf: +12 min ab Rathaus 14:32'."""
    head, place = _head_and_place(language, line, direction, stop, at, trip_id)
    return f"{head}: +{minutes} min{place}"


def cancel_title(language, line, direction, stop, at: datetime | None, trip_id=None) -> str:
    """The SMS line of a cancellation: 'Linie 5 → Hbf: fällt aus ab Rathaus 14:32'."""
    head, place = _head_and_place(language, line, direction, stop, at, trip_id)
    return f"{head}: {WORDS.get(language, WORDS['en'])['cancelled']}{place}"


HISTORY_KEPT = timedelta(hours=3)  # a passed trip's delay stays in the feeds this long
