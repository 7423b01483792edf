"""[channels.NAME]: the city's own accounts on other networks, configured once and chosen per feed.

A channel names its network (`type`), where the account lives and its credentials (only ever as
`{ env = "NAME" }`), and how much it may post. A feed chooses channels with `channels = ["NAME", ...]` and
may narrow what goes there with `channel_filter`, written like a feed URL's query (`"min_delay=10"`), so a
data feed posts only what matters; a crisis notice goes to every channel. Replies to the account's posts reach
the office of the post's feed ([replies]) unless `replies = false`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..errors import ConfigError
from ..fields import Secret, Url
from ..filters import FilterError, filters_for, parse_selection
from ..registry import load_kind, load_source
from .tables import load_table

CHANNEL_NAME = r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?"
TYPES = ("mastodon", "bluesky")
LENGTHS = {"mastodon": 500, "bluesky": 300}  # characters (Bluesky: graphemes) of a post by default
CREDENTIALS = {"mastodon": ("access_token",), "bluesky": ("handle", "app_password")}


class ChannelSchema(Schema):
    """One [channels.NAME] table."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    base_url = Url(schemes=("http", "https"), required=True)  # the Mastodon instance, the Bluesky PDS
    access_token = Secret(load_default=None)  # Mastodon
    handle = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9.-]{3,253}$"))  # Bluesky
    app_password = Secret(load_default=None)  # Bluesky: an app password, never the account's own
    max_per_hour = fields.Integer(load_default=6, validate=validate.Range(1, 300))
    visibility = fields.String(load_default="public", validate=validate.OneOf(["public", "unlisted"]))
    max_characters = fields.Integer(load_default=None, validate=validate.Range(100, 100_000))
    # Citizens' replies to the account's posts are read every `replies_every` seconds for the posts' offices.
    replies = fields.Boolean(load_default=True)
    replies_every = fields.Integer(load_default=120, validate=validate.Range(30, 86_400))

    @validates_schema
    def credentials(self, data: dict, **kwargs) -> None:
        """Each network's credentials are required for it, and only for it."""
        for name in CREDENTIALS.get(data.get("type"), ()):
            if not data.get(name):
                raise ValidationError({name: [f"required for a {data['type']} channel"]})


@dataclass(frozen=True)
class ChannelSettings:
    """A configured account: its network, address, credentials, posting limit, visibility and post length."""

    name: str
    type: str
    base_url: str
    access_token: str | None = field(default=None, repr=False)  # never in logs or tracebacks
    handle: str | None = None
    app_password: str | None = field(default=None, repr=False)
    max_per_hour: int = 6
    visibility: str = "public"
    max_characters: int = 500
    replies: bool = True
    replies_every: int = 120


def channel_settings(name: str, values: dict[str, Any]) -> ChannelSettings:
    """Settings of one channel from its validated table (the post length its network's by default)."""
    length = values.pop("max_characters") or LENGTHS[values["type"]]
    return ChannelSettings(name=name, max_characters=length, **values)


def load_channels(raw: Any, file: str) -> dict[str, ChannelSettings]:
    """Every [channels.NAME] table, validated."""
    if not isinstance(raw, dict):
        raise ConfigError(file, "channels", "must be a table of channels, e.g. [channels.city-mastodon]")
    found = {}
    for name, table in raw.items():
        if not re.fullmatch(CHANNEL_NAME, name):
            problem = "invalid channel name (lower-case letters, digits, - and _)"
            raise ConfigError(file, f"channels.{name}", problem)
        found[name] = channel_settings(name, load_table(ChannelSchema(), table, file, f"channels.{name}"))
    return found


def check_feed_channels(feeds: Mapping[str, Any], channels: Mapping[str, ChannelSettings], file: str) -> None:
    """Every channel a feed names exists, and its channel_filter is one its feed URLs would accept."""
    for feed in feeds.values():
        for name in feed.channels:
            if name not in channels:
                known = ", ".join(sorted(channels)) or "none configured"
                raise ConfigError(file, f"feeds.{feed.id}.channels", f"no channel {name!r} (known: {known})")
        accepted = filters_for(load_source(feed.source), load_kind(feed.kind).filters)
        try:
            parse_selection(dict(feed.channel_filter), accepted, [])
        except FilterError as exc:
            if exc.problem != "unknown value":  # values of open vocabularies show up only with the items
                raise ConfigError(file, f"feeds.{feed.id}.channel_filter", str(exc)) from None


def query_pairs(text: str, file: str, key: str) -> tuple[tuple[str, str], ...]:
    """A URL query like "min_delay=10&line=5" as (name, value) pairs."""
    pairs = []
    for part in filter(None, text.split("&")):
        name, equals, value = part.partition("=")
        if not equals or not name or not value:
            raise ConfigError(file, key, f"{part!r} is not name=value (write it like a feed URL's query)")
        pairs.append((unquote(name), unquote(value)))
    return tuple(pairs)
