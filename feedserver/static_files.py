"""Static files, a channel of publication: every feed in every format as files that nginx (gzip_static)
or object storage serve.

Layout: DIR/feeds/<id>.<fmt> and DIR/feeds/<id>.<fmt>.gz, the very bytes the app serves (its stored
renditions), so the URL path is the same behind nginx as behind the app.

Validators: nginx makes Last-Modified from a file's mtime and its ETag from mtime and size
("<hex mtime>-<hex size>"), so each file's mtime is set to the app's Last-Modified: both answer with the same
Last-Modified, and If-Modified-Since works alike. The ETag differs in format from the app's (a content hash),
so a client switching between the two revalidates once. When the bytes change without a newer Last-Modified
(a config edit such as a new title) the mtime moves one second past the old one, so nginx's ETag changes too.

Every file is written to a temporary name in the same directory and moved into place with os.replace, so
readers see the old or the new file, never half of one; files whose bytes did not change are not rewritten.
"""

from __future__ import annotations

import gzip
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from .render import FORMATS
from .store import Rendition, Store

log = logging.getLogger(__name__)
FEEDS_DIR = "feeds"
FILE_MODE = 0o644  # readable by the web server's user


class StaticFiles:
    """The static-files channel (`[publish] dir` set): a feed's files follow its renditions and its health.

    Healthy: its renditions (the new ones, else the stored ones) are written at once. Stale: its files are
    removed, so nginx passes requests on to the app, whose answers say `Feedserver-Status: stale` (a file
    cannot); they come back with the first good poll."""

    def __init__(self, directory: str | os.PathLike, store: Store):
        self.directory = directory
        self.store = store

    def published(self, feed_id: str, renditions: Iterable[Rendition], now: datetime) -> None:
        """Write the new renditions (or remove the files while the feed is stale)."""
        self._follow(feed_id, renditions)

    def health_changed(self, feed_id: str) -> None:
        """Write the stored renditions, or remove the files while the feed is stale."""
        self._follow(feed_id, None)

    def _follow(self, feed_id: str, renditions: Iterable[Rendition] | None) -> None:
        try:
            if self.store.feed_state(feed_id).stale_since is not None:
                prune_feed(self.directory, feed_id)
                return
            for rendition in self.store.renditions(feed_id) if renditions is None else renditions:
                write_rendition(self.directory, rendition)
        except OSError as exc:  # a full or read-only disk must not fail the refresh; the next change retries
            log.warning("static publishing to %s failed: %s", self.directory, exc)


def prune_feed(directory: str | os.PathLike, feed_id: str) -> int:
    """Remove a feed's files (every format, with .gz siblings); how many were removed."""
    removed = 0
    for name in _names_of(feed_id):
        for path in (Path(directory) / FEEDS_DIR / name, Path(directory) / FEEDS_DIR / f"{name}.gz"):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def file_name(rendition: Rendition) -> str:
    """The file name of a rendition: <id>.<fmt>."""
    return f"{rendition.feed_id}.{rendition.format}"


def write_rendition(directory: str | os.PathLike, rendition: Rendition) -> int:
    """Write a rendition and its .gz sibling when their bytes changed; how many of the two were written."""
    target = Path(directory) / FEEDS_DIR / file_name(rendition)
    target.parent.mkdir(parents=True, exist_ok=True)
    unchanged = _same_bytes(target, rendition.body)
    mtime = _mtime_for(target, rendition.last_modified.timestamp(), unchanged)
    compressed = gzip.compress(rendition.body, compresslevel=9, mtime=0)  # mtime=0: same bytes every run
    written = _write_if_changed(target.with_name(target.name + ".gz"), compressed, mtime)
    return written + _write_if_changed(target, rendition.body, mtime, unchanged)


def prune(directory: str | os.PathLike, keep: set[str]) -> int:
    """Remove feed files (and .gz siblings) whose names are not in `keep`; other files are left alone."""
    folder = Path(directory) / FEEDS_DIR
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        name = path.name.removesuffix(".gz")
        if name.rpartition(".")[2] in FORMATS and name not in keep and path.is_file():
            path.unlink()
            removed += 1
    return removed


def _names_of(feed_id: str) -> set[str]:
    return {f"{feed_id}.{fmt}" for fmt in FORMATS}


def _mtime_for(target: Path, wanted: float, unchanged: bool) -> float:
    """The app's Last-Modified, unless the bytes changed without it moving on (then one second later)."""
    try:
        old = target.stat().st_mtime
    except FileNotFoundError:
        return wanted
    if unchanged:
        return max(old, wanted)  # never move a file's validators backwards
    return wanted if wanted > old else old + 1


def _write_if_changed(path: Path, data: bytes, mtime: float, unchanged: bool | None = None) -> int:
    if _same_bytes(path, data) if unchanged is None else unchanged:
        if path.stat().st_mtime != mtime:
            os.utime(path, (mtime, mtime))
        return 0
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, FILE_MODE)
        os.utime(temporary, (mtime, mtime))
        os.replace(temporary, path)  # atomic: readers see the old file or the new one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return 1


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False
