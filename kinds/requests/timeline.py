"""A request's status changes as a chain: each item supersedes the one before; together they are its timeline.

An upstream tells only each request's current status. The items of its earlier statuses are what the feed
said before: while the request is still upstream they stay (its history), and every status item names the
one it supersedes in `data["supersedes"]`, as CAP updates do. A request that left the upstream takes its
chain with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from feedserver.items import Item

from .vocabulary import RECEIVED, STAGES, stage_of


def request_of(item: Item) -> str | None:
    """The request number a status item belongs to (None for the service catalogue's entries)."""
    value = item.data.get("request_id")
    return None if value is None else str(value)


def chain(before: Iterable[Item], fresh: Sequence[Item]) -> list[Item]:
    """This fetch's items plus the earlier status items of the requests still upstream, each naming the
    item it supersedes."""
    fresh_ids = {item.id for item in fresh}
    alive = {request_of(item) for item in fresh} - {None}
    by_request: dict[str, dict[str, Item]] = defaultdict(dict)
    for item in before:
        number = request_of(item)
        if number in alive and item.id not in fresh_ids:
            by_request[number][item.id] = item  # an earlier status of a request still upstream
    for item in fresh:
        number = request_of(item)
        if number is not None:
            by_request[number][item.id] = item
    linked: dict[str, Item] = {}
    for items in by_request.values():
        ordered = sorted(items.values(), key=_order)
        for previous, item in zip([None, *ordered], ordered, strict=False):
            supersedes = [previous.id] if previous is not None else []
            linked[item.id] = replace(item, data={**item.data, "supersedes": supersedes})
    carried = [item for item_id, item in linked.items() if item_id not in fresh_ids]
    return [linked.get(item.id, item) for item in fresh] + carried


def _order(item: Item) -> tuple:
    return (item.published, item.id)


def latest(items: Iterable[Item]) -> dict[str, list[Item]]:
    """Each request's status items, oldest first."""
    found: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        number = request_of(item)
        if number is not None:
            found[number].append(item)
    return {number: sorted(chain_items, key=_order) for number, chain_items in found.items()}


def steps(items: Sequence[Item], requested: datetime | None = None) -> list[dict]:
    """The timeline of one request: every stage (received, in progress, done) with the status changes that
    belong to it; a stage before the current one is reached even when no change of it was seen (a report in
    progress was received, though the feed may first have seen it in progress: then dated `requested`)."""
    changes: dict[str, list[dict]] = {stage: [] for stage in STAGES}
    for item in items:
        stage = item.data.get("stage") or stage_of(item.data.get("status"))
        if stage in changes:
            changes[stage].append(_change(item))
    if not changes[RECEIVED] and requested is not None:
        changes[RECEIVED].append({"item_id": None, "status": None, "at": requested, "notes": None})
    current = items[-1].data.get("stage") if items else None
    upto = STAGES.index(current) if current in STAGES else -1
    return [
        {"stage": stage, "reached": bool(changes[stage]) or n <= upto, "changes": changes[stage]}
        for n, stage in enumerate(STAGES)
    ]


def _change(item: Item) -> dict:
    return {
        "item_id": item.id,
        "status": item.data.get("status"),
        "at": item.published,
        "notes": item.data.get("status_notes") or None,
    }


def instant(value) -> datetime | None:
    """An ISO 8601 text of the item's data as an aware datetime (None when absent or not one)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
