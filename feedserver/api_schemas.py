"""The JSON API's shapes: marshmallow schemas that serialize every response and generate /openapi.json."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from marshmallow import Schema, fields, validate

from .api_query import CURSOR_PATTERN, FullMatch, Timestamp
from .registry import all_kinds, load_kind

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
HEALTH = ("ok", "empty", "stale", "pending")


def _uri(**kwargs) -> fields.String:
    return fields.String(metadata={"format": "uri", **kwargs.pop("metadata", {})}, **kwargs)


def when(description: str, **kwargs) -> fields.AwareDateTime:
    """A date-time that may be null, always present, with its description."""
    return fields.AwareDateTime(
        allow_none=True, required=True, metadata={"description": description}, **kwargs
    )


class DateOrDateTime(fields.Field):
    """An ISO date (all-day events) or an ISO date-time with offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value.isoformat() if isinstance(value, date | datetime) else None


class LicenceSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Licence id, e.g. dl-de/by-2-0."})
    name = fields.String(required=True)
    url = _uri(required=True)


class MetaSchema(Schema):
    """The data's age and health plus licence and attribution; part of every response."""

    generated_at = fields.AwareDateTime(
        required=True, metadata={"description": "When this response body was generated."}
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(HEALTH),
        metadata={
            "description": "ok: last poll succeeded; empty (one feed's document only): the last poll "
            "succeeded but nothing is upcoming or in force (a waste calendar whose pickups are all past); "
            "stale: the last poll failed and the last good data is served; pending: not fetched "
            "successfully yet. For responses about several feeds, the worst."
        },
    )
    last_success = when("Last successful poll (for several feeds: the oldest).")
    stale_since = when("Since when polls fail (for several feeds: the earliest), else null.")
    last_change = when("When the data last changed (for several feeds: the latest).")
    licence = fields.Nested(
        LicenceSchema,
        allow_none=True,
        required=True,
        metadata={
            "description": "The data's licence (for several feeds: the server's default; see each feed)."
        },
    )
    attribution = fields.String(
        required=True, metadata={"description": "Whom to credit when using the data."}
    )


class HealthSchema(Schema):
    """One feed's polling health."""

    status = fields.String(required=True, validate=validate.OneOf(HEALTH))
    last_success = when("Last successful poll.")
    last_attempt = when("Last poll, successful or not.")
    last_change = when("When the items last changed.")
    stale_since = when("Since when polls fail; null when healthy.")
    failures = fields.Integer(required=True, metadata={"description": "Consecutive failed polls."})
    next_attempt = when("Earliest next poll while backing off after failures.")
    last_error = fields.String(
        allow_none=True, required=True, metadata={"description": "Message of the last failure, if failing."}
    )


class FormatSchema(Schema):
    format = fields.String(required=True, metadata={"description": "rss, atom, json, ics or geojson."})
    media_type = fields.String(required=True)
    url = _uri(required=True)


class FilterSchema(Schema):
    """A filter of this feed with the values it knows: its feed URLs accept these and refuse others;
    /api/v1/feeds/{id}/items accepts every kind's filters and values and keeps no item for one it lacks."""

    name = fields.String(required=True)
    type = fields.String(
        required=True,
        validate=validate.OneOf(("choice", "minimum", "near")),
        metadata={
            "description": "choice: comma-separated values from `values`; minimum: a number; near: "
            "`latitude,longitude,radius_m` with a radius up to `maximum` metres."
        },
    )
    values = fields.List(
        fields.String(), required=True, metadata={"description": "Valid values (choice filters)."}
    )
    minimum = fields.Float(allow_none=True, required=True)
    maximum = fields.Float(allow_none=True, required=True)


class FeedLinksSchema(Schema):
    self = _uri(required=True)
    items = _uri(required=True)
    html = _uri(required=True, metadata={"description": "The feed's human page."})


class FeedSummarySchema(Schema):
    """A feed as listed in the catalogue."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "waste, air, transit, alerts, ..."})
    source = fields.String(required=True, metadata={"description": "The source kind (see /api/v1/sources)."})
    language = fields.String(required=True)
    licence = fields.Nested(LicenceSchema, required=True)
    attribution = fields.String(required=True)
    every = fields.Integer(required=True, metadata={"description": "Polling interval in seconds."})
    formats = fields.List(fields.Nested(FormatSchema), required=True)
    filters = fields.List(fields.Nested(FilterSchema), required=True)
    status = fields.Nested(HealthSchema, required=True)
    links = fields.Nested(FeedLinksSchema, required=True)


class ItemSchema(Schema):
    """One message of a feed."""

    id = fields.String(required=True, metadata={"description": "Stable id (a UUID)."})
    title = fields.String(required=True, metadata={"description": "The SMS line."})
    summary = fields.String(required=True)
    url = fields.String(allow_none=True, required=True)
    category = fields.String(allow_none=True, required=True)
    area = fields.String(allow_none=True, required=True)
    published = fields.AwareDateTime(
        required=True, metadata={"description": "Publication time; in the future for scheduled reminders."}
    )
    updated = fields.AwareDateTime(allow_none=True, required=True)
    starts = DateOrDateTime(
        allow_none=True, required=True, metadata={"description": "The event itself: a date or a date-time."}
    )
    ends = DateOrDateTime(allow_none=True, required=True)
    all_day = fields.Boolean(required=True)
    data = fields.Dict(
        required=True, metadata={"description": "Kind-specific values (colour, value, delay...)."}
    )
    crisis = fields.Boolean(
        metadata={
            "description": "Present, and true, on the editorial desk's crisis notices: they come first on "
            "the first page (beyond `limit`), whatever the filters, as they top every feed and widget."
        }
    )


def feed_detail_schema() -> Schema:
    """A feed with its kind-specific current data (only the fields of its kind are present)."""
    return _feed_detail(tuple(kind.name for kind in all_kinds()))()


@cache
def _feed_detail(names: tuple[str, ...]) -> type[Schema]:
    """FeedSummary with every kind's current-data fields (Kind.api_fields); the first of a name wins."""
    kind_fields: dict[str, fields.Field] = {}
    for name in names:
        for key, field in load_kind(name).api_fields.items():
            kind_fields.setdefault(key, field)
    return FeedSummarySchema.from_dict(kind_fields, name="FeedDetailSchema")


class PageLinksSchema(Schema):
    self = _uri(required=True)
    next = _uri(allow_none=True, required=True, metadata={"description": "The next page, also in `Link`."})


class OptionSchema(Schema):
    """One config.toml option of a source kind."""

    name = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    default = fields.Raw(allow_none=True, required=True)
    description = fields.String(required=True)


class SourceSchema(Schema):
    name = fields.String(required=True, metadata={"description": "The value of `source` in config.toml."})
    kind = fields.String(required=True, metadata={"description": "The kind of the feeds it makes."})
    title = fields.String(required=True)
    description = fields.String(required=True)
    filters = fields.List(fields.String(), required=True)
    options = fields.List(fields.Nested(OptionSchema), required=True)


class FeedStatusSchema(HealthSchema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)


class FeedListResponseSchema(Schema):
    data = fields.List(fields.Nested(FeedSummarySchema), required=True)
    links = fields.Nested(PageLinksSchema, required=True)
    meta = fields.Nested(MetaSchema, required=True)


FEED_PAGE, MAX_FEED_PAGE = 100, 1000


def page_size(what: str, default: int, maximum: int) -> fields.Integer:
    """The `limit` parameter of a paged list."""
    description = f"{what} per page (default {default}, at most {maximum})."
    return fields.Integer(
        load_default=default, validate=validate.Range(1, maximum), metadata={"description": description}
    )


class FeedPagingQuerySchema(Schema):
    """The paging parameters of /api/v1/feeds: feeds in the order of their ids."""

    limit = page_size("Feeds", FEED_PAGE, MAX_FEED_PAGE)
    cursor = fields.String(
        validate=FullMatch(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"),
        metadata={
            "description": "The position from a `next` link: the page starts after this feed id (any id "
            "of this form is a position in the order of ids, whether or not such a feed exists)."
        },
    )


class FeedResponseSchema(Schema):
    data = fields.Nested(feed_detail_schema, required=True)
    meta = fields.Nested(MetaSchema, required=True)


class ItemPageSchema(Schema):
    data = fields.List(fields.Nested(ItemSchema), required=True)
    meta = fields.Nested(MetaSchema, required=True)
    links = fields.Nested(PageLinksSchema, required=True)


class SourceListResponseSchema(Schema):
    data = fields.List(fields.Nested(SourceSchema), required=True)
    meta = fields.Nested(MetaSchema, required=True)


class StatusResponseSchema(Schema):
    data = fields.List(fields.Nested(FeedStatusSchema), required=True)
    meta = fields.Nested(MetaSchema, required=True)


class StatsQuerySchema(Schema):
    days = fields.Integer(
        validate=validate.Range(1, 366), metadata={"description": "How many days back, today included (30)."}
    )


class FormatCountsSchema(Schema):
    requests = fields.Integer(required=True, metadata={"description": "Requests answered (200 or 304)."})
    not_modified = fields.Integer(required=True, metadata={"description": "Of those, 304 revalidations."})
    websub_subscribers = fields.Integer(required=True, metadata={"description": "Current subscriptions."})


class StatsDaySchema(Schema):
    day = fields.String(required=True, metadata={"format": "date"})
    format = fields.String(
        required=True, metadata={"description": "rss, atom, json, ics, geojson or activitypub."}
    )
    requests = fields.Integer(required=True)
    not_modified = fields.Integer(required=True)
    subscribers = fields.Integer(
        required=True, allow_none=True, metadata={"description": "WebSub subscribers or AP followers."}
    )


class FeedStatsSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    formats = fields.Dict(keys=fields.String(), values=fields.Nested(FormatCountsSchema), required=True)
    activitypub_followers = fields.Integer(metadata={"description": "Absent when ActivityPub is off."})
    days = fields.List(fields.Nested(StatsDaySchema), required=True)


class StatsResponseSchema(Schema):
    """Counts only: no address, user agent or other detail of a reader is stored."""

    from_ = fields.String(required=True, data_key="from", metadata={"format": "date"})
    to = fields.String(required=True, metadata={"format": "date"})
    feeds = fields.List(fields.Nested(FeedStatsSchema), required=True)
    privacy = fields.String(required=True)


class ProblemSchema(Schema):
    """An error (RFC 9457); never repeats the request."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    parameter = fields.String(metadata={"description": "The query parameter that is wrong."})
    valid = fields.List(fields.String(), metadata={"description": "The values it accepts."})


class PagingQuerySchema(Schema):
    """The paging parameters of /api/v1/feeds/{id}/items."""

    limit = page_size("Items", DEFAULT_LIMIT, MAX_LIMIT)
    cursor = fields.String(
        validate=FullMatch(CURSOR_PATTERN),
        metadata={
            "description": "Opaque position from a `next` link; keep the other parameters. Any value of "
            "this form is a position in the newest-first order (the page starts after it), however old."
        },
    )
    since = Timestamp(
        metadata={"description": "Only items published at or after this time (RFC 3339, with offset)."}
    )
