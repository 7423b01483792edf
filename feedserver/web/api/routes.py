"""/api/v1: the JSON API for developers; each view's YAML docstring is its part of /openapi.json."""

from __future__ import annotations

import bisect
from datetime import datetime
from functools import partial
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, request

from ... import api_schemas as schemas
from ...config import FeedSettings
from ...filters import FilterError
from ...store import FeedState
from ..common import now, runtime
from . import docs as api_docs
from . import filters as api_filters
from . import limits as api_limits
from . import webpush as api_webpush
from .crisis import Notices, notices
from .data import feed_meta, feed_summary, server_meta, source_entries, status_entries
from .http import (
    SERVER_MAX_AGE,
    add_cors,
    encode_cursor,
    feed_max_age,
    json_response,
    preflight,
)
from .kinds import has_current, kind_data
from .pages import Page, page_of
from .refusals import bad_filter, feed_paging, item_paging, unknown_feed
from .store import (
    Entries,
    Snapshots,
    cached_body,
    entries,
    fingerprint,
    snapshots,
    state_version,
    to_json,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
SUMMARY = schemas.FeedSummarySchema()  # one instance for thousands of entries (dumping keeps no state)
PAGING = ("limit", "cursor", "since")


def register(app: Flask) -> None:
    """Attach the API, its documentation and its rate limit to the app."""
    settings = runtime_of(app).settings
    app.extensions["feedserver_api"] = {
        "snapshots": Snapshots(),
        "entries": Entries(),
        "settings_version": fingerprint(settings),
    }
    app.register_blueprint(bp)
    app.register_blueprint(api_docs.bp)
    limited = [bp]
    if settings.webpush.enabled:  # "notify me" exists only where the server has its VAPID key
        app.register_blueprint(api_webpush.bp)
        limited.append(api_webpush.bp)
    api_limits.limit(app, settings, limited)


def runtime_of(app: Flask):
    return app.extensions["feedserver"]


@bp.before_request
def answer_preflight():
    """CORS preflights get their answer before any view runs."""
    if request.method == "OPTIONS":
        return preflight()
    return None


@bp.after_request
def api_headers(response: Response) -> Response:
    """CORS on every API answer; rate-limit refusals are never cached."""
    if response.status_code == 429:
        response.headers["Cache-Control"] = "no-store"
    return add_cors(response)


@bp.get("/feeds")
def list_feeds():
    """The feeds with their formats, filters and health, a page at a time.
    ---
    get:
      operationId: listFeeds
      tags: [feeds]
      summary: The catalogue of feeds
      description: The feeds in the order of their ids, a page at a time (follow `links.next` or the `Link`
        header until it is absent), each with its formats (absolute URLs), the filters it accepts with
        their valid values, its licence and its polling health. `meta` is about all feeds.
      parameters:
        - IfNoneMatch
        - in: query
          schema: feedserver.api_schemas.FeedPagingQuerySchema
      responses:
        "200":
          description: One page of the catalogue.
          headers: {Link: NextLink}
          content:
            application/json:
              schema: feedserver.api_schemas.FeedListResponseSchema
        "304": NotModified
        "400": BadRequest
        "414": UriTooLong
        "429": TooManyRequests
    """
    rt, at = runtime(), now()
    paging, refusal = feed_paging(request.args)
    if refusal is not None:
        return refusal
    states = _states()
    base, ids = _base(), sorted(rt.settings.feeds)
    start = bisect.bisect_right(ids, paging["cursor"]) if "cursor" in paging else 0
    chosen = ids[start : start + paging["limit"]]
    more = start + paging["limit"] < len(ids)

    def build(when: datetime):
        # FeedListResponseSchema, serialized entry by entry: those of unchanged feeds are kept (Entries)
        kept = entries()
        feeds = rt.settings.feeds
        parts = [kept.get(f, states[f], partial(_summary, base, feeds[f], states[f])) for f in chosen]
        links = {"self": _feeds_url(base, paging["limit"], paging.get("cursor")), "next": None}
        if more:
            links["next"] = _feeds_url(base, paging["limit"], chosen[-1])
        meta = to_json(schemas.MetaSchema().dump(server_meta(rt.settings, states, when)))
        return b'{"data":[' + b",".join(parts) + b'],"links":' + to_json(
            links
        ) + b',"meta":' + meta + b"}", None

    key = f"feeds|{paging['limit']}|{paging.get('cursor', '')}|{_all_versions(states)}"
    body = cached_body(key, build, at)
    link = f'<{_feeds_url(base, paging["limit"], chosen[-1])}>; rel="next"' if more else None
    return json_response(body, SERVER_MAX_AGE, at, link=link)


def _feeds_url(base: str, limit: int, cursor: str | None) -> str:
    query = [("limit", str(limit))] + ([("cursor", cursor)] if cursor else [])
    return f"{base}/api/v1/feeds?{urlencode(query)}"


@bp.get("/feeds/<feed_id>")
def get_feed(feed_id: str):
    """One feed with its current kind-specific data.
    ---
    get:
      operationId: getFeed
      tags: [feeds]
      summary: One feed
      description: The catalogue entry plus current data of its kind - `next_pickups` (waste feeds),
        `readings` with the 48-hour series (air), `delays` and `alerts` (transit), `alerts` in force (alerts).
      parameters: [FeedId, IfNoneMatch]
      responses:
        "200":
          description: The feed.
          content:
            application/json:
              schema: feedserver.api_schemas.FeedResponseSchema
        "304": NotModified
        "404": NotFound
        "414": UriTooLong
        "429": TooManyRequests
    """
    feed = runtime().settings.feeds.get(feed_id)
    if feed is None:
        return unknown_feed()
    at, state = now(), runtime().store.feed_state(feed.id)

    def build(when: datetime):
        items = snapshots().get(feed.id, state).items
        extra, valid_until = kind_data(feed, items, when)
        data = feed_summary(_base(), feed, state, items) | extra
        document = {"data": data, "meta": feed_meta(feed, state, when)}
        if document["meta"]["status"] == "ok" and not has_current(feed, items, when):
            data["status"]["status"] = document["meta"]["status"] = "empty"  # polled fine, nothing ahead
        return schemas.FeedResponseSchema().dump(document), valid_until

    body = cached_body(f"feed|{feed.id}|{state_version(state)}", build, at)
    return json_response(body, feed_max_age(feed.every), at, state.stale_since)


@bp.get("/feeds/<feed_id>/items")
def list_items(feed_id: str):
    """A feed's items, newest first, filtered and paged.
    ---
    get:
      operationId: listItems
      tags: [feeds]
      summary: A feed's items
      description: The feed's current messages (including scheduled reminders whose `published` lies in
        the future), newest first; items published at the same time are ordered by id. Narrow them with
        `since` and the filters (those the feed lists in `filters` are the ones of its feed URLs). Every
        kind's filters and values are accepted on every feed; one that this feed has no item for gives an
        empty page. Follow `links.next` or the `Link` header (rel="next") until it is absent to get every
        item exactly once. The query string is limited to 4096 bytes (414).
      parameters:
        - FeedId
        - IfNoneMatch
        - in: query
          schema: feedserver.api_schemas.PagingQuerySchema
        - in: query
          schema: feedserver.web.api.filters.FilterQuerySchema
      responses:
        "200":
          description: One page of items.
          headers: {Link: NextLink}
          content:
            application/json:
              schema: feedserver.api_schemas.ItemPageSchema
        "304": NotModified
        "400": BadRequest
        "404": NotFound
        "414": UriTooLong
        "429": TooManyRequests
    """
    rt = runtime()
    feed = rt.settings.feeds.get(feed_id)
    if feed is None:
        return unknown_feed()
    query = {name: ",".join(request.args.getlist(name)) for name in request.args}
    paging, refusal = item_paging({k: v for k, v in query.items() if k in PAGING})
    if refusal is not None:
        return refusal
    at, state = now(), rt.store.feed_state(feed.id)
    snapshot = snapshots().get(feed.id, state)
    filters = {k: v for k, v in query.items() if k not in PAGING}
    try:
        selection, applied = api_filters.select(feed, filters, snapshot.items)
    except FilterError as exc:
        return bad_filter(exc)
    page = Page(filters, selection, paging["limit"], paging.get("since"), paging.get("cursor"))
    on_top = notices(rt, feed.id, at)

    def build(when: datetime):
        return _items_document(feed, state, snapshot, page, applied, on_top, when)

    key = f"items|{feed.id}|{state_version(state)}|{on_top.version}|{page.query()}"
    body = cached_body(key, build, at)
    link = f'<{body.next_url}>; rel="next"' if body.next_url else None
    return json_response(body, feed_max_age(feed.every), at, state.stale_since, link)


@bp.get("/sources")
def list_sources():
    """The source kinds this server knows, with their config options.
    ---
    get:
      operationId: listSources
      tags: [sources]
      summary: Source kinds and their options
      description: What `source = "..."` in config.toml may name, the kind of feeds each makes, the
        filters its feeds accept and its options (as `feedserver sources` lists them).
      parameters: [IfNoneMatch]
      responses:
        "200":
          description: The source kinds.
          content:
            application/json:
              schema: feedserver.api_schemas.SourceListResponseSchema
        "304": NotModified
        "414": UriTooLong
        "429": TooManyRequests
    """
    return _server_document(
        "sources", schemas.SourceListResponseSchema(), lambda settings, states: source_entries()
    )


@bp.get("/status")
def get_status():
    """Polling health of every feed.
    ---
    get:
      operationId: getStatus
      tags: [status]
      summary: Health of every feed
      description: Per feed - last success, last attempt, consecutive failures, stale since and the last
        error message (URL query strings removed).
      parameters: [IfNoneMatch]
      responses:
        "200":
          description: The health of every feed.
          content:
            application/json:
              schema: feedserver.api_schemas.StatusResponseSchema
        "304": NotModified
        "414": UriTooLong
        "429": TooManyRequests
    """
    return _server_document("status", schemas.StatusResponseSchema(), status_entries)


def _server_document(name: str, schema, entries) -> Response:
    """A server-wide document: `entries(settings, states)` and the server's meta, cached per data version."""
    at, states = now(), _states()

    def build(when: datetime):
        settings = runtime().settings
        document = {"data": entries(settings, states), "meta": server_meta(settings, states, when)}
        return schema.dump(document), None

    body = cached_body(f"{name}|{_all_versions(states)}", build, at)
    return json_response(body, SERVER_MAX_AGE, at)


def _summary(base: str, feed: FeedSettings, state: FeedState) -> dict:
    """One catalogue entry, dumped by its schema."""
    items = snapshots().get(feed.id, state).items
    return SUMMARY.dump(feed_summary(base, feed, state, items))


def _feeds() -> list[FeedSettings]:
    return list(runtime().settings.feeds.values())


def _states() -> dict[str, FeedState]:
    """The state of every configured feed (an empty one for a feed never polled)."""
    known = runtime().store.feed_states()
    return {f.id: known.get(f.id) or FeedState(id=f.id) for f in _feeds()}


def _all_versions(states: dict[str, FeedState]) -> str:
    return ",".join(f"{fid}={state_version(state)}" for fid, state in sorted(states.items()))


def _base() -> str:
    return runtime().settings.server.base_url.rstrip("/")


def _items_document(feed, state, snapshot, page: Page, applied, on_top: Notices, when: datetime):
    chosen, next_key, valid_until = page_of(snapshot, applied, page, when, hidden=on_top.ids)
    base = f"{_base()}/api/v1/feeds/{feed.id}/items"
    links = {
        "self": _url(base, page.query()),
        "next": _url(base, page.query(cursor=encode_cursor(next_key))) if next_key else None,
    }
    meta = feed_meta(feed, state, when)
    document = schemas.ItemPageSchema().dump({"data": chosen, "links": links, "meta": meta})
    if page.cursor is None:  # crisis notices top the first page, as they top every feed
        document["data"] = [*_shown_since(on_top, page.since), *document["data"]]
    changes = [t for t in (valid_until, on_top.next_change) if t is not None]
    return document, min(changes, default=None)


def _shown_since(on_top: Notices, since: datetime | None) -> list[dict]:
    """The crisis notices a client polling with `since` has not seen yet (all of them without it)."""
    if since is None:
        return list(on_top.documents)
    return [d for d in on_top.documents if datetime.fromisoformat(d["updated"] or d["published"]) >= since]


def _url(base: str, query: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(query)}" if query else base
