"""Plugins: the sources and kinds this server knows, found through entry points as pytest finds its plugins.

A source is a module (`KIND`, `TITLE`, `OPTIONS`, `Source`), named in the entry-point group
`feedserver.sources`; a kind is an object (see `contract.Kind`) named in `feedserver.kinds`. A city's adapter
package declares its own in its pyproject (`[project.entry-points."feedserver.sources"]`) and is found once
installed. The server's own plugins are listed here as entry-point text too (pytest's default plugins), so a
checkout works without reinstalling and the core never imports a kind by name.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

SOURCES = "feedserver.sources"
KINDS = "feedserver.kinds"
REQUIRED = ("KIND", "TITLE", "OPTIONS", "Source")

# Kept equal to pyproject.toml's [project.entry-points] tables by tests/test_plugin_kind.py.
BUILTIN = {
    SOURCES: {
        name: f"sources.{name}"
        for name in (
            "abfallnavi announcements cap csv gtfs_rt hafas ics jumomind nina open311 openaq uba_air".split()
        )
    },
    # In the order their API fields and widget words are listed (installed kinds follow).
    KINDS: {name: f"kinds.{name}:KIND" for name in "waste air transit alerts announcements requests".split()},
}


class PluginError(Exception):
    """Two plugins claim the same name, or a plugin is not what its group promises."""


@cache
def _entries(group: str) -> dict[str, EntryPoint]:
    """The group's entry points by name: the built-in ones, then those of installed distributions."""
    found = {name: EntryPoint(name, value, group) for name, value in BUILTIN[group].items()}
    for entry in entry_points(group=group):
        known = found.setdefault(entry.name, entry)
        if known.value != entry.value:
            raise PluginError(f"{group} {entry.name!r} is claimed by {known.value} and by {entry.value}")
    return found


@cache
def source_kinds() -> tuple[str, ...]:
    """Names of every registered source that follows the contract."""
    names = (name for name in _entries(SOURCES) if not name.startswith("_"))
    return tuple(sorted(name for name in names if all(hasattr(load_source(name), a) for a in REQUIRED)))


@cache
def load_source(name: str) -> ModuleType:
    """The source module registered under `name`; KeyError when there is none."""
    if not isinstance(name, str) or name.startswith("_") or name not in _entries(SOURCES):
        raise KeyError(name)
    return _entries(SOURCES)[name].load()


@cache
def kind_names() -> tuple[str, ...]:
    """Names of every registered kind."""
    return tuple(sorted(_entries(KINDS)))


@cache
def load_kind(name: str):
    """The kind object registered under `name` (a `contract.Kind`); KeyError when there is none."""
    if not isinstance(name, str) or name not in _entries(KINDS):
        raise KeyError(name)
    kind = _entries(KINDS)[name].load()
    if getattr(kind, "name", None) != name:
        raise PluginError(f"the kind registered as {name!r} calls itself {getattr(kind, 'name', None)!r}")
    return kind


def all_kinds() -> list:
    """Every registered kind object: the built-in ones in their order, then the installed ones."""
    return [load_kind(name) for name in _entries(KINDS)]


def clear_caches() -> None:
    """Forget what was found (tests that install or remove a plugin)."""
    for function in (_entries, source_kinds, load_source, kind_names, load_kind):
        function.cache_clear()
