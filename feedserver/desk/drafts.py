"""The Item a draft would become once approved: what the desk's preview shows on every channel.

It is made the way the announcements source and the crisis overlay make theirs (the published record, the
announcement's Item, normalize), so a preview shows exactly the text the feeds and the channels will carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..items import Item
from ..notices import announcement_item, published_record
from ..pipeline import normalize
from .rules import EDITABLE, Version

UNSAVED = 0  # the announcement number of a draft not saved yet (its item id differs, its length does not)


def draft_item(feed_id: str, announcement_id: int, number: int, content: Mapping[str, Any], now) -> Item:
    """The Item version `number` with this content (checked by Desk.check) becomes once approved."""
    version = Version(
        number=number,
        author_id=0,
        author="",
        created_at=now,
        **{name: content.get(name) for name in EDITABLE},
    )
    return normalize([announcement_item(feed_id, published_record(announcement_id, version))])[0]
