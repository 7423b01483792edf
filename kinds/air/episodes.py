"""Air episodes: a threshold crossing announced once, not again each time the 48-hour window slides."""

from __future__ import annotations

from collections.abc import Iterable

from feedserver.items import Item


def continue_episodes(history: Iterable[Item], items: list[Item]) -> list[Item]:
    """Drop window-opening threshold items that only repeat an episode already announced.

    A series starts above a threshold either because the episode began inside the 48-hour window (then the
    opening item is new) or because the window slid past the episode's start. In the second case the feed's
    history holds an earlier item of the same station, component and level with no all-clear after it.
    """
    announced: dict[tuple, list[Item]] = {}
    for old in history:
        if old.data.get("kind") == "threshold":
            announced.setdefault(_episode_key(old), []).append(old)
    known_ids = {old.id for olds in announced.values() for old in olds}
    return [item for item in items if not _repeats(item, announced.get(_episode_key(item), []), known_ids)]


def _episode_key(item: Item) -> tuple:
    return item.data.get("station"), item.data.get("component")


def _repeats(item: Item, earlier: list[Item], known_ids: set[str]) -> bool:
    if not item.data.get("opening") or item.id in known_ids or item.starts is None:
        return False
    before = [old for old in earlier if old.starts is not None and old.starts < item.starts]
    if not before:
        return False
    last = max(before, key=lambda old: old.starts)
    return last.data.get("level") == item.data.get("level")
