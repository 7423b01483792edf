"""Typed errors shared by config, fetching, sources and the pipeline."""

from __future__ import annotations


class FeedserverError(Exception):
    """Base class: every error the pipeline knows how to record on a feed."""


class ConfigError(FeedserverError):
    """A config file problem, always naming the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


class UpstreamError(FeedserverError):
    """The upstream could not be fetched (network, HTTP status, limits, content type)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class NotModified(FeedserverError):  # noqa: N818 - a signal, not a failure
    """The upstream answered 304: nothing changed since the last fetch."""


class StorageError(FeedserverError):
    """The database could not be written (disk full, read-only, locked for too long)."""


class ParseError(FeedserverError):
    """The upstream answered, but not with the shape this source expects."""


class OptionError(FeedserverError):
    """A source option names something the upstream does not have (e.g. a street)."""

    def __init__(self, option: str, value: str, suggestions: list[str] | tuple[str, ...] = ()):
        self.option, self.value, self.suggestions = option, value, list(suggestions)
        hint = f"; did you mean: {', '.join(self.suggestions)}" if self.suggestions else ""
        super().__init__(f"{option} {value!r} not found upstream{hint}")
