"""Waste collection dates from regio iT "AbfallNavi" (Aachen, ZEW, Nürnberg, Pinneberg and other services)."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import replace
from datetime import date
from typing import Any

from marshmallow import fields, validate

from feedserver.errors import NotModified, OptionError, ParseError, UpstreamError
from feedserver.fetch import Http, Payload
from feedserver.fields import SERVICE_PATTERN, Url
from feedserver.items import FeedInfo, Item
from feedserver.sanitize import fold
from kinds.waste.vocabulary import WasteOptions, WasteSource, by_day

KIND = "waste"
TITLE = "AbfallNavi (regio iT)"
FILTERS = ("category", "area")

DEFAULT_BASE_URL = "https://{service}-abfallapp.regioit.de/abfall-app-{service}/rest"
# Some services only answer on the shared host (their own subdomain no longer resolves).
FALLBACK_BASE_URL = "https://abfallapp.regioit.de/abfall-app-{service}/rest"
MAX_SUGGESTIONS = 5
HEX_COLOUR = re.compile(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}")


class Options(WasteOptions):
    service = fields.String(required=True, validate=validate.Regexp(SERVICE_PATTERN))
    place = fields.String(required=True)
    street = fields.String(required=True)
    house_number = fields.String(load_default=None)
    base_url = Url(load_default=None)


OPTIONS = Options


class Source(WasteSource):
    def __init__(
        self,
        feed: FeedInfo,
        service: str,
        place: str,
        street: str,
        house_number: str | None = None,
        base_url: str | None = None,
        **waste,
    ):
        super().__init__(feed, **waste)
        self.service = service
        self.place = place
        self.street = street
        self.house_number = house_number
        self.base_urls = (
            [base_url]
            if base_url
            else [service_url(service, DEFAULT_BASE_URL), service_url(service, FALLBACK_BASE_URL)]
        )

    def fetch(self, http: Http) -> Payload:
        """Resolve place, street and house number to an id, then download its dates and the waste types.

        Every request is conditional; a 304 reuses the remembered body. When dates and waste types both
        answered 304 nothing changed, and NotModified says so (the items depend on nothing else).
        """
        base, places = self._places(http)
        place_id = find_one(places, "place", self.place)
        all_streets = street_records(http, base, place_id)
        names = [name for _, name in named(all_streets, "strassen")]
        # a street may be listed more than once, split by house-number ranges or districts
        streets = [all_streets[index] for index in matching(names, self.street)]
        if not streets:
            raise OptionError("street", self.street, closest(self.street, names))
        target = self._target(http, base, streets)
        fraktionen = http.get(f"{base}/fraktionen", reuse=True)
        fraktion_ids = [key for key, _ in named(load_records(fraktionen, "fraktionen"), "fraktionen")]
        termine = http.get(f"{base}/{target}/termine", params={"fraktion": fraktion_ids}, reuse=True)
        payload = replace(termine, related={"fraktionen": fraktionen})
        if payload.unchanged():
            raise NotModified(f"{base}/{target}/termine")
        return payload

    def _places(self, http: Http) -> tuple[str, list[dict[str, Any]]]:
        """The first base URL that answers, with its places."""
        for index, base in enumerate(self.base_urls):
            try:
                return base, load_records(http.get(f"{base}/orte", reuse=True), "orte")
            except UpstreamError as exc:
                # only an unreachable host is worth the fallback; an HTTP error is a real answer
                if exc.status is not None or index == len(self.base_urls) - 1:
                    raise
        raise AssertionError("unreachable: base_urls is never empty")

    def _target(self, http: Http, base: str, streets: list[dict[str, Any]]) -> str:
        """The termine path: a house number when the street has them, else the street itself."""
        # The street list fills hausNrList only for its first entry, so every candidate is asked directly.
        details = [
            load_object(http.get(f"{base}/strassen/{street['id']}", reuse=True), "strasse")
            for street in streets
        ]
        numbers = [number for street in details for number in house_numbers(street)]
        if self.house_number is not None:
            wanted = fold_number(self.house_number)
            for number in numbers:
                if fold_number(str(number["nr"])) == wanted:
                    return f"hausnummern/{number['id']}"
        for street in details:
            own = house_numbers(street)
            if not own:
                return f"strassen/{street['id']}"
            if len(own) == 1 and self.house_number is None:
                return f"hausnummern/{own[0]['id']}"
        labels = [str(number["nr"]) for number in numbers]
        if self.house_number is None:
            raise OptionError("house_number", "", labels[: MAX_SUGGESTIONS * 2])
        raise OptionError("house_number", self.house_number, closest(self.house_number, labels, fold_number))

    def parse(self, payload: Payload) -> list[Item]:
        """One Item per collection day and waste type; raise ParseError on an unexpected shape."""
        termine = load_records(payload, "termine")
        related = payload.related.get("fraktionen")
        if related is None:
            raise ParseError("the fraktionen response is missing from the payload")
        fraktionen = {
            str(record["id"]): record for record in load_records(related, "fraktionen") if "id" in record
        }
        return by_day(item for termin in termine for item in self._items(termin, fraktionen))

    def _items(self, termin: dict[str, Any], fraktionen: dict[str, dict[str, Any]]) -> list[Item]:
        day = parse_day(termin.get("datum"))
        note = str(termin.get("info") or "")
        items = []
        for bezirk in districts(termin):
            fraktion_id = str(bezirk["fraktionId"])
            fraktion = fraktionen.get(fraktion_id, {})
            label = str(fraktion.get("name") or f"Fraktion {fraktion_id}").strip()
            area = str(bezirk.get("name") or "").strip() or None
            colour = hex_colour(fraktion.get("farbeRgb"))
            key = f"{day.isoformat()}|{fraktion_id}|{area or ''}"
            items.append(self.pickup(key, label, day, note=note, area=area, colour=colour))
        return items


def lookup(
    http: Http, base_url: str, place: str | None = None, street: str | None = None
) -> list[tuple[str, str]]:
    """(id, name) of the next level down: places, then a place's streets, then a street's house numbers."""
    places = load_records(http.get(f"{base_url}/orte"), "orte")
    if place is None:
        return named(places, "orte")
    place_id = find_one(places, "place", place)
    streets = street_records(http, base_url, place_id)
    if street is None:
        return named(streets, "streets")
    street_id = find_one(streets, "street", street)
    detail = load_object(http.get(f"{base_url}/strassen/{street_id}"), "strasse")
    return [(str(number["id"]), str(number["nr"])) for number in house_numbers(detail)]


def config_snippet(source, service, place, street, rows, base_url) -> str:
    """The [feeds.…] table for what `lookup` found (`feedserver lookup` prints it)."""
    lines = [
        f"[feeds.waste-{service}]",
        f'source = "{source}"',
        'title = "Abfuhrtermine"',
        'licence = "dl-de/by-2-0"',
        f'service = "{service}"',
    ]
    lines.append(f'place = "{place}"' if place else '# place = "<one of the places above>"')
    lines.append(f'street = "{street}"' if street else '# street = "<run again with --place>"')
    if street:
        first = rows[0][1] if rows else "<number>"
        lines.append(f'house_number = "{first}"  # choose yours from the list above' if rows else "")
    if base_url:
        lines.append(f'base_url = "{base_url}"')
    return "\n".join(line for line in lines if line)


def service_url(service: str, template: str = DEFAULT_BASE_URL) -> str:
    """The REST base URL of one AbfallNavi service, e.g. 'aachen'."""
    return template.replace("{service}", service)


def street_records(http: Http, base: str, place_id: str) -> list[dict[str, Any]]:
    """Every street of a place (house numbers are only filled in for the first one)."""
    return load_records(http.get(f"{base}/orte/{place_id}/strassen", reuse=True), "strassen")


def find_one(records: list[dict[str, Any]], option: str, value: str) -> str:
    """The id of the record whose name matches `value` ignoring case and umlauts, else OptionError."""
    entries = named(records, option)
    found = matching([name for _, name in entries], value)
    if not found:
        raise OptionError(option, value, closest(value, [name for _, name in entries]))
    return entries[found[0]][0]


def matching(names: list[str], value: str) -> list[int]:
    """Indexes of the names equal to value ignoring case and accents, else equal when written 'oe' for 'ö'."""
    exact = [index for index, name in enumerate(names) if fold(name) == fold(value)]
    if exact:
        return exact
    return [index for index, name in enumerate(names) if transliterated(name) == transliterated(value)]


def transliterated(text: str) -> str:
    """Folded, with the German umlaut spellings ae/oe/ue reduced, so 'Noervenich' finds 'Nörvenich'."""
    folded = fold(text)
    for spelled, plain in (("ae", "a"), ("oe", "o"), ("ue", "u")):
        folded = folded.replace(spelled, plain)
    return folded


def closest(value: str, names: list[str], normalize=fold) -> list[str]:
    """The names most similar to a misspelt value, best first."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(normalize(name), name)
    matches = difflib.get_close_matches(normalize(value), list(by_key), n=MAX_SUGGESTIONS, cutoff=0.6)
    return [by_key[match] for match in matches]


def fold_number(text: str) -> str:
    """House numbers compare without spaces and case: '5 A' equals '5a'."""
    return fold(text).replace(" ", "")


def house_numbers(street: dict[str, Any]) -> list[dict[str, Any]]:
    """The street's house numbers; ParseError when an entry lacks its id or number."""
    numbers = street.get("hausNrList") or []
    if not isinstance(numbers, list) or not all(
        isinstance(n, dict) and "id" in n and "nr" in n for n in numbers
    ):
        raise ParseError("strasse: hausNrList is not a list of {id, nr} objects")
    return numbers


def districts(termin: dict[str, Any]) -> list[dict[str, Any]]:
    """A date's districts: one object in practice, a list in the published API description."""
    bezirk = termin.get("bezirk")
    found = [bezirk] if isinstance(bezirk, dict) else bezirk
    if not isinstance(found, list) or not found:
        raise ParseError(f"termin {termin.get('id')}: no bezirk")
    for entry in found:
        if not isinstance(entry, dict) or entry.get("fraktionId") is None:
            raise ParseError(f"termin {termin.get('id')}: bezirk without fraktionId")
    return found


def parse_day(value: Any) -> date:
    """A `datum` like '2026-01-13' (a trailing time, if any, is ignored: pickups are whole days)."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ParseError(f"termin: invalid datum {value!r}") from exc


def hex_colour(value: Any) -> str | None:
    """'#rrggbb' from 'RRGGBB', 'RGB' or Android-style 'AARRGGBB'; None for anything else."""
    text = str(value or "").strip().removeprefix("#")
    if not HEX_COLOUR.fullmatch(text):
        return None
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    return f"#{text[-6:].lower()}"


def named(records: list[dict[str, Any]], what: str) -> list[tuple[str, str]]:
    """(id, name) pairs of records that must carry both."""
    try:
        return [(str(record["id"]), str(record["name"])) for record in records]
    except KeyError as exc:
        raise ParseError(f"{what}: entry without {exc.args[0]!r}") from exc


def load_json(payload: Payload, what: str) -> Any:
    """The decoded JSON body; ParseError for anything else (an HTML error page, say)."""
    try:
        return json.loads(payload.body)
    except ValueError as exc:
        raise ParseError(f"{what}: response is not JSON ({exc})") from exc


def load_records(payload: Payload, what: str) -> list[dict[str, Any]]:
    """A JSON array of objects."""
    data = load_json(payload, what)
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise ParseError(f"{what}: expected a JSON array of objects, got {type(data).__name__}")
    return data


def load_object(payload: Payload, what: str) -> dict[str, Any]:
    """A JSON object with an id."""
    data = load_json(payload, what)
    if not isinstance(data, dict) or "id" not in data:
        raise ParseError(f"{what}: expected a JSON object with an id")
    return data
