"""[feeds.ID]: one feed's common keys (source, title, licence, place, office, channels ...) and its
source's options, validated into FeedSettings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from ..errors import ConfigError
from ..fields import Interval, Url
from ..items import FeedInfo
from ..licences import LICENCES
from ..registry import kind_names, load_source, source_kinds
from .channels import CHANNEL_NAME, query_pairs
from .server import LANGUAGES, ServerSettings
from .tables import load_table as _load

FEED_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
COMMON_KEYS = {
    "source",
    "title",
    "description",
    "every",
    "licence",
    "licence_url",
    "attribution",
    "language",
    "max_items",
    "channels",
    "channel_filter",
    "office",
    "place",
}
PLACE = re.compile(r"[^\x00-\x1f\x7f<>]{1,100}\Z")  # a name people read: one line, no markup


class FeedSchema(Schema):
    """The keys every feed has, whatever its source."""

    class Meta:
        unknown = RAISE

    source = fields.String(required=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(load_default="")
    every = Interval(load_default=6 * 3600)
    licence = fields.String(load_default=None, validate=validate.OneOf(list(LICENCES)))
    licence_url = Url(schemes=("http", "https"), load_default=None)
    attribution = fields.String(load_default="")
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))
    max_items = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    # The city's accounts ([channels.NAME]) this feed posts to, and what of it goes there (a URL query).
    channels = fields.List(fields.String(validate=validate.Regexp(CHANNEL_NAME)), load_default=list)
    channel_filter = fields.String(load_default="", validate=validate.Length(0, 1000))
    # The office that reads citizens' replies to this feed (a desk feed: its announcements' office).
    office = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$"))
    # The town or district the feed is about: the catalogue's filter (/?place=...) and the feed page show it.
    place = fields.String(
        load_default=None,
        validate=validate.Regexp(PLACE, error="must be a place name of 1 to 100 characters on one line"),
    )


@dataclass(frozen=True)
class FeedSettings:
    """One configured feed: its common keys plus the validated options of its source."""

    id: str
    source: str
    title: str
    description: str
    every: int
    licence: str
    licence_url: str
    attribution: str
    language: str
    timezone: str
    max_items: int
    options: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    channels: tuple[str, ...] = ()  # [channels.NAME] this feed posts to
    channel_filter: tuple[tuple[str, str], ...] = ()  # what of it goes there: URL filters, as (name, value)
    office: str | None = None  # who reads replies to it; None: nobody, so replies are not kept
    place: str | None = None  # the town or district it is about (the catalogue's filter)

    @property
    def info(self) -> FeedInfo:
        """What the source needs to know about this feed."""
        return FeedInfo(id=self.id, title=self.title, language=self.language, timezone=self.timezone)

    @property
    def kind(self) -> str:
        """The feed kind its source declares (waste, air, transit, alerts, ...)."""
        return load_source(self.source).KIND

    @property
    def reads_desk(self) -> bool:
        """Its source's upstream is the editorial desk (staff of its `office` post into it)."""
        return getattr(load_source(self.source).Source, "reads", "http") == "desk"

    def make_source(self):
        """A fresh source adapter configured with this feed's options."""
        return load_source(self.source).Source(self.info, **self.options)


def feed_settings(feed_id: str, table: Any, server: ServerSettings, file: str, base: Path) -> FeedSettings:
    """One [feeds.ID] table validated: common keys, then its source's options."""
    key = f"feeds.{feed_id}"
    if not FEED_ID.fullmatch(feed_id):
        raise ConfigError(
            file, key, "invalid feed id (use 1-64 lower-case letters, digits and inner hyphens)"
        )
    if not isinstance(table, dict):
        raise ConfigError(file, key, "must be a table")
    common = _load(FeedSchema(), {k: v for k, v in table.items() if k in COMMON_KEYS}, file, key)
    try:
        module = load_source(common["source"])
    except KeyError:
        raise ConfigError(
            file,
            f"{key}.source",
            f"unknown source kind {common['source']!r} (known: {', '.join(source_kinds())})",
        ) from None
    if module.KIND not in kind_names():
        raise ConfigError(
            file,
            f"{key}.source",
            f"source {common['source']!r} makes feeds of kind {module.KIND!r}, which no installed plugin "
            f"provides (known: {', '.join(kind_names())})",
        )
    # `place` and a desk feed's `office` are common keys; a source whose options name them too gets them.
    schema = module.OPTIONS()
    shared = {"place", "office"} & set(schema.fields)
    raw_options = {
        k: resolve_file_url(v, base) if k.endswith("url") else v
        for k, v in table.items()
        if k not in COMMON_KEYS or k in shared
    }
    options = _load(schema, raw_options, file, key)
    licence = common["licence"] or server.licence
    if not licence:
        raise ConfigError(
            file, f"{key}.licence", f"missing: name the data's licence (one of {', '.join(LICENCES)})"
        )
    return FeedSettings(
        id=feed_id,
        source=common["source"],
        title=common["title"],
        description=common["description"],
        every=common["every"],
        licence=licence,
        licence_url=common["licence_url"] or LICENCES[licence].url,
        attribution=common["attribution"] or server.attribution,
        language=common["language"] or server.language,
        timezone=options.get("timezone") or server.timezone,
        max_items=common["max_items"],
        options=MappingProxyType(options),
        channels=tuple(common["channels"]),
        office=common["office"] or options.get("office"),
        channel_filter=query_pairs(common["channel_filter"], file, f"{key}.channel_filter"),
        place=common["place"].strip() if common["place"] else None,
    )


def resolve_file_url(value: Any, base: Path) -> Any:
    """`file:relative/path.ics` is taken relative to the config file, so the shipped config works anywhere."""
    if isinstance(value, str) and value.startswith("file:") and not value.startswith("file:/"):
        return (base / value[len("file:") :]).resolve().as_uri()
    return value
