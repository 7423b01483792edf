"""The planning view's rows: the desk's messages by day and office, from a week ago to two weeks ahead.

A message is an announcement's version with its publication time: the version online (published, or
scheduled when approved for later) and a newer one awaiting approval. Withdrawn announcements are left out:
they are nowhere any more. Pure: the announcements come from Desk.list, the offices from the config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .rules import Announcement, Version

DAYS_BACK = 7
DAYS_AHEAD = 14


@dataclass(frozen=True)
class PlanEntry:
    """One message in the plan."""

    at: datetime
    office: str
    feed_id: str
    announcement_id: int
    version: int
    title: str
    state: str  # published, scheduled (approved, not yet out) or pending (awaiting approval)
    crisis: bool


def window(now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and the last day the plan shows (local dates, both included)."""
    today = now.astimezone(zone).date()
    return today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)


def plan(
    announcements: Iterable[Announcement],
    office_of: Callable[[str], str | None],
    now: datetime,
    zone: ZoneInfo,
) -> dict[date, list[PlanEntry]]:
    """The messages of the window by local day (days in order, each day's messages by time and office)."""
    first, last = window(now, zone)
    days: dict[date, list[PlanEntry]] = {}
    for announcement in announcements:
        office = office_of(announcement.feed_id) or "–"
        for entry in _entries(announcement, office, now):
            day = entry.at.astimezone(zone).date()
            if first <= day <= last:
                days.setdefault(day, []).append(entry)
    return {day: sorted(days[day], key=lambda e: (e.at, e.office, e.announcement_id)) for day in sorted(days)}


def _entries(announcement: Announcement, office: str, now: datetime) -> list[PlanEntry]:
    if announcement.withdrawn_at is not None:
        return []
    found = []
    online = announcement.published
    if online is not None:
        found.append(
            _entry(announcement, office, online, "published" if online.publish_at <= now else "scheduled")
        )
    if not announcement.latest.approved:
        found.append(_entry(announcement, office, announcement.latest, "pending"))
    return found


def _entry(announcement: Announcement, office: str, version: Version, state: str) -> PlanEntry:
    return PlanEntry(
        at=version.publish_at,
        office=office,
        feed_id=announcement.feed_id,
        announcement_id=announcement.id,
        version=version.number,
        title=version.title,
        state=state,
        crisis=version.crisis,
    )
