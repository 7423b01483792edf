"""The transit kind's current data in /api/v1/feeds/{id}: current delays and cancellations."""

from __future__ import annotations

from marshmallow import Schema, fields

from feedserver.api_schemas import DateOrDateTime


class DelaySchema(Schema):
    """A current delay or cancellation."""

    item_id = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "delay or cancellation."})
    title = fields.String(required=True)
    line = fields.String(allow_none=True, required=True)
    stop_id = fields.String(allow_none=True, required=True)
    stop_name = fields.String(allow_none=True, required=True)
    delay_minutes = fields.Integer(allow_none=True, required=True)
    scheduled = DateOrDateTime(allow_none=True, required=True)
    trip_id = fields.String(allow_none=True, required=True)


DELAYS = fields.List(fields.Nested(DelaySchema), metadata={"description": "Transit feeds: current delays."})
