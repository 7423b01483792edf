"""A kind and its source that live outside the server, as a city's own pip-installed package would.

`tests/test_plugin_kind.py` registers both through entry points (`feedserver.kinds`, `feedserver.sources`);
nothing in feedserver/, kinds/ or sources/ names them. Noise sensors report readings in dB(A); a reading stays
the same item while the sensor repeats it, and the kind adds a `min_db` filter and the loudest place, which
the API lists and its own widget view shows (template, words and script part from beside this module).
Its words are English msgids translated by its own gettext catalog (noise_plugin_translations/), which
the server's catalog knows nothing of.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields

from feedserver.contract import Before, PlainKind
from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.filters import MinimumFilter
from feedserver.i18n import N_
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

    def widget_context(self, data: Mapping, lang: str, zone: ZoneInfo) -> dict:
        """A helper its template uses."""
        return {"shout": str.upper}


HERE = Path(__file__).parent
NOISE = Noise(
    "noise",
    churning=True,
    view="noise",
    filters={"min_db": MinimumFilter(lambda i: i.data.get("db"), upper=200)},
    api_fields={
        "loudest": fields.String(allow_none=True, metadata={"description": "Noise feeds: the loudest."})
    },
    widget_texts={"noise": N_("Noise now"), "loudest": N_("Loudest"), "quiet": N_("Quiet everywhere.")},
    translations=str(HERE / "noise_plugin_translations"),  # its own catalog: the server's has none of these
    topic="noise",
    topic_name=N_("Noise"),
    category_names={"loud": N_("Loud")},
    empty_text=N_("no readings"),
    template_folders=(str(HERE / "noise_plugin_templates"),),
    widget_script=((HERE / "noise_plugin.js").read_text(encoding="utf-8"),),
    widget_height=200,
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
