"""The requests kind's current data in /api/v1/feeds/{id}: each request's status and its timeline."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .vocabulary import STAGES


class ChangeSchema(Schema):
    """One status change of a request."""

    item_id = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The item of this change; null for the request's own `requested` time."},
    )
    status = fields.String(allow_none=True, required=True)
    at = fields.AwareDateTime(required=True)
    notes = fields.String(allow_none=True, required=True)


class StepSchema(Schema):
    """One stage of the timeline (received, in progress, done), reached or not yet."""

    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    reached = fields.Boolean(required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class RequestSchema(Schema):
    """A service request as it stands now, with its timeline."""

    request_id = fields.String(required=True)
    item_id = fields.String(required=True, metadata={"description": "The item of its current status."})
    title = fields.String(required=True)
    subject = fields.String(required=True, metadata={"description": "What and where: service and address."})
    service_code = fields.String(allow_none=True, required=True)
    service_name = fields.String(allow_none=True, required=True)
    status = fields.String(allow_none=True, required=True)
    stage = fields.String(allow_none=True, required=True, validate=validate.OneOf(STAGES))
    status_notes = fields.String(allow_none=True, required=True)
    agency_responsible = fields.String(allow_none=True, required=True)
    requested = fields.AwareDateTime(allow_none=True, required=True)
    updated = fields.AwareDateTime(required=True)
    expected = fields.AwareDateTime(allow_none=True, required=True)
    address = fields.String(allow_none=True, required=True)
    lat = fields.Float(allow_none=True, required=True)
    lon = fields.Float(allow_none=True, required=True)
    media_url = fields.String(
        allow_none=True, required=True, metadata={"description": "A link the upstream gave; never fetched."}
    )
    timeline = fields.List(fields.Nested(StepSchema), required=True)


REQUESTS = fields.List(
    fields.Nested(RequestSchema),
    metadata={"description": "Request feeds: each request's current status, newest change first."},
)
