"""Warnings of the federal warning system (NINA, warnung.bund.de): MoWaS, DWD, KATWARN, BIWAPP, LHP, police.

The dashboard `/dashboard/{ARS}.json` lists the warnings for a district; each one's details come as CAP-JSON
from `/warnings/{id}.json` and become items under the same CAP rules as the `cap` source.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from marshmallow import Schema, ValidationError, fields, validate

from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.items import FeedInfo, Item
from sources._cap_common import SEVERITIES, current_items

KIND = "alerts"
MASS_DELETION_GUARD = False  # alerts end and are cancelled all at once (see feedserver/guard.py)
TITLE = "NINA warnings (warnung.bund.de)"
FILTERS = ("category", "area")
VOCABULARY = {"category": SEVERITIES}  # valid even while no alert is active
BASE_URL = "https://warnung.bund.de/api31"
ARS_DIGITS = 12
DISTRICT_DIGITS = 5  # the dashboard is per district: the last 7 digits of the key are always 0

log = logging.getLogger(__name__)


def dashboard_key(region: str) -> str:
    """A Regionalschlüssel (ARS, 2 to 12 digits) as the dashboard's key: district digits, then zeros."""
    digits = region.strip()
    if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= ARS_DIGITS):
        raise ValueError(f"region must be an ARS of 2 to 12 digits such as '081160000000', got {region!r}")
    return digits.ljust(ARS_DIGITS, "0")[:DISTRICT_DIGITS].ljust(ARS_DIGITS, "0")


class Region(fields.Field):
    """An ARS written as a string (as a number its leading zero would be lost)."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, str):
            raise ValidationError('must be a quoted string of digits such as "081160000000"')
        try:
            return dashboard_key(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class Options(Schema):
    region = Region(required=True)
    base_url = Url(load_default=BASE_URL)
    max_alerts = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


OPTIONS = Options


class Source:
    def __init__(self, feed: FeedInfo, region: str, base_url: str = BASE_URL, max_alerts: int = 100):
        self.feed = feed
        self.region = dashboard_key(region)
        self.base_url = base_url.rstrip("/")
        self.max_alerts = max_alerts

    def fetch(self, http: Http) -> Payload:
        """Download the district's dashboard, then the CAP-JSON details of each warning on it."""
        # conditional, reusing remembered bodies on 304; parsed again anyway: expiry depends on the time
        dashboard = http.get(f"{self.base_url}/dashboard/{self.region}.json", reuse=True)
        details = {
            warning_id: http.get(f"{self.base_url}/warnings/{quote(warning_id, safe='')}.json", reuse=True)
            for warning_id in self._bounded(warning_ids(dashboard.body))
        }
        return replace(dashboard, related=details)

    def parse(self, payload: Payload) -> list[Item]:
        """The warnings in force at fetch time; ParseError when dashboard or details have the wrong shape."""
        documents = []
        for warning_id in self._bounded(warning_ids(payload.body)):
            detail = payload.related.get(warning_id)
            if detail is None:
                raise ParseError(f"details of warning {warning_id} were not fetched")
            documents.append(decode_object(detail.body, f"warning {warning_id}"))
        return current_items(self.feed, documents, payload.fetched_at)

    def _bounded(self, ids: list[str]) -> list[str]:
        if len(ids) > self.max_alerts:
            log.warning(
                "NINA dashboard %s lists %d warnings; only %d are read",
                self.region,
                len(ids),
                self.max_alerts,
            )
        return ids[: self.max_alerts]


def warning_ids(body: bytes) -> list[str]:
    """The warning ids listed on a dashboard, in order, without repeats."""
    entries = decode_json(body, "dashboard")
    if not isinstance(entries, list):
        raise ParseError(f"NINA dashboard must be a list, got {type(entries).__name__}")
    ids: list[str] = []
    for entry in entries:
        warning_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(warning_id, str) or not warning_id.strip():
            raise ParseError("NINA dashboard entry without an id")
        if warning_id not in ids:
            ids.append(warning_id)
    return ids


def decode_object(body: bytes, what: str) -> dict[str, Any]:
    """A JSON object; ParseError for anything else."""
    value = decode_json(body, what)
    if not isinstance(value, dict):
        raise ParseError(f"NINA {what} must be an object, got {type(value).__name__}")
    return value


def decode_json(body: bytes, what: str) -> Any:
    """Decode a JSON body (UTF-8, BOM tolerated); ParseError when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except ValueError as exc:
        raise ParseError(f"NINA {what} is not JSON: {exc}") from exc
