"""`feedserver publish DIR`: every configured feed's stored renditions written as static files at once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .renditions import formats_of
from .runtime import Runtime
from .serving import current
from .static_files import file_name, prune, write_rendition


@dataclass
class PublishReport:
    """What one `feedserver publish` run did."""

    feeds: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    not_fetched: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One human line for the command line."""
        line = (
            f"{self.feeds} feed(s): {self.written} file(s) written, {self.unchanged} unchanged, "
            f"{self.removed} removed"
        )
        if self.not_fetched:
            line += f"; not fetched yet (skipped): {', '.join(self.not_fetched)}"
        if self.stale:
            line += f"; stale, left to the app (no files): {', '.join(self.stale)}"
        return line


def publish_all(runtime: Runtime, directory: str | os.PathLike, now: datetime | None = None) -> PublishReport:
    """Write every configured feed in every format and remove the files of feeds no longer configured."""
    now = now or datetime.now(UTC)
    report = PublishReport()
    expected: set[str] = set()
    for feed in runtime.settings.feeds.values():
        served = [current(runtime, feed, fmt, now) for fmt in formats_of(feed)]
        if any(s is None for s in served):
            report.not_fetched.append(feed.id)
            continue
        if served[0].stale_since is not None:  # left to the app, which marks its answers stale
            report.stale.append(feed.id)
            continue
        report.feeds += 1
        for item in served:
            written = write_rendition(directory, item.rendition)
            report.written += written
            report.unchanged += 2 - written
            expected.add(file_name(item.rendition))
    report.removed = prune(directory, expected)
    return report
