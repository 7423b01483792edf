"""The desk's announcements as an upstream: the record of a published version, and the Item it becomes.

The desk's read-only interface (contract.DeskReader) hands the announcements source these records as its
payload (MEDIA_TYPE); the desk's crisis overlay turns the same records into the items it puts on top of other
feeds, so both show an announcement alike without the desk knowing the source or the source the desk.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .items import CHANNELS, Item, item_id, make_item

MEDIA_TYPE = "application/vnd.feedserver.desk+json"


def published_record(announcement_id: int, version) -> dict[str, Any]:
    """The JSON form of a published version (what the source's payload carries)."""
    return {
        "announcement": announcement_id,
        "version": version.number,
        "title": version.title,
        "text": version.text,
        "link": version.link,
        "starts": _iso(version.starts),
        "ends": _iso(version.ends),
        "publish_at": _iso(version.publish_at),
        "expires": _iso(version.expires),
        "approved_at": _iso(version.approved_at),
        "crisis": version.crisis,
        "channels": None if version.channels is None else list(version.channels),
    }


def announcement_item_id(home_feed_id: str, announcement_id: int) -> str:
    """The id of an announcement's Item (the same for every version: a correction replaces the item)."""
    return item_id(home_feed_id, _key(announcement_id))


def _key(announcement_id: int) -> str:
    return f"announcement:{int(announcement_id)}"


def announcement_item(home_feed_id: str, record: Mapping[str, Any]) -> Item:
    """The Item of a published version; its id depends only on the home feed and the announcement."""
    version = int(record["version"])
    channels = record.get("channels")
    published = _time(record["publish_at"])
    approved = _time(record.get("approved_at"))
    return make_item(
        home_feed_id,
        _key(record["announcement"]),
        title=str(record["title"]),
        summary=str(record.get("text") or ""),
        url=record.get("link"),
        published=published,
        updated=max(published, approved) if version > 1 and approved else None,
        starts=_time(record.get("starts")),
        ends=_time(record.get("ends")),
        category="crisis" if record.get("crisis") else None,
        data={
            "kind": "announcement",
            "announcement": int(record["announcement"]),
            "version": version,
            "sequence": version - 1,  # iCalendar SEQUENCE: calendar apps replace the event on a new version
            "expires": record.get("expires"),  # output drops the item from every view at this instant
            "crisis": bool(record.get("crisis")),
            # Only a choice made in the desk is stated: without one, every channel of the feed.
            **({CHANNELS: [str(name) for name in channels]} if channels is not None else {}),
        },
    )


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp in desk payload")
    return parsed


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
