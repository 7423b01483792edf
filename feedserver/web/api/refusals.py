"""The JSON API's refusals: 404 for an unknown feed, 400 naming the bad filter or paging parameter (its
valid values where there are any), never echoing the input."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response
from marshmallow import ValidationError

from ... import api_schemas as schemas
from ...filters import FilterError
from ..problems import problem
from . import filters as api_filters
from .http import CursorError, decode_cursor

PAGING_HELP = {
    "limit": f"limit must be a whole number from 1 to {schemas.MAX_LIMIT}.",
    "cursor": "cursor must be the value of a next link handed out by this server.",
    "since": "since must be an RFC 3339 date-time with seconds and a UTC offset, e.g. 2026-01-31T18:00:00Z.",
}
FEED_PAGING = schemas.FeedPagingQuerySchema()


def unknown_feed() -> Response:
    """404: no feed has this id."""
    return problem(404, "Not Found", "There is no feed with this id; /api/v1/feeds lists them all.")


def bad_filter(exc: FilterError) -> Response:
    """400 naming the filter and its valid values; an unknown parameter's name is not repeated."""
    if exc.name not in api_filters.FILTERS:  # the core's and every kind's
        return problem(
            400,
            "Bad Request",
            "Unknown query parameter; `valid` lists this feed's filters.",
            valid=list(exc.valid),
        )
    return problem(
        400,
        "Bad Request",
        f"Invalid filter parameter {exc.name!r}: {exc.problem}.",
        parameter=exc.name,
        valid=list(exc.valid),
    )


def item_paging(raw: dict[str, str]) -> tuple[dict, Response | None]:
    """limit, since and cursor loaded and checked; or a 400 naming the first bad one."""
    try:
        paging = schemas.PagingQuerySchema().load(raw)
        if "cursor" in paging:
            paging["cursor"] = decode_cursor(paging["cursor"])
    except ValidationError as exc:
        name = sorted(exc.messages)[0] if isinstance(exc.messages, dict) else "limit"
        return {}, problem(400, "Bad Request", PAGING_HELP.get(name), parameter=name)
    except CursorError:
        return {}, problem(400, "Bad Request", PAGING_HELP["cursor"], parameter="cursor")
    return paging, None


def feed_paging(args: Mapping[str, str]) -> tuple[dict, Response | None]:
    """limit and cursor of the feed list; or a 400 naming the bad one."""
    try:
        return FEED_PAGING.load({k: v for k, v in args.items() if k in ("limit", "cursor")}), None
    except ValidationError as exc:
        name = sorted(exc.messages)[0] if isinstance(exc.messages, dict) else "limit"
        detail = f"limit must be a whole number from 1 to {schemas.MAX_FEED_PAGE}."
        if name == "cursor":
            detail = "cursor must be the value of a next link handed out by this server."
        return {}, problem(400, "Bad Request", detail, parameter=name)
