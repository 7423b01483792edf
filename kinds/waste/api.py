"""The waste kind's current data in /api/v1/feeds/{id}: the next pickup of each category."""

from __future__ import annotations

from marshmallow import Schema, fields


class PickupSchema(Schema):
    """The next collection of one waste category."""

    category = fields.String(required=True)
    label = fields.String(allow_none=True, required=True, metadata={"description": "The provider's name."})
    date = fields.Date(required=True)
    title = fields.String(required=True)
    item_id = fields.String(required=True)


NEXT_PICKUPS = fields.List(
    fields.Nested(PickupSchema), metadata={"description": "Waste feeds: next pickup per category."}
)
