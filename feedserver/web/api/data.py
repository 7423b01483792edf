"""The JSON API's documents: catalogue entries, health, meta, sources; plain dicts the schemas dump."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from marshmallow import missing

from ...config import FeedSettings, Settings
from ...filters import ChoiceFilter, MinimumFilter, NearFilter
from ...items import Item
from ...licences import LICENCES
from ...registry import load_source, source_kinds
from ...render import FORMATS
from ...renditions import accepted_filters, formats_of
from ...sanitize import fold
from ...store import FeedState

# A scheme starts only where a run of scheme characters starts, so each run is scanned once.
URL_QUERY = re.compile(r"((?<![\w+.-])[a-z][a-z0-9+.-]*://[^\s?#]+)[?#][^\s]*", re.IGNORECASE)
SEVERITY = {"ok": 0, "pending": 1, "stale": 2}


def health_of(state: FeedState) -> str:
    """ok, stale (the last poll failed) or pending (never fetched successfully, never failed)."""
    if state.stale_since is not None:
        return "stale"
    return "pending" if state.last_success is None else "ok"


def health(state: FeedState) -> dict:
    """A feed's polling health; error messages lose URL query strings (they may carry keys)."""
    return {
        "status": health_of(state),
        "last_success": state.last_success,
        "last_attempt": state.last_attempt,
        "last_change": state.data_changed_at,
        "stale_since": state.stale_since,
        "failures": state.failures,
        "next_attempt": state.retry_at if state.failures else None,
        "last_error": URL_QUERY.sub(r"\1?…", state.last_error) if state.last_error else None,
    }


def licence(licence_id: str | None, url: str | None = None) -> dict | None:
    """A licence id as {id, name, url}."""
    if licence_id is None:
        return None
    known = LICENCES[licence_id]
    return {"id": known.id, "name": known.name, "url": url or known.url}


def feed_meta(feed: FeedSettings, state: FeedState, at: datetime) -> dict:
    """meta for a response about one feed."""
    return {
        "generated_at": at,
        "status": health_of(state),
        "last_success": state.last_success,
        "stale_since": state.stale_since,
        "last_change": state.data_changed_at,
        "licence": licence(feed.licence, feed.licence_url),
        "attribution": feed.attribution,
    }


def server_meta(settings: Settings, states: Mapping[str, FeedState], at: datetime) -> dict:
    """meta for a response about all feeds: the oldest success, earliest failure, worst health."""
    chosen = [states.get(fid) or FeedState(id=fid) for fid in settings.feeds]
    successes = [s.last_success for s in chosen]
    changes = [s.data_changed_at for s in chosen if s.data_changed_at]
    stale = [s.stale_since for s in chosen if s.stale_since]
    worst = max((health_of(s) for s in chosen), key=SEVERITY.get, default="ok")
    return {
        "generated_at": at,
        "status": worst,
        "last_success": None if None in successes or not successes else min(successes),
        "stale_since": min(stale, default=None),
        "last_change": max(changes, default=None),
        "licence": licence(settings.server.licence),
        "attribution": settings.server.attribution,
    }


def feed_summary(base: str, feed: FeedSettings, state: FeedState, items: Sequence[Item]) -> dict:
    """A catalogue entry: what the feed is, where to get it, how to narrow it, and how it is doing."""
    return {
        "id": feed.id,
        "title": feed.title,
        "description": feed.description,
        "kind": feed.kind,
        "source": feed.source,
        "language": feed.language,
        "licence": licence(feed.licence, feed.licence_url),
        "attribution": feed.attribution,
        "every": feed.every,
        "formats": [
            {
                "format": fmt,
                "media_type": FORMATS[fmt].media_type.split(";")[0],
                "url": f"{base}/feeds/{feed.id}.{fmt}",
            }
            for fmt in formats_of(feed)
        ],
        "filters": filter_descriptions(feed, items),
        "status": health(state),
        "links": {
            "self": f"{base}/api/v1/feeds/{feed.id}",
            "items": f"{base}/api/v1/feeds/{feed.id}/items",
            "html": f"{base}/feeds/{feed.id}",
        },
    }


def filter_descriptions(feed: FeedSettings, items: Sequence[Item]) -> list[dict]:
    """The filters a feed accepts with their valid values, as feedserver.filters would list them."""
    described = []
    for name, spec in accepted_filters(feed).items():
        if isinstance(spec, MinimumFilter):
            entry = {"type": "minimum", "values": [], "minimum": 0.0, "maximum": float(spec.upper)}
        elif isinstance(spec, NearFilter):
            entry = {"type": "near", "values": [], "minimum": 0.0, "maximum": float(spec.upper)}
        else:
            entry = {"type": "choice", "values": choice_values(spec, items), "minimum": None, "maximum": None}
        described.append({"name": name, **entry})
    return described


def choice_values(spec: ChoiceFilter, items: Iterable[Item]) -> list[str]:
    """The values a choice filter accepts: those present in the items plus its canonical aliases."""
    known = {fold(v): v for item in items for v in spec.values(item) if v}
    canonical = {str(v) for v in (spec.aliases() if spec.aliases else {}).values()}
    return sorted(canonical | set(known.values()))


def source_entries() -> list[dict]:
    """Every source kind with its options, as `feedserver sources` lists them."""
    entries = []
    for name in source_kinds():
        module = load_source(name)
        entries.append(
            {
                "name": name,
                "kind": module.KIND,
                "title": module.TITLE,
                "description": (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "",
                "filters": list(getattr(module, "FILTERS", ())),
                "options": [_option(key, field) for key, field in module.OPTIONS().fields.items()],
            }
        )
    return entries


def _option(name: str, field) -> dict:
    """One option as `feedserver sources` describes it: type, required, default."""
    default = None if field.required else field.load_default
    if callable(default):
        default = default()
    return {
        "name": name,
        "type": type(field).__name__.lower(),
        "required": field.required,
        "default": _plain(default),
        "description": field.metadata.get("description", ""),
    }


def _plain(value):
    """A default value as JSON: times as 'HH:MM', unknown objects as text, missing as null."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    return None if value is missing else str(value)


def status_entries(settings: Settings, states: Mapping[str, FeedState]) -> list[dict]:
    """Per-feed health for /api/v1/status, in config order."""
    return [
        {
            "id": feed.id,
            "title": feed.title,
            "kind": feed.kind,
            **health(states.get(feed.id) or FeedState(id=feed.id)),
        }
        for feed in settings.feeds.values()
    ]
