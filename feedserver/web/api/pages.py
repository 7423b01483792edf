"""Keyset paging over a feed's items: newest first, ties by id, so every item is seen exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ...filters import ChoiceFilter, MinimumFilter, Selection
from ...items import Item
from ...renditions import has_expired, next_expiry
from .filters import NoItems
from .http import encode_cursor
from .store import Snapshot, after, position


@dataclass(frozen=True)
class Page:
    """One request for items: validated filters, page size, lower time bound and paging position."""

    filters: Mapping[str, str]
    selection: Selection
    limit: int
    since: datetime | None = None
    cursor: tuple[int, str] | None = None

    def query(self, cursor: str | None = None) -> list[tuple[str, str]]:
        """Canonical query parameters of this page, or of the page that starts at `cursor`."""
        pairs = sorted(self.filters.items())
        if self.since is not None:
            pairs.append(("since", self.since.isoformat()))
        pairs.append(("limit", str(self.limit)))
        if cursor is None and self.cursor is not None:
            cursor = encode_cursor(self.cursor)
        if cursor is not None:
            pairs.append(("cursor", cursor))
        return pairs


def page_of(
    snapshot: Snapshot,
    accepted: Mapping[str, ChoiceFilter | MinimumFilter | NoItems],
    page: Page,
    at: datetime,
    hidden: frozenset[str] = frozenset(),
) -> tuple[list[Item], tuple[int, str] | None, datetime | None]:
    """The page's items (without the `hidden` ones), the position the next page starts after (None on the
    last page), and until when this holds without new data (an item's expiry)."""
    start = after(snapshot, page.cursor) if page.cursor is not None else 0
    chosen: list[Item] = []
    for item in snapshot.messages[start:]:
        if page.since is not None and item.published < page.since:
            break  # newest first: everything further is older still
        if item.id in hidden or has_expired(item, at):
            continue  # hidden: a crisis notice of its home feed, on top of the first page already
        if not all(accepted[n].keep(item, v) for n, v in page.selection.criteria):
            continue
        chosen.append(item)
        if len(chosen) > page.limit:
            break
    more = len(chosen) > page.limit
    chosen = chosen[: page.limit]
    next_key = position(chosen[-1]) if more else None
    return chosen, next_key, next_expiry(list(snapshot.messages), at)
