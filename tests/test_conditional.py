"""Conditional GET from every HTTP source: after the first poll each request carries its validators.

A recording upstream serves recorded payloads with an ETag and a Last-Modified, answers 304 when a request's
validators match, and notes whether each request was conditional. A 304 of one document of several reuses
that document's last body (feedserver.remembered); a 304 of everything changes none of the feed's items.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine
from werkzeug import Request, Response

from feedserver.registry import load_source, source_kinds
from feedserver.remembered import Bodies, Remembered, bodies
from tests.conftest import refresh_feed

POLLS = 4
LAST_MODIFIED = "Mon, 06 Jan 2025 08:00:00 GMT"
AS_JSON = "application/json"
DWD_XML = "cap/2.49.0.0.276.0.DWD.PVW.1687511640000.0d1a4fb5-251a-46fc-aae3-a688d2021e71.MUL.xml"
CRAFTED_ALERT = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>crafted-1</identifier>
<sender>test@city.example</sender><sent>2023-06-23T10:00:00+02:00</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope><info><language>de-DE</language><category>Met</category>
<event>HITZE</event><urgency>Immediate</urgency><severity>Moderate</severity><certainty>Likely</certainty>
<expires>{expires}</expires><headline>Amtliche WARNUNG vor HITZE</headline>
<description>Crafted for a test.</description><area><areaDesc>Stadt Havelsee</areaDesc></area></info>
</alert>"""
ATOM_INDEX = (
    """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>CAP</title>{entries}</feed>"""
)
ATOM_ENTRY = (
    "<entry><id>urn:test:{name}</id><title>t</title><updated>2023-06-23T11:00:00Z</updated>"
    '<link rel="alternate" type="application/cap+xml" href="/cap/{name}.xml"/></entry>'
)


def atom(*names: str) -> bytes:
    return ATOM_INDEX.format(entries="".join(ATOM_ENTRY.format(name=n) for n in names)).encode()


def json_of(fixture: bytes, pick) -> bytes:
    return json.dumps(pick(json.loads(fixture))).encode()


@dataclass(frozen=True)
class Case:
    """One source kind: its feed options, its recorded upstream documents by path, and when to poll."""

    options: str
    routes: dict  # path (or "path?name=value") -> (fixture path or bytes-builder, content type)
    now: datetime


CASES = {
    "ics": Case(
        'url = "{base}/abfall.ics"',
        {"/abfall.ics": ("ics/awb_limburg_weilburg_export.ics", "text/calendar")},
        datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
    ),
    "csv": Case(
        'url = "{base}/collectes.csv"\ncolumns = {{ date = "date", type = "type", area = "commune" }}',
        {"/collectes.csv": ("csv/wallonia_ods_calendrier-des-collectes-2026_charleroi.csv", "text/csv")},
        datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
    ),
    "cap": Case(
        'url = "{base}/cap.atom"',
        {
            "/cap.atom": (lambda _: atom("dwd", "crafted"), "application/atom+xml"),
            "/cap/dwd.xml": (DWD_XML, "application/cap+xml"),
            "/cap/crafted.xml": (
                lambda _: CRAFTED_ALERT.format(expires="2099-01-01T00:00:00+00:00").encode(),
                "application/cap+xml",
            ),
        },
        datetime(2023, 6, 23, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    ),
    "nina": Case(
        'region = "081160000000"\nbase_url = "{base}"',
        {
            "/dashboard/081160000000.json": ("nina/ha_nina_dashboard_sample_warnings.json", AS_JSON),
            **{
                f"/warnings/{warning}.json": (
                    lambda read, w=warning: json_of(
                        read("nina/ha_nina_warning_details.json"), lambda d: d[w]
                    ),
                    AS_JSON,
                )
                for warning in ("mow.DE-BW-S-SE018-20211102-18-001", "mow.DE-NW-BN-SE030-20201014-30-000")
            },
        },
        datetime(2024, 1, 15, 9, 0, tzinfo=UTC),
    ),
    "gtfs_rt": Case(
        'trip_updates_url = "{base}/tu.pb"\nalerts_url = "{base}/alerts.pb"\nstatic_url = "{base}/gtfs.zip"',
        {
            "/tu.pb": ("gtfs_rt/bart-trip-updates.pb", "application/x-protobuf"),
            "/alerts.pb": ("gtfs_rt/bart-alerts.pb", "application/x-protobuf"),
            "/gtfs.zip": ("gtfs_rt/bart-rt.zip", "application/zip"),
        },
        datetime.fromtimestamp(1565199921 + 30, UTC),
    ),
    "hafas": Case(
        'base_url = "{base}"\nstop = "8089110"\nmin_delay = 0',
        {"/stops/8089110/departures": ("hafas/dbrest-ringbahn-via-suedkreuz-departures.json", AS_JSON)},
        datetime(2023, 1, 16, 9, 50, tzinfo=UTC),
    ),
    "abfallnavi": Case(
        'service = "aachen"\nplace = "Aachen"\nstreet = "Abteiplatz"\nhouse_number = "7"\n'
        'base_url = "{base}"',
        {
            "/orte": ("abfallnavi/aachen_orte.json", AS_JSON),
            # the street list as the service sends it: house numbers only in the street's own document
            "/orte/11578729/strassen": (
                lambda read: json_of(
                    read("abfallnavi/aachen_strassen_11718098_Abteiplatz.json"),
                    lambda street: [{**street, "hausNrList": []}],
                ),
                AS_JSON,
            ),
            "/strassen/11718098": ("abfallnavi/aachen_strassen_11718098_Abteiplatz.json", AS_JSON),
            "/fraktionen": ("abfallnavi/aachen_fraktionen.json", AS_JSON),
            "/hausnummern/11718105/termine": ("abfallnavi/aachen_hausnummern_11718105_termine.json", AS_JSON),
        },
        datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
    ),
    "jumomind": Case(
        'service = "hom"\ncity_id = "1"\narea_id = "411"\nbase_url = "{base}/mmapp/api.php"',
        {
            "/mmapp/api.php?r=trash": ("jumomind/hom_trash_city1_area411.json", "text/html; charset=UTF-8"),
            "/mmapp/api.php?r=dates/0": (
                "jumomind/hom_dates0_city1_area411.json",
                "text/html; charset=UTF-8",
            ),
        },
        datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
    ),
    "uba_air": Case(
        'station = "DEBE034"\nbase_url = "{base}"\nendpoint = "airquality"\n'
        'components = ["o3", "no2", "pm10"]',
        {
            "/stations/json": ("uba_air/uba_v2_stations_2024_en.json", AS_JSON),
            "/airquality/json": ("uba_air/uba_v2_airquality_station145_2024-01-01.json", AS_JSON),
        },
        datetime(2024, 1, 2, 23, 20, tzinfo=UTC),
    ),
    "open311": Case(
        'endpoint = "{base}/georeport/v2"',
        {
            "/georeport/v2/services.json": ("open311/markaspot/services.json", AS_JSON),
            "/georeport/v2/requests.json": ("open311/markaspot/requests.json", AS_JSON),
        },
        datetime(2024, 2, 1, 12, 0, tzinfo=UTC),
    ),
    "openaq": Case(
        'location_id = 2178\nbase_url = "{base}"\ncomponents = ["pm25"]',
        {
            "/v3/locations/2178": ("openaq/openaq_v3_locations.json", AS_JSON),
            "/v3/sensors/3920/measurements": ("openaq/openaq_v3_measurements.json", AS_JSON),
        },
        datetime(2023, 10, 16, 15, 20, tzinfo=UTC),  # the window's query stays the same until 16:00
    ),
}


class RecordingUpstream:
    """Serves documents with validators, answers 304 when they match, records every request."""

    def __init__(self, httpserver, documents: dict[str, tuple[bytes, str]]):
        self.documents = documents
        self.requests: list[tuple[str, bool]] = []  # (path with query, carried validators)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        found = self._document(request)
        if found is None:
            return Response("not found", status=404)
        body, content_type = found
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        sent_etag = request.headers.get("If-None-Match")
        sent_date = request.headers.get("If-Modified-Since")
        self.requests.append((request.full_path.rstrip("?"), bool(sent_etag or sent_date)))
        fresh = sent_etag == etag if sent_etag else sent_date == LAST_MODIFIED
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if fresh:
            return Response(status=304, headers=headers)
        return Response(body, content_type=content_type, headers=headers)

    def _document(self, request: Request) -> tuple[bytes, str] | None:
        for key, document in self.documents.items():
            path, _, query = key.partition("?")
            name, _, value = query.partition("=")
            if request.path == path and (not query or request.args.get(name) == value):
                return document
        return None

    def by_url(self) -> dict[str, list[bool]]:
        """Per requested URL, whether each request was conditional, in order."""
        seen: dict[str, list[bool]] = {}
        for url, conditional in self.requests:
            seen.setdefault(url, []).append(conditional)
        return seen


def documents(case: Case, fixture_bytes) -> dict[str, tuple[bytes, str]]:
    """The case's routes with their bodies read or built."""
    return {
        path: (fixture_bytes(source) if isinstance(source, str) else source(fixture_bytes), content_type)
        for path, (source, content_type) in case.routes.items()
    }


def snapshot(app, feed_id: str) -> list[tuple]:
    """What a reader sees of every current item."""
    found = app.extensions["feedserver"].store.current_items(feed_id)
    return sorted((i.id, i.title, i.summary, i.category, i.area, i.starts) for i in found)


def feed_app(make_app, httpserver, kind: str):
    options = CASES[kind].options.format(base=httpserver.url_for("").rstrip("/"))
    return make_app(f'[feeds.cond]\nsource = "{kind}"\ntitle = "Conditional"\nevery = "1m"\n{options}\n')


WHOLLY_304_KINDS = ("abfallnavi", "csv", "ics", "jumomind")
HTTP_KINDS = sorted(k for k in source_kinds() if load_source(k).KIND != "announcements")


def test_every_source_kind_with_an_upstream_has_a_case():
    assert sorted(CASES) == HTTP_KINDS


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_every_poll_after_the_first_is_conditional_and_304s_keep_the_items(
    make_app, httpserver, fixture_bytes, kind
):
    upstream = RecordingUpstream(httpserver, documents(CASES[kind], fixture_bytes))
    app = feed_app(make_app, httpserver, kind)
    seen, results = [], []
    for poll in range(POLLS):
        with time_machine.travel(CASES[kind].now + timedelta(seconds=poll), tick=False):
            results.append(refresh_feed(app, "cond"))
        assert results[-1].ok, results[-1].line()
        seen.append(snapshot(app, "cond"))
    assert seen[0], f"{kind}: the recorded upstream should make items"
    assert all(items == seen[0] for items in seen[1:]), f"{kind}: items changed after 304s"
    by_url = upstream.by_url()
    assert all(len(flags) == POLLS for flags in by_url.values()), by_url  # every document, every poll
    assert all(not flags[0] and all(flags[1:]) for flags in by_url.values()), by_url
    conditional = sum(flag for flags in by_url.values() for flag in flags)
    assert conditional == (POLLS - 1) * len(by_url) > 0
    # All 304: "not modified" where the items depend on the documents alone, else parsed again (expiry,
    # data age are judged against the time of the poll) and found unchanged
    for result in results[1:]:
        assert result.not_modified == (kind in WHOLLY_304_KINDS) and not result.changes.any, result.line()


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_a_restart_without_remembered_bodies_fetches_in_full_and_keeps_the_items(
    make_app, httpserver, fixture_bytes, kind
):
    upstream = RecordingUpstream(httpserver, documents(CASES[kind], fixture_bytes))
    app = feed_app(make_app, httpserver, kind)
    with time_machine.travel(CASES[kind].now, tick=False):
        assert refresh_feed(app, "cond").ok
        before = snapshot(app, "cond")
        bodies.clear()  # what a new process starts with
        upstream.requests.clear()
        result = refresh_feed(feed_app(make_app, httpserver, kind), "cond")
    assert result.ok, result.line()
    assert snapshot(app, "cond") == before
    # Only validators stored with the feed survive (a single-document source's); nothing else is asked
    # conditionally, since a 304 would leave nothing to parse.
    assert all(conditional == (kind in ("ics", "csv")) for _, conditional in upstream.requests)


def test_an_alert_that_expires_while_its_document_answers_304_leaves_the_feed(
    make_app, httpserver, fixture_bytes
):
    case = CASES["cap"]
    served = documents(case, fixture_bytes)
    soon = case.now + timedelta(hours=1)
    alert = CRAFTED_ALERT.format(expires=soon.isoformat()).encode()
    served["/cap/crafted.xml"] = (alert, "application/cap+xml")
    upstream = RecordingUpstream(httpserver, served)
    app = feed_app(make_app, httpserver, "cap")
    with time_machine.travel(case.now, tick=False):
        assert refresh_feed(app, "cond").ok
    titles = [title for _, title, *_ in snapshot(app, "cond")]
    assert "Amtliche WARNUNG vor HITZE" in titles
    with time_machine.travel(soon + timedelta(minutes=1), tick=False):
        assert refresh_feed(app, "cond").ok
    assert "Amtliche WARNUNG vor HITZE" not in [title for _, title, *_ in snapshot(app, "cond")]
    assert all(conditional for _, conditional in upstream.requests[len(served) :])


def test_remembered_bodies_are_bounded_in_bytes_least_recently_used_first_out():
    memory = Bodies(limit=10)
    memory.put("a", Remembered({"etag": '"a"'}, b"aaaa", "text/plain"))
    memory.put("b", Remembered({"etag": '"b"'}, b"bbbb", "text/plain"))
    assert memory.get("a") is not None  # now the most recently used
    memory.put("c", Remembered({"etag": '"c"'}, b"cccc", "text/plain"))
    assert memory.get("b") is None and memory.get("a").body == b"aaaa" and memory.size == 8
    memory.put("huge", Remembered({}, b"x" * 11, "text/plain"))
    assert memory.get("huge") is None and memory.size == 8


def test_only_validators_of_urls_still_fetched_are_kept(httpserver, http):
    httpserver.expect_request("/now.ics").respond_with_data("x", headers={"ETag": '"n"'})
    http.validators["http://gone.example/old.ics"] = {"etag": '"o"'}
    http.get(httpserver.url_for("/now.ics"), conditional=True)
    assert http.validators_in_use() == {httpserver.url_for("/now.ics"): {"etag": '"n"'}}
