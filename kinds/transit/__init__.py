"""Transit (GTFS-RT, HAFAS): delays and cancellations that come and go each minute, and service alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedserver.contract import Before, PlainKind
from feedserver.filters import ChoiceFilter, data_choice, data_minimum, data_value
from feedserver.i18n import N_
from feedserver.items import FeedInfo, Item

from .._shapes import ALERTS_FIELD, in_force, moment
from .._widget import widget_parts
from .api import DELAYS
from .first_seen import carry_first_seen


@dataclass(frozen=True)
class Transit(PlainKind):
    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """Each delay keeps the time it was first seen."""
        return carry_first_seen(before.current(), fresh)

    def current_data(self, feed, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """Current delays and cancellations, earliest departure first, plus the service alerts in force."""
        delays = [
            {
                "item_id": item.id,
                "type": item.data.get("type"),
                "title": item.title,
                "line": item.data.get("line"),
                "stop_id": item.data.get("stop_id"),
                "stop_name": item.data.get("stop_name"),
                "delay_minutes": item.data.get("delay_minutes"),
                "scheduled": item.starts,
                "trip_id": item.data.get("trip_id"),
            }
            for item in sorted(items, key=lambda i: (moment(i.starts) or i.published, i.id))
            if item.data.get("type") in ("delay", "cancellation")
        ]
        alerts, until = in_force([i for i in items if i.data.get("type") == "alert"], at)
        return {"delays": delays, "alerts": alerts}, until


# The departure board's words; the banners of alerts in force above it say theirs.
TEXTS = {
    "delays": N_("Current delays"),
    "no_delays": N_("No delays at the moment."),
    "line": N_("Line"),
    "stop": N_("Stop"),
    "scheduled": N_("Scheduled"),
    "delay": N_("Delay"),
    "cancelled": N_("cancelled"),
    "minutes": N_("+{n} min"),
}

FILTERS = {
    # Lines and stops are open: one without delays is normal, and its subscription must not break.
    "line": data_choice("line", "route_id", open=True, help="Transit feeds: the line's name or route id."),
    "stop": data_choice("stop_id", "stop_name", open=True, help="Transit feeds: the stop's id or name."),
    "type": ChoiceFilter(data_value("type"), help="Transit feeds: delays, cancellations or service alerts."),
    "min_delay": data_minimum(
        "delay_minutes", 1440, "Transit feeds: only delays of at least this many minutes."
    ),
}
KIND = Transit(
    "transit",
    located=True,  # delays carry their stop's place (GTFS stops.txt): a .geojson map
    churning=True,
    view="delays",
    filters=FILTERS,
    api_fields={"delays": DELAYS, "alerts": ALERTS_FIELD},
    widget_height=380,
    **widget_parts(__file__, TEXTS, alert_banners=True),
    topic="transit",
    topic_name=N_("Public transport"),
    category_names={"delay": N_("Delay"), "cancellation": N_("Cancellation"), "alert": N_("Service alert")},
    empty_text=N_("no delays or disruptions now"),
)
