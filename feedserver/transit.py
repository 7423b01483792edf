"""The transit vocabulary: the SMS lines for delays and cancellations, shared by all transit sources."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from .items import Item

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


# Fields that move with every poll (the upstream's clock) without the message changing.
VOLATILE = ("header_timestamp", "header_time")
HISTORY_KEPT = timedelta(hours=3)  # a passed trip's delay stays in the feeds this long


def carry_first_seen(previous: Iterable[Item], items: Iterable[Item]) -> list[Item]:
    """Keep each delay's first-seen time as `published`; an unchanged item keeps its old version entirely.

    Transit upstreams stamp every answer with their clock, so without this every poll would rewrite every
    item and move it to the top of readers' lists although only the delay itself is news.
    """
    before = {item.id: item for item in previous}
    return [_carried(item, before.get(item.id)) for item in items]


def _carried(item: Item, old: Item | None) -> Item:
    if old is None:
        return item
    if _content(item) == _content(old):
        return old
    return replace(item, published=old.published)


def _content(item: Item) -> tuple:
    data = {k: v for k, v in item.data.items() if k not in VOLATILE}
    data_text = json.dumps(data, sort_keys=True, default=str)  # as the store keeps it: lists, not tuples
    return item.title, item.summary, item.url, item.category, item.area, item.starts, item.ends, data_text
