"""The air kind's current data in /api/v1/feeds/{id}: the latest readings with their 48-hour series."""

from __future__ import annotations

from marshmallow import Schema, fields

from feedserver.api_schemas import when


class ThresholdPairSchema(Schema):
    info = fields.Float(allow_none=True, required=True)
    alert = fields.Float(allow_none=True, required=True)


class SeriesPointSchema(Schema):
    at = fields.AwareDateTime(required=True, metadata={"description": "End of the averaging hour."})
    value = fields.Float(required=True)


class ReadingSchema(Schema):
    """The latest reading of one pollutant at one station, with the last 48 hours."""

    component = fields.String(required=True)
    station = fields.String(allow_none=True, required=True)
    station_name = fields.String(allow_none=True, required=True)
    value = fields.Float(allow_none=True, required=True)
    unit = fields.String(allow_none=True, required=True)
    measured_at = when("End of the averaging hour of `value`.")
    level = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "info or alert when a threshold is exceeded."},
    )
    stale = fields.Boolean(required=True, metadata={"description": "True when the reading is out of date."})
    thresholds = fields.Nested(ThresholdPairSchema, allow_none=True, required=True)
    series = fields.List(fields.Nested(SeriesPointSchema), required=True)


READINGS = fields.List(
    fields.Nested(ReadingSchema), metadata={"description": "Air feeds: current readings, 48-hour series."}
)
