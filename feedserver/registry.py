"""Source registry: a source kind is the name of a module in `sources/` that follows the source contract."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

import sources

REQUIRED = ("KIND", "TITLE", "OPTIONS", "Source")


@cache
def source_kinds() -> tuple[str, ...]:
    """Names of every module in `sources/` that follows the contract."""
    names = []
    for info in pkgutil.iter_modules(sources.__path__):
        if not info.name.startswith("_") and all(hasattr(load_source(info.name), a) for a in REQUIRED):
            names.append(info.name)
    return tuple(sorted(names))


@cache
def load_source(kind: str) -> ModuleType:
    """Import `sources.<kind>`; KeyError when no such module exists."""
    if not kind.isidentifier() or kind.startswith("_"):
        raise KeyError(kind)
    try:
        return importlib.import_module(f"sources.{kind}")
    except ModuleNotFoundError as exc:
        if exc.name == f"sources.{kind}":
            raise KeyError(kind) from exc
        raise
