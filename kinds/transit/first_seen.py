"""First-seen times of delays: an item keeps its first publication while only the upstream clock moves."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from feedserver.items import Item

# Fields that move with every poll (the upstream's clock) without the message changing.
VOLATILE = ("header_timestamp", "header_time")


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
