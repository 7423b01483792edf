"""widget.css as it is, and /widget.js: the core's script with every kind's words, view data and script parts.

static/widget.js leaves room for them: `/*WORDS*/{}/*END*/` (the core's and the kinds' words, as the iframe
page says them, and the German names of zones), `/*KINDS*/{}/*END*/` (each kind's view, the fields of its API
data and its widget_options) and the line `/*PARTS*/` (each kind's view functions; equal parts of several
kinds go in once).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from ...display import GERMAN_ZONES, WEEKDAYS
from ...i18n import LANGUAGES, say
from ...registry import all_kinds
from .text import words

PARTS = "  /*PARTS*/\n"


@dataclass(frozen=True)
class Asset:
    """A static file served with a strong ETag from its content."""

    body: bytes
    etag: str
    media_type: str


def _asset(body: bytes, media_type: str) -> Asset:
    return Asset(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', media_type)


@cache
def asset(name: str) -> Asset:
    """static/<name> read once per process."""
    body = files("feedserver").joinpath("static", name).read_bytes()
    media = "text/javascript; charset=utf-8" if name.endswith(".js") else "text/css; charset=utf-8"
    return _asset(body, media)


def widget_script() -> Asset:
    """/widget.js for the kinds registered now."""
    return _script(tuple(kind.name for kind in all_kinds()))


@cache
def _script(names: tuple[str, ...]) -> Asset:
    return _asset(assemble(all_kinds()).encode("utf-8"), "text/javascript; charset=utf-8")


def assemble(kinds: Sequence) -> str:
    """The script with the words, view data and parts of `kinds` put in."""
    skeleton = files("feedserver").joinpath("static", "widget.js").read_text(encoding="utf-8")
    text = {"text": {lang: words(lang, kinds) for lang in LANGUAGES}, "zones": GERMAN_ZONES, "days": _days()}
    views = {k.name: {"view": k.view, "fields": list(k.api_fields), **k.widget_options} for k in kinds}
    parts = "".join(dict.fromkeys(part for kind in kinds for part in kind.widget_script))
    return (
        skeleton.replace("/*WORDS*/{}/*END*/", f"/*WORDS*/{_json(text)}/*END*/", 1)
        .replace("/*KINDS*/{}/*END*/", f"/*KINDS*/{_json(views)}/*END*/", 1)
        .replace(PARTS, parts, 1)
    )


def _days() -> dict[str, list[str]]:
    """The weekdays' short names by language, Sunday first as JavaScript counts them."""
    sunday_first = (WEEKDAYS[-1], *WEEKDAYS[:-1])
    return {lang: [say(lang, day) for day in sunday_first] for lang in LANGUAGES}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
