"""Alerts (CAP, NINA): warnings that start, are updated and end; the API lists those in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedserver.contract import PlainKind
from feedserver.i18n import N_
from feedserver.items import Item

from .._shapes import ALERTS_FIELD, in_force
from .._widget import widget_parts


@dataclass(frozen=True)
class Alerts(PlainKind):
    def current_data(self, feed, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """Alerts in force: not expired and not an all-clear, newest first."""
        warnings = [i for i in items if str(i.data.get("msg_type") or "alert").lower() != "cancel"]
        found, until = in_force(warnings, at)
        return {"alerts": found}, until


# CAP severities (the item category).
SEVERITIES = {
    "extreme": N_("extreme"),
    "severe": N_("severe"),
    "moderate": N_("moderate"),
    "minor": N_("minor"),
    "unknown": N_("unknown"),
}
KIND = Alerts(
    "alerts",
    churning=True,
    view="alerts",
    api_fields={"alerts": ALERTS_FIELD},
    **widget_parts(__file__, {}, alert_banners=True),
    topic="warnings",
    topic_name=N_("Warnings"),
    category_names=SEVERITIES,
    empty_text=N_("no warnings in force"),
)
