"""Hostile upstream text costs linear time: the sanitizer's patterns, every source's parse path, the budget.

A "<" followed by a long run of whitespace made the old markup patterns backtrack quadratically: 20 000
spaces took 2 s in plain_text, a 360 KB calendar kept a refresh busy for 170 s. The bounds asserted here are
generous wall-clock limits, 10-100x above what linear code needs and far below what the old code took.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from google.transit import gtfs_realtime_pb2 as rt
from werkzeug import Response

from feedserver import budget
from feedserver.errors import ParseError
from feedserver.registry import load_source, source_kinds
from sources.uba_air import CET
from tests.conftest import refresh_feed
from tests.services import ROOT

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SPACES = 60_000
# What the reproductions used: "<", a long whitespace run, then a letter that lets the old patterns try
# every split of the run. U+2003 (em space) is whitespace to them too, and CAP's own clean-up of multi-line
# texts collapses ASCII spaces but not it.
HOSTILE = "<" + "\u2003" * SPACES + "x"
REFRESH_BOUND = 10.0  # seconds; linear code needs well under one, the old code minutes


def hostile_texts(size: int) -> dict[str, str]:
    """Inputs of about `size` characters that made a backtracking pattern quadratic or worse."""
    return {
        "lt-spaces-letter": "<" + " " * size + "x",
        "lt-em-spaces": "<" + "\u2003" * size,
        "end-tag-spaces": "<" + " " * (size // 2) + "/" + " " * (size // 2) + "x",
        "unclosed-breaks-then-a-tag": "<br " * (size // 4) + "<b>x</b>",
        "unclosed-tags-then-a-tag": "<a " * (size // 3) + "<b>x</b>",
        "many-lt-space-runs": ("<" + " " * 1000 + "x") * (size // 1002),
    }


CHILD = """
import json, sys, time
from feedserver.fetch import Payload, looks_like_html
from feedserver.sanitize import plain_text
from feedserver.web.api.data import URL_QUERY
from tests.test_linear_time import hostile_texts

def timed(call, value):
    started = time.perf_counter()
    call(value)
    return time.perf_counter() - started

size = int(sys.argv[1])
seconds = {name: timed(plain_text, value) for name, value in hostile_texts(size).items()}
comments = Payload(b"<!-- -->" * 512 + b"<p>", "http://x", content_type="application/xml")
seconds["html-start-comments"] = timed(looks_like_html, comments)
seconds["url-query-error"] = timed(lambda text: URL_QUERY.sub("", text), "a.a." * 250)
print(json.dumps(seconds))
"""


@pytest.mark.parametrize(("size", "bound"), [(200_000, 1.0), (1_000_000, 3.0)])
def test_plain_text_and_fetch_patterns_are_linear_on_hostile_text(size, bound):
    # A separate process: a backtracking pattern holds the GIL in C, so only a process can be given up on.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(size)], cwd=ROOT, env=env, capture_output=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hostile text of {size} characters was not made plain within 60 s")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    seconds = json.loads(done.stdout)
    slow = {name: round(spent, 3) for name, spent in seconds.items() if spent >= bound}
    assert not slow, f"more than {bound} s for {size} characters: {slow}"


def gtfs_alerts(text: str) -> bytes:
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = int(NOW.timestamp())
    alert = message.entity.add(id="a1").alert
    alert.header_text.translation.add(text=text, language="de")
    alert.description_text.translation.add(text=text, language="de")
    alert.informed_entity.add(route_id="r1")
    return message.SerializeToString()


def cap_alert(text: str) -> bytes:
    escaped = text.replace("<", "&lt;")
    fields = "".join(f"<{name}>{escaped}</{name}>" for name in ("event", "headline", "description"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>h1</identifier><sender>s@x</sender>
<sent>2026-11-21T10:00:00+01:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>de-DE</language><category>Safety</category>{fields}<urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Observed</certainty><expires>2099-01-01T00:00:00+00:00</expires>
<instruction>{escaped}</instruction><area><areaDesc>{escaped}</areaDesc></area></info></alert>""".encode()


def nina_warning(text: str) -> dict:
    info = {"language": "de-DE", "event": text, "headline": text, "description": text, "instruction": text}
    info |= {"severity": "Severe", "urgency": "Immediate", "certainty": "Observed"}
    info |= {"expires": "2099-01-01T00:00:00+00:00", "area": [{"areaDesc": text}]}
    return {"identifier": "h1", "sender": "s", "sent": "2026-11-21T10:00:00+01:00", "status": "Actual"} | {
        "msgType": "Alert",
        "scope": "Public",
        "info": [info],
    }


def uba_measures() -> dict:
    start, end = (f"{moment.astimezone(CET):%Y-%m-%d %H}:00:00" for moment in (NOW - HOUR, NOW))
    return {"request": {}, "indices": {}, "data": {"145": {start: [3, 2, 100, end, 1]}}}


def hostile_upstream(kind: str, text: str) -> tuple[str, dict[str, tuple[bytes, str]]]:
    """(feed options, {path or path?query: (body, content type)}) of an upstream putting `text` in every
    free-text field the source reads."""
    as_json = "application/json"
    if kind == "ics":
        event = "".join(
            f"BEGIN:VEVENT\r\nUID:{n}@x\r\nDTSTART;VALUE=DATE:2026112{n + 3}\r\nSUMMARY:Restmüll\r\n"
            f"DESCRIPTION:{text}\r\nLOCATION:{text}\r\nEND:VEVENT\r\n"
            for n in range(3)
        )
        body = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{event}END:VCALENDAR\r\n"
        return 'url = "{base}/cal.ics"', {"/cal.ics": (body.encode(), "text/calendar")}
    if kind == "csv":
        body = f"Datum;Art;Gebiet\n2026-11-23;{text};{text}\n2026-11-24;Papier;{text}\n"
        columns = 'columns = {{ date = "Datum", type = "Art", area = "Gebiet" }}'
        return f'url = "{{base}}/t.csv"\n{columns}', {"/t.csv": (body.encode(), "text/csv")}
    if kind == "cap":
        return 'url = "{base}/cap.xml"', {"/cap.xml": (cap_alert(text), "application/cap+xml")}
    if kind == "nina":
        routes = {
            "/dashboard/081160000000.json": (b'[{"id": "h1"}]', as_json),
            "/warnings/h1.json": (json.dumps(nina_warning(text)).encode(), as_json),
        }
        return 'region = "081160000000"\nbase_url = "{base}"', routes
    if kind == "gtfs_rt":
        routes = {"/alerts.pb": (gtfs_alerts(text), "application/x-protobuf")}
        return 'alerts_url = "{base}/alerts.pb"\nstale_after = "1d"', routes
    if kind == "hafas":
        departure = {"tripId": "t1", "plannedWhen": "2026-11-21T13:10:00+01:00", "delay": 900}
        departure |= {"when": "2026-11-21T13:25:00+01:00", "line": {"id": "l1", "name": text}}
        departure |= {"direction": text, "stop": {"id": "s1", "name": text}}
        body = json.dumps({"departures": [departure], "realtimeDataUpdatedAt": int(NOW.timestamp())})
        routes = {"/stops/900000100001/departures": (body.encode(), as_json)}
        return 'base_url = "{base}"\nstop = "900000100001"\nstale_after = "1d"', routes
    if kind == "abfallnavi":
        termin = {"id": 4, "datum": "2026-11-23", "bezirk": {"id": 5, "name": text, "fraktionId": 3}}
        routes = {
            "/orte": (b'[{"id": 1, "name": "Aachen"}]', as_json),
            "/orte/1/strassen": (b'[{"id": 2, "name": "Abteiplatz"}]', as_json),
            "/strassen/2": (b'{"id": 2, "name": "Abteiplatz", "hausNrList": []}', as_json),
            "/fraktionen": (json.dumps([{"id": 3, "name": text, "farbeRgb": "ff0000"}]).encode(), as_json),
            "/strassen/2/termine": (json.dumps([termin | {"info": text}]).encode(), as_json),
        }
        return 'service = "aachen"\nplace = "Aachen"\nstreet = "Abteiplatz"\nbase_url = "{base}"', routes
    if kind == "jumomind":
        dates = [{"id": "1", "title": text, "trash_name": "rest", "day": "2026-11-23", "description": text}]
        routes = {
            "/api.php?r=trash": (json.dumps([{"name": "rest", "title": text}]).encode(), as_json),
            "/api.php?r=dates/0": (json.dumps(dates).encode(), as_json),
        }
        return 'service = "hom"\ncity_id = "1"\narea_id = "411"\nbase_url = "{base}/api.php"', routes
    if kind == "uba_air":
        stations = {"indices": [text], "data": {"145": ["145", "DEBE034", text]}}
        routes = {
            "/stations/json": (json.dumps(stations).encode(), as_json),
            "/measures/json": (json.dumps(uba_measures()).encode(), as_json),
        }
        return 'station = "DEBE034"\nbase_url = "{base}"', routes
    if kind == "open311":
        service = {"service_code": "1", "service_name": text}
        request = {
            "service_request_id": "4711",
            "service_code": "1",
            "requested_datetime": "2026-11-21T10:00:00+01:00",
            **{
                name: text
                for name in ("status", "status_notes", "description", "address", "agency_responsible")
            },
        }
        routes = {
            "/georeport/v2/services.json": (json.dumps([service]).encode(), as_json),
            "/georeport/v2/requests.json": (json.dumps([request]).encode(), as_json),
        }
        return 'endpoint = "{base}/georeport/v2"', routes
    if kind == "openaq":
        sensor = {"id": 7, "parameter": {"name": "o3", "units": "µg/m³"}}
        location = {"results": [{"id": 2178, "name": text, "sensors": [sensor]}]}
        period = {"datetimeFrom": {"utc": "2026-11-21T10:00:00Z"}}
        reading = {"period": period, "value": 100, "parameter": sensor["parameter"]}
        routes = {
            "/v3/locations/2178": (json.dumps(location).encode(), as_json),
            "/v3/sensors/7/measurements": (json.dumps({"results": [reading]}).encode(), as_json),
        }
        return 'location_id = 2178\nbase_url = "{base}"', routes
    raise AssertionError(f"no hostile upstream for {kind}")


HTTP_KINDS = sorted(k for k in source_kinds() if load_source(k).KIND != "announcements")


def serve(httpserver, routes: dict[str, tuple[bytes, str]]) -> None:
    """Answer every request from `routes` (a key with "?r=..." also matches on that query parameter)."""

    def answer(request):
        for key, (body, content_type) in routes.items():
            path, _, query = key.partition("?")
            name, _, value = query.partition("=")
            if request.path == path and (not query or request.args.get(name) == value):
                return Response(body, content_type=content_type)
        return Response("not found", status=404)

    httpserver.expect_request(re.compile(".*")).respond_with_handler(answer)


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_hostile_text_in_every_source_kind_is_parsed_in_linear_time(make_app, httpserver, kind):
    options, routes = hostile_upstream(kind, HOSTILE)
    serve(httpserver, routes)
    base = httpserver.url_for("").rstrip("/")
    app = make_app(f'[feeds.hostile]\nsource = "{kind}"\ntitle = "H"\n{options.format(base=base)}\n')
    with time_machine.travel(NOW, tick=True):
        started = time.monotonic()
        result = refresh_feed(app, "hostile")
        spent = time.monotonic() - started
    assert result.ok, result.line()
    items = app.extensions["feedserver"].store.current_items("hostile")
    assert items, f"{kind}: the hostile fields should still make items"
    assert spent < REFRESH_BOUND, f"{kind}: refresh took {spent:.1f} s"
    assert all(len(i.title) <= 300 and len(i.summary) <= 10_000 for i in items)


def test_every_http_source_kind_has_a_hostile_upstream():
    assert set(HTTP_KINDS) == {k for k in source_kinds() if load_source(k).KIND != "announcements"}
    for kind in HTTP_KINDS:
        hostile_upstream(kind, "x")  # raises for a kind without one


ICS_FEED = '[feeds.budget]\nsource = "ics"\ntitle = "B"\nurl = "{url}"\n'
FETCH_BUDGET = "parse_budget = 5\n"  # inside the [fetch] table write_config opens


def many_pickups(count: int) -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@x\r\nDTSTART;VALUE=DATE:{(NOW + timedelta(days=n + 1)):%Y%m%d}\r\n"
        f"SUMMARY:Restmüll\r\nEND:VEVENT\r\n"
        for n in range(count)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n".encode()


def test_a_parse_over_its_budget_fails_the_refresh_and_keeps_the_last_good_items(
    make_app, httpserver, monkeypatch
):
    httpserver.expect_request("/cal.ics").respond_with_data(many_pickups(40), content_type="text/calendar")
    app = make_app(ICS_FEED.format(url=httpserver.url_for("/cal.ics")), FETCH_BUDGET)
    store = app.extensions["feedserver"].store
    with time_machine.travel(NOW, tick=False):
        assert refresh_feed(app, "budget").ok
    good = [i.id for i in store.current_items("budget")]
    # a clock that advances one CPU second per look: the budget of 5 s is spent after a few items
    looks = iter(range(10_000))
    monkeypatch.setattr(budget, "_clock", lambda: float(next(looks)))
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        result = refresh_feed(app, "budget")
    assert not result.ok and "parsing took longer than 5 s" in result.error
    assert next(looks) < 20  # stopped between items, not after all 40
    state = store.feed_state("budget")
    assert state.stale_since is not None and state.failures == 1
    assert [i.id for i in store.current_items("budget")] == good


def test_the_budget_is_counted_only_inside_parse_budget(monkeypatch):
    looks = iter(range(100))
    monkeypatch.setattr(budget, "_clock", lambda: float(next(looks)))
    budget.spend()  # outside a budget: not even a look at the clock
    with budget.parse_budget(2):  # started at 0
        budget.spend()  # 1
        budget.spend()  # 2: used up, not over
        with pytest.raises(ParseError, match="parsing took longer than 2 s of CPU time"):
            budget.spend()
    budget.spend()
    assert next(looks) == 4
