"""Service requests (Open311 GeoReport v2): followed like a parcel, received -> in progress -> done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedserver.contract import Before, PlainKind
from feedserver.i18n import N_
from feedserver.items import FeedInfo, Item, coordinates

from .._widget import widget_parts
from .api import REQUESTS
from .timeline import chain, instant, latest, steps
from .vocabulary import DONE, FILTERS, IN_PROGRESS, RECEIVED, STAGE_WORDS


@dataclass(frozen=True)
class Requests(PlainKind):
    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """Each request keeps its earlier status items; every status change supersedes the one before."""
        return chain(before.current(), fresh)

    def current_data(self, feed, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """Each request's current status with its timeline, the latest change first."""
        found = [_request(chain_items) for chain_items in latest(items).values()]
        found.sort(key=lambda r: (-r["updated"].timestamp(), r["request_id"]))
        return {"requests": found}, None


def _request(items: list[Item]) -> dict:
    now = items[-1]
    data = now.data
    place = coordinates(now)
    return {
        "request_id": str(data["request_id"]),
        "item_id": now.id,
        "title": now.title,
        "subject": _subject(data),
        "service_code": data.get("service_code"),
        "service_name": data.get("service_name"),
        "status": data.get("status"),
        "stage": data.get("stage"),
        "status_notes": data.get("status_notes") or None,
        "agency_responsible": data.get("agency_responsible") or None,
        "requested": instant(data.get("requested")),
        "updated": now.published,
        "expected": instant(data.get("expected")),
        "address": data.get("address") or None,
        "lat": place[0] if place else None,
        "lon": place[1] if place else None,
        "media_url": data.get("media_url") or None,
        "timeline": steps(items, instant(data.get("requested"))),
    }


def _subject(data) -> str:
    """What and where, in no language: the service and the address (the number when both are missing)."""
    parts = (data.get("service_name") or data.get("service_code"), data.get("address"))
    return ", ".join(str(part) for part in parts if part) or str(data["request_id"])


# The timeline view's words; prefixed, as every kind's words share the template's `t`.
WIDGET_WORDS = {
    "req_heading": N_("Reports and their progress"),
    "req_report": N_("Report"),
    "req_timeline": N_("Progress of report"),
    "req_not_yet": N_("not yet"),
    "req_expected": N_("Expected by"),
    "req_none": N_("No reports at the moment."),
} | {f"req_{stage}": STAGE_WORDS[stage] for stage in (RECEIVED, IN_PROGRESS, DONE)}


KIND = Requests(
    "requests",
    located=True,  # its items have places: the feed is offered as GeoJSON too
    view="requests",
    filters=FILTERS,
    api_fields={"requests": REQUESTS},
    **widget_parts(__file__, WIDGET_WORDS),
    topic="requests",
    topic_name=N_("Reports"),
    category_names=STAGE_WORDS,  # an item's category is its request's stage
    empty_text=N_("no reports at the moment"),
)
