"""Service requests from any Open311 GeoReport v2 server (Mark-a-Spot, FixMyStreet, Libre311, SeeClickFix).

Reads `GET services.{json|xml}` (the city's catalogue of services) and `GET requests.{json|xml}` (each
request's current status) at `endpoint`, narrowed to `jurisdiction_id` and `service_codes` when given, with
`api_key` when the server asks for one. Every request and status becomes an item ("Meldung 4711,
Straßenschaden Hauptstraße: in Bearbeitung"); the requests kind keeps a request's earlier status items and
links each to the one it supersedes. Requests marked `non_public` are never published. `media_url` is kept as
a link and never fetched. XML is parsed with defusedxml (a document type declaration is refused).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError as XmlSyntaxError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from marshmallow import Schema, fields, validate

from feedserver.errors import OptionError, ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Secret, Url
from feedserver.items import READING, FeedInfo, Item, make_item
from kinds.requests.vocabulary import REQUEST_TITLE, STAGES, stage_of, status_text, word

KIND = "requests"
TITLE = "Open311 GeoReport v2 service requests"
FILTERS = ("service", "status", "area", "near", "request")
VOCABULARY = {"status": STAGES}
ACCEPT = {"json": "application/json", "xml": "application/xml, text/xml;q=0.9"}
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z"
TEXT_FIELDS = ("status_notes", "agency_responsible", "address", "zipcode", "service_notice")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the catalogue's entries are state: dated long ago, never news
CONTAINERS = {"service": "services", "request": "service_requests"}  # the XML documents' root elements
# One answer's records: GeoReport servers return 1000 requests at most by default. Together they stay under
# the pipeline's 5000 items a fetch, so no request is cut there without a trace.
MAX_SERVICES = 500
MAX_REQUESTS = 4000


class Options(Schema):
    endpoint = Url(required=True, schemes=("http", "https", "demo"))
    jurisdiction_id = fields.String(load_default=None, validate=validate.Length(1, 200))
    service_codes = fields.List(
        fields.String(validate=validate.Regexp(CODE_PATTERN)),
        load_default=(),
        validate=validate.Length(max=50),
    )
    api_key = Secret(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xml")))


OPTIONS = Options


class Source:
    def __init__(
        self,
        feed: FeedInfo,
        endpoint: str,
        jurisdiction_id: str | None = None,
        service_codes: tuple[str, ...] | list[str] = (),
        api_key: str | None = None,
        format: str = "json",
    ):
        self.feed = feed
        self.endpoint = endpoint.rstrip("/")
        self.jurisdiction_id = jurisdiction_id
        self.service_codes = tuple(service_codes)
        self.api_key = api_key
        self.format = format

    def fetch(self, http: Http) -> Payload:
        """The services catalogue, then the requests (of the configured services only, when given).

        Both are asked conditionally after the first poll; a 304 reuses the body remembered in memory, so the
        api_key in the query is never stored with the feed's validators."""
        common = {"jurisdiction_id": self.jurisdiction_id, "api_key": self.api_key}
        common = {name: value for name, value in common.items() if value}
        headers = {"Accept": ACCEPT[self.format]}
        services = http.get(
            f"{self.endpoint}/services.{self.format}", params=common, headers=headers, reuse=True
        )
        query = common | ({"service_code": ",".join(self.service_codes)} if self.service_codes else {})
        requests = http.get(
            f"{self.endpoint}/requests.{self.format}", params=query, headers=headers, reuse=True
        )
        return replace(requests, related={"services": services})

    def parse(self, payload: Payload) -> list[Item]:
        """One item per service (state, not a message) and one per request in its current status."""
        services = [_service(r) for r in records(payload.related["services"], "service")[:MAX_SERVICES]]
        known = {code for code, _ in services if code}
        for code in self.service_codes:
            if known and code not in known:
                raise OptionError("service_codes", code, sorted(known)[:10])
        found = [self._service_item(code, name) for code, name in services if code]
        for record in records(payload, "request")[:MAX_REQUESTS]:
            item = self._request_item(record)
            if item is not None:
                found.append(item)
        return found

    def _service_item(self, code: str, name: str | None) -> Item:
        # The catalogue is state, not news: it lets ?service= accept a service that has no request now.
        data = {"kind": READING, "service_code": code, "service_name": name}
        return make_item(self.feed.id, f"service\x1f{code}", title=name or code, published=EPOCH, data=data)

    def _request_item(self, record: dict[str, Any]) -> Item | None:
        number = _text(record.get("service_request_id"))
        requested = _moment(record.get("requested_datetime"))
        changed = _moment(record.get("updated_datetime")) or requested
        if not number or changed is None or _flag(record.get("non_public")):
            return None  # no number to track, no time to date it, or not meant for the public
        status = _text(record.get("status")) or "open"
        notes = _text(record.get("status_notes"))
        service = _text(record.get("service_name")) or _text(record.get("service_code")) or ""
        address = _text(record.get("address"))
        subject = ", ".join(part for part in (service, address) if part) or number
        lang = self.feed.language
        title = word(REQUEST_TITLE, lang, number=number, subject=subject, status=status_text(status, lang))
        return make_item(
            self.feed.id,
            f"{number}\x1f{status}\x1f{notes or ''}",
            title=title,
            summary="\n\n".join(part for part in (_text(record.get("description")), notes) if part),
            published=changed,
            category=stage_of(status),
            area=_text(record.get("zipcode")),
            data=_request_data(record, number, status, requested),
        )


def _request_data(record: dict, number: str, status: str, requested: datetime | None) -> dict:
    data = {name: _text(record.get(name)) for name in TEXT_FIELDS}
    data |= {
        "request_id": number,
        "service_code": _text(record.get("service_code")),
        "service_name": _text(record.get("service_name")),
        "status": status,
        "stage": stage_of(status),
        "requested": requested.isoformat() if requested else None,
        "expected": _iso(record.get("expected_datetime")),
        "media_url": _link(record.get("media_url")),
        "lat": _degrees(record.get("lat"), 90),
        "lon": _degrees(record.get("long"), 180),
    }
    return {name: value for name, value in data.items() if value is not None}


def records(payload: Payload, element: str) -> list[dict[str, Any]]:
    """The records of a GeoReport answer (a JSON array, or XML `<services>`/`<service_requests>`)."""
    if payload.body.lstrip()[:1] == b"<":
        return _xml_records(payload, element, CONTAINERS[element])
    try:
        document = json.loads(payload.text())
    except ValueError as exc:
        raise ParseError(f"GeoReport answer is neither JSON nor XML: {exc}") from exc
    if isinstance(document, dict) and isinstance(document.get(f"{element}s"), list):
        document = document[f"{element}s"]  # Mark-a-Spot's extensions wrap the list: {"requests": [...]}
    if not isinstance(document, list) or not all(isinstance(record, dict) for record in document):
        raise ParseError(f"GeoReport {element}s answer is not a list of objects")
    return document


def _xml_records(payload: Payload, element: str, container: str) -> list[dict[str, Any]]:
    try:
        root = safe_xml.fromstring(payload.body)
    except (XmlSyntaxError, DefusedXmlException) as exc:
        raise ParseError(f"GeoReport XML refused: {exc}") from exc
    if root.tag != container:  # an <errors> document, or an HTML page that happens to be well-formed
        raise ParseError(f"GeoReport XML answer is not <{container}>")
    return [{child.tag: (child.text or "").strip() for child in record} for record in root.iter(element)]


def _service(record: dict) -> tuple[str | None, str | None]:
    return _text(record.get("service_code")), _text(record.get("service_name"))


def _text(value) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def _moment(value) -> datetime | None:
    text = _text(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _iso(value) -> str | None:
    moment = _moment(value)
    return moment.isoformat() if moment else None


def _degrees(value, limit: float) -> float | None:
    try:
        number = float(_text(value) or "nan")
    except ValueError:
        return None
    return number if -limit <= number <= limit else None  # NaN fails too


def _link(value) -> str | None:
    text = _text(value)
    return text if text and text.lower().startswith(("https://", "http://")) else None
