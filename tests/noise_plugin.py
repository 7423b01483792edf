"""A kind and its source that live outside the server, as a city's own pip-installed package would.

`tests/test_plugin_kind.py` registers both through entry points (`feedserver.kinds`, `feedserver.sources`);
nothing in feedserver/, kinds/ or sources/ names them. Noise sensors report readings in dB(A); a reading stays
the same item while the sensor repeats it, and the kind adds a `min_db` filter and the loudest place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from marshmallow import Schema

from feedserver.contract import Before, PlainKind
from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.filters import MinimumFilter
from feedserver.items import FeedInfo, Item, make_item


@dataclass(frozen=True)
class Noise(PlainKind):
    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """A reading the sensor repeats keeps the time it was first published."""
        first = {item.id: item.published for item in before.current()}
        return [replace(item, published=first.get(item.id, item.published)) for item in fresh]

    def current_data(self, feed, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """The loudest place right now."""
        loudest = max(items, key=lambda i: i.data.get("db", 0), default=None)
        return {"loudest": loudest.area if loudest else None}, None


NOISE = Noise(
    "noise", churning=True, filters={"min_db": MinimumFilter(lambda i: i.data.get("db"), upper=200)}
)

# The source module's contract: KIND (the name of its kind), TITLE, OPTIONS, Source.
KIND = "noise"
TITLE = "Noise sensors (JSON)"
FILTERS = ("area", "min_db")


class OPTIONS(Schema):
    url = Url(required=True)


class Source:
    def __init__(self, feed: FeedInfo, url: str):
        self.feed, self.url = feed, url

    def fetch(self, http: Http) -> Payload:
        return http.get(self.url)

    def parse(self, payload: Payload) -> list[Item]:
        """One Item per sensor reading: {"readings": [{"sensor", "place", "at", "db"}]}."""
        try:
            readings = json.loads(payload.body)["readings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ParseError(f"not a noise document: {exc}") from None
        return [self._item(reading) for reading in readings]

    def _item(self, reading: dict) -> Item:
        at = datetime.fromisoformat(reading["at"])
        return make_item(
            self.feed.id,
            f"{reading['sensor']}|{reading['at']}",
            title=f"{reading['place']}: {reading['db']:g} dB(A)",
            published=at,
            area=reading["place"],
            data={"db": reading["db"], "sensor": reading["sensor"]},
        )
