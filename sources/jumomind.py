"""Waste collection dates from Jumomind / MyMüll (Bad Homburg, ZAW Darmstadt-Dieburg, mymuell.de towns)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from marshmallow import ValidationError, fields, validate

from feedserver.errors import NotModified, OptionError, ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import SERVICE_PATTERN, Url
from feedserver.items import FeedInfo, Item
from feedserver.sanitize import fold
from kinds.waste.vocabulary import WasteOptions, WasteSource, by_day

# The JSON handling and colour rules are the same as AbfallNavi's; sharing them keeps both sources consistent.
from sources.abfallnavi import hex_colour, load_records, parse_day

KIND = "waste"
TITLE = "Jumomind / MyMüll"
FILTERS = ("category", "area")

DEFAULT_BASE_URL = "https://{service}.jumomind.com/mmapp/api.php"
DATES_WEEKS = "3"  # the apps send ws=3; it is part of the request the service expects


class Identifier(fields.Field):
    """A numeric upstream id written as a number or a string in config.toml."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("must be a number like 106")
        text = str(value).strip()
        if not text.isdigit():
            raise ValidationError("must be a number like 106")
        return text


class Options(WasteOptions):
    service = fields.String(required=True, validate=validate.Regexp(SERVICE_PATTERN))
    city_id = Identifier(required=True)
    area_id = Identifier(required=True)
    base_url = Url(load_default=None)


OPTIONS = Options


class Source(WasteSource):
    def __init__(
        self, feed: FeedInfo, service: str, city_id: str, area_id: str, base_url: str | None = None, **waste
    ):
        super().__init__(feed, **waste)
        self.city_id = str(city_id)
        self.area_id = str(area_id)
        self.base_url = base_url or DEFAULT_BASE_URL.replace("{service}", service)

    def fetch(self, http: Http) -> Payload:
        """Download the area's waste types and its collection dates.

        Both requests are conditional; a 304 reuses the remembered body, and two 304s raise NotModified.
        """
        place = {"city_id": self.city_id, "area_id": self.area_id}
        trash = http.get(self.base_url, params={"r": "trash", **place}, reuse=True)
        # Every served area has at least one waste type: none means the city/area pair is unknown upstream,
        # and the dates would then be an empty list that looks like "no collections".
        if not load_records(trash, "trash"):
            raise OptionError("area_id", self.area_id)
        dates = http.get(self.base_url, params={"r": "dates/0", **place, "ws": DATES_WEEKS}, reuse=True)
        payload = replace(dates, related={"trash": trash})
        if payload.unchanged():
            raise NotModified(self.base_url)
        return payload

    def parse(self, payload: Payload) -> list[Item]:
        """One Item per collection day and waste type; raise ParseError on an unexpected shape."""
        dates = load_records(payload, "dates")
        related = payload.related.get("trash")
        if related is None:
            raise ParseError("the trash response is missing from the payload")
        types = {str(t["name"]): t for t in load_records(related, "trash") if t.get("name")}
        return by_day(self._item(entry, types) for entry in dates)

    def _item(self, entry: dict[str, Any], types: dict[str, dict[str, Any]]) -> Item:
        day = parse_day(entry.get("day"))
        trash_name = str(entry.get("trash_name") or "").strip()
        kind = types.get(trash_name, {})
        label = str(entry.get("title") or kind.get("title") or "").strip()
        if not label:
            raise ParseError(f"date {entry.get('id')}: neither a title nor a known trash_name")
        colour = hex_colour(entry.get("color")) or hex_colour(kind.get("color"))
        note = str(entry.get("description") or "")
        return self.pickup(
            f"{day.isoformat()}|{trash_name or fold(label)}", label, day, note=note, colour=colour
        )
