"""Waste collection: dated pickups per category; moved pickups are announced, the calendar's UIDs kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feedserver.contract import Before, PlainKind
from feedserver.filters import ChoiceFilter
from feedserver.i18n import N_
from feedserver.items import NOTICE, READING, FeedInfo, Item

from .._widget import widget_parts
from .api import NEXT_PICKUPS
from .moves import reconcile_moves
from .vocabulary import CATEGORY_NAMES, category_aliases
from .widget import CATEGORY_LABELS, TEXTS, widget_context

NOT_PICKUPS = (READING, NOTICE)


@dataclass(frozen=True)
class Waste(PlainKind):
    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """A pickup that moved keeps its identity and gets a notice saying so."""
        return reconcile_moves(feed, before.current(), fresh, now)

    def current_data(self, feed, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """The next collection day per waste category, from today (local time) on; true until midnight."""
        zone = ZoneInfo(feed.timezone)
        today = at.astimezone(zone).date()
        upcoming = sorted(
            (_local_day(item.starts, zone), item.id, item)
            for item in items
            if item.starts is not None
            and item.category is not None
            and item.data.get("kind") not in NOT_PICKUPS
        )
        first: dict[str, tuple[date, Item]] = {}
        for day, _, item in upcoming:
            if day >= today:
                first.setdefault(item.category, (day, item))
        pickups = [
            {
                "category": category,
                "label": item.data.get("label"),
                "date": day,
                "title": item.title,
                "item_id": item.id,
            }
            for category, (day, item) in sorted(first.items(), key=lambda pair: (pair[1][0], pair[0]))
        ]
        midnight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return {"next_pickups": pickups}, midnight

    def widget_context(self, data: Mapping, lang: str, zone: ZoneInfo) -> dict:
        """The category chips' names and colours."""
        return widget_context(data, lang, zone)


def _local_day(value: date | datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


# ?category= also takes the vocabulary's names in German and English (Bio, Papier, paper ...).
CATEGORY = ChoiceFilter(lambda i: (i.category,), aliases=category_aliases)
# The categories' names on the pages, in the page's language (Restmüll, Residual waste).
NAMES = {str(category): name for category, name in CATEGORY_NAMES.items()}
KIND = Waste(
    "waste",
    dated=True,
    view="pickups",
    filters={"category": CATEGORY},
    api_fields={"next_pickups": NEXT_PICKUPS},
    widget_options={"ahead": True},  # reminders are published the evening before: the API lists them first
    **widget_parts(__file__, TEXTS, categories=CATEGORY_LABELS),
    topic="waste",
    topic_name=N_("Waste"),
    category_names=NAMES,
    empty_text=N_("no upcoming dates"),
)
