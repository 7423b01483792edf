"""refresh(feed): fetch -> parse -> normalize -> kind.reconcile -> guard -> store -> publication."""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from . import metrics
from .budget import parse_budget, spend
from .errors import NotModified, StorageError, UpstreamError
from .fetch import Http
from .guard import check_deletions, guarded
from .items import MAX_FIELD, MAX_SUMMARY, MAX_TITLE, RAW_FACTOR, Item
from .output import forget, publish
from .registry import load_kind
from .runtime import Runtime
from .sanitize import plain_text, quote_unsafe
from .store import Changes
from .store_health import as_storage_error

log = logging.getLogger(__name__)

MAX_ITEMS_PER_FETCH = 5000
MAX_BACKOFF = timedelta(days=1)
SAFE_SCHEMES = ("http", "https", "mailto", "tel")
# Characters XML 1.0 forbids (C0 controls but tab, LF, CR), and lone surrogates.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class RefreshResult:
    """The outcome of one refresh, for the CLI's one line per feed and for logs."""

    feed_id: str
    ok: bool
    changes: Changes = Changes()
    error: str | None = None
    skipped: bool = False
    not_modified: bool = False

    def line(self) -> str:
        """One human line: 'waste-x: ok, 3 new, 1 changed, 0 gone'."""
        if self.skipped:
            return f"{self.feed_id}: skipped (backing off after failures)"
        if not self.ok:
            return f"{self.feed_id}: FAILED: {self.error}"
        if self.not_modified:
            return f"{self.feed_id}: ok, not modified upstream"
        c = self.changes
        line = f"{self.feed_id}: ok, {c.added} new, {c.updated} changed, {c.removed} gone"
        return f"{line}; {self.error}" if self.error else line


def refresh(
    runtime: Runtime,
    feed_id: str,
    now: datetime | None = None,
    respect_backoff: bool = True,
    accept_deletions: bool = False,
) -> RefreshResult:
    """Poll one feed's upstream and publish changes; on failure keep the last good items, marked stale.

    A fetch that would drop most of the feed's items is held as a failure unless accept_deletions.
    """
    feed = runtime.feed(feed_id)
    now = now or datetime.now(UTC)
    state = runtime.store.feed_state(feed.id)
    if respect_backoff and state.retry_at and now < state.retry_at:
        return RefreshResult(feed.id, ok=False, skipped=True, error=state.last_error)
    started = time.perf_counter()
    try:
        result = _refresh(runtime, feed, state, now, accept_deletions)
    except Exception as exc:  # noqa: BLE001 - the one broad except: record, keep serving, never crash
        result = _failed(runtime, feed, state, exc, now)
    seconds = time.perf_counter() - started
    metrics.observe_poll(feed.kind, seconds, result.ok, result.skipped, result.not_modified)
    return result


def _refresh(runtime: Runtime, feed, state, now: datetime, accept_deletions: bool) -> RefreshResult:
    """fetch -> parse -> normalize -> reconcile -> guard -> store -> publish; raises on any failure."""
    store = runtime.store
    store.record_attempt(feed.id, feed.source, now)
    http = Http(runtime.settings.fetch, state.validators)
    source = feed.make_source()
    try:
        # A source whose upstream is the desk (announcements) reads it through a read-only interface.
        payload = source.fetch(runtime.desk if getattr(source, "reads", "http") == "desk" else http)
    except NotModified:
        store.record_unchanged(feed.id, now)
        _publish_if_needed(runtime, feed, now, Changes(), state)
        return RefreshResult(feed.id, ok=True, not_modified=True)
    markup = not getattr(source, "text_is_plain", False)  # the desk's text is plain text as typed
    with parse_budget(runtime.settings.fetch.parse_budget):
        parsed = normalize(source.parse(payload), reduce_markup=markup)
    items = _reconcile(feed, store, parsed, now)
    if not accept_deletions and guarded(feed.source):
        check_deletions(feed.id, store.current_items(feed.id), items, runtime.settings.fetch, now)
    changes = store.apply_items(feed.id, items, http.validators_in_use(), now)
    too_old = _old_data(feed, source, payload)
    if too_old:
        store.record_stale_data(feed.id, too_old, state.stale_since or now)
    _publish_if_needed(runtime, feed, now, changes, state, stale=bool(too_old))
    return RefreshResult(feed.id, ok=True, changes=changes, error=too_old)


def _failed(runtime: Runtime, feed, state, exc: Exception, now: datetime) -> RefreshResult:
    """Record the failure on the feed (kept in memory when the database refuses even that), log one line."""
    exc = as_storage_error(exc)  # also a write outside the store's own transactions (the push outbox)
    message = _describe(exc)
    # A traceback only for what may be a bug: not for upstream answers, nor for a full or read-only disk.
    expected = isinstance(exc, UpstreamError | StorageError)
    log.warning("refresh of %s failed: %s", feed.id, message, exc_info=not expected)
    retry_at = _retry_at(feed.every, state.failures + 1, exc, now)
    failed = runtime.store.record_failure(feed.id, message, now, retry_at, feed.source)
    if state.stale_since is None:
        forget(runtime, feed.id)  # health changed: cached entries carry it
    return RefreshResult(feed.id, ok=False, error=f"{message} (failure {failed.failures})")


def _reconcile(feed, store, items: list[Item], now: datetime) -> list[Item]:
    """Join this fetch with what the feed already said, as its kind does (moved pickups, episodes ...)."""
    return load_kind(feed.kind).reconcile(feed.info, _Before(store, feed.id), items, now)


@dataclass(frozen=True)
class _Before:
    """The feed's stored items, read only when its kind asks (contract.Before)."""

    store: object
    feed_id: str

    def current(self) -> list[Item]:
        return self.store.current_items(self.feed_id)

    def since(self, moment: datetime) -> list[Item]:
        return self.store.history(self.feed_id, moment)


def _old_data(feed, source, payload) -> str | None:
    """Why an answer counts as stale although it came (the upstream's own clock lags too far), or None."""
    data_age = getattr(source, "data_age", None)
    age = data_age(payload) if data_age else None
    allowed = feed.every + getattr(source, "stale_after", 0)
    if age is None or age <= allowed:
        return None
    return f"upstream data is {int(age)} s old (more than {allowed} s): shown, but marked stale"


def _publish_if_needed(runtime, feed, now, changes: Changes, before, stale: bool = False) -> None:
    """Render only when the data changed, or when nothing was rendered yet, or health changed."""
    if changes.any or _renditions_behind(runtime.store.rendition(feed.id, "atom"), before):
        publish(runtime, feed, now)
    else:
        # Health may have changed (stale), or another process (`feedserver fetch --accept-deletions` next
        # to `serve`) stored and rendered this data: drop this process's cached bytes, re-read from the store.
        forget(runtime, feed.id)


def _renditions_behind(rendition, state) -> bool:
    """True when nothing was rendered yet, or a process died after storing items but before rendering."""
    if rendition is None:
        return True
    changed = state.data_changed_at
    return changed is not None and rendition.last_modified < changed.replace(microsecond=0)


def normalize(items: list[Item], reduce_markup: bool = True) -> list[Item]:
    """Make source output safe to store and render: clean text, bounded sizes, safe links, unique ids.

    Titles and summaries that may hold HTML are reduced to their text; `reduce_markup=False` keeps text that
    is plain already (staff text: a "<" in it is a less-than sign, and every renderer escapes it)."""
    seen: set[str] = set()
    clean = []
    for item in items[:MAX_ITEMS_PER_FETCH]:
        spend()
        if item.id in seen:
            continue
        seen.add(item.id)
        clean.append(
            replace(
                item,
                title=_text(item.title, MAX_TITLE, reduce_markup) or "—",
                summary=_text(item.summary, MAX_SUMMARY, reduce_markup),
                url=safe_url(item.url),
                area=_text(item.area, MAX_FIELD) if item.area else None,
                category=_text(str(item.category), 64) if item.category is not None else None,
                data={k: _value(v) for k, v in item.data.items()},
            )
        )
    return clean


def _text(value: str | None, limit: int, reduce_markup: bool = True) -> str:
    # cut before any pattern reads it: the work on a hostile field is bounded by its limit, not its size
    text = FORBIDDEN.sub("", (value or "")[: limit * RAW_FACTOR])
    text = (plain_text(text) if reduce_markup else text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _value(value):
    if isinstance(value, str):
        return _text(value, MAX_SUMMARY)
    if isinstance(value, list | tuple):
        return [_value(v) for v in value[:MAX_ITEMS_PER_FETCH]]
    if isinstance(value, dict):
        return {str(k)[:100]: _value(v) for k, v in list(value.items())[:200]}
    return value


def safe_url(url: str | None) -> str | None:
    """Keep only http(s), mailto and tel links; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    url = FORBIDDEN.sub("", url).strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SAFE_SCHEMES or len(url) > 2000 or any(c.isspace() for c in url):
        return None
    return quote_unsafe(url)


def _retry_at(every: int, failures: int, exc: Exception, now: datetime) -> datetime:
    """Exponential backoff with jitter, capped at a day, never giving up; Retry-After wins when longer."""
    backoff = min(timedelta(seconds=every * 2 ** min(failures - 1, 20)), MAX_BACKOFF)
    backoff = backoff * random.uniform(0.8, 1.0) if failures > 1 else timedelta(0)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        backoff = max(backoff, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
    return now + backoff


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    return f"{name}: {exc}"[:1000] if str(exc) else name
