"""Shapes several kinds share in their API data: alerts in force (and their schema), dates as instants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from marshmallow import Schema, fields

from feedserver.api_schemas import DateOrDateTime
from feedserver.items import Item


def in_force(items: Sequence[Item], at: datetime) -> tuple[list[dict], datetime | None]:
    """Alerts not yet over, newest first, and the moment the first of them ends."""
    current = [i for i in items if moment(i.ends) is None or moment(i.ends) > at]
    current.sort(key=lambda i: (-i.published.timestamp(), i.id))
    ends = [moment(i.ends) for i in current if moment(i.ends) is not None]
    return [_alert(i) for i in current], min(ends, default=None)


def _alert(item: Item) -> dict:
    data = item.data
    return {
        "item_id": item.id,
        "title": item.title,
        "severity": _text(data.get("severity")),
        "urgency": _text(data.get("urgency")),
        "certainty": _text(data.get("certainty")),
        "event": _text(data.get("event") or data.get("effect")),
        "area": item.area,
        "starts": item.starts,
        "ends": item.ends,
        "url": item.url,
        "published": item.published,
        "translations": _translations(data.get("translations")),
    }


def _translations(found) -> dict[str, dict[str, str]]:
    """The alert's texts in its other languages (a CAP alert's further info blocks), by language."""
    keys = ("title", "area", "event")
    return {
        str(lang): {key: str(texts[key]) for key in keys if texts.get(key)}
        for lang, texts in (found or {}).items()
        if isinstance(texts, dict)
    }


def _text(value) -> str | None:
    return None if value is None else str(value)


def moment(value: date | datetime | None) -> datetime | None:
    """A date or date-time as an aware instant (a date counts until its end, UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)


class AlertSchema(Schema):
    """An alert in force (not expired, not cancelled)."""

    item_id = fields.String(required=True)
    title = fields.String(required=True)
    severity = fields.String(allow_none=True, required=True)
    urgency = fields.String(allow_none=True, required=True)
    certainty = fields.String(allow_none=True, required=True)
    event = fields.String(allow_none=True, required=True)
    area = fields.String(allow_none=True, required=True)
    starts = DateOrDateTime(allow_none=True, required=True)
    ends = DateOrDateTime(allow_none=True, required=True)
    url = fields.String(allow_none=True, required=True)
    published = fields.AwareDateTime(required=True)
    translations = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        required=True,
        metadata={"description": "Title, area and event in the alert's other languages, by language."},
    )


ALERTS_FIELD = fields.List(
    fields.Nested(AlertSchema), metadata={"description": "Alert and transit feeds: alerts in force."}
)
