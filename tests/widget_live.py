"""A running feedserver for the browser tests: real HTTP on 127.0.0.1, one feed of every widget view.

Upstreams are recorded payloads served by pytest-httpserver: a waste calendar (ICS), UBA air readings
scripted for the last 48 hours, BART's GTFS-RT feeds, CAP alerts (one in force, one expired) and the
editorial desk (an announcement and a crisis notice).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from pytest_httpserver import HTTPServer
from werkzeug import Response
from werkzeug.serving import make_server

from tests.conftest import FIXTURES, refresh_feed, write_config
from tests.desk_support import ANNOUNCEMENT_FEEDS, bearer, staff
from tests.test_air_feed import Upstream as AirUpstream
from tests.test_transit_feed import FRESH, Bart

CHROMIUM = Path("/usr/bin/chromium")
CALENDAR = "ics/erlensee_am_haspel_mh-online.ics"
STATIONS = "uba_air/uba_v2_stations_2024_en.json"
CAP_IN_FORCE = "cap/cap12_appendix_a1.xml"  # no expiry: in force
CAP_EXPIRED = "cap/cap12_appendix_a2.xml"  # expired in 2003
# The DWD's warning in eight languages, its <expires> taken out so that it stays in force (the widget.js test
# of an alert's English info block on a German feed); a feed outside FEEDS, polled once like them.
CAP_LANGUAGES = "cap/2.49.0.0.276.0.DWD.PVW.1687511640000.0d1a4fb5-251a-46fc-aae3-a688d2021e71.MUL.xml"
MULTILINGUAL = "warnungen"
FEEDS = {  # feed id -> the view its widget shows
    "waste": "pickups",
    "air": "air",
    "transit": "delays",
    "alerts": "alerts",
    "alerts-calm": "alerts",
    "presse": "latest",
    "requests": "requests",
}
ANNOUNCEMENT = "Stadtfest am Markt"
CRISIS = "Hochwasser: Altstadt meiden"


def require_chromium() -> None:
    """Skip without Debian's chromium and playwright, except in CI, where their absence is a failure."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium; `make test` does it as root or with CI=true)")
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright and axe-playwright-python (pip install -e '.[test]')")
    if missing and os.environ.get("CI") == "true":
        pytest.fail("CI=true but the browser tests cannot run: missing " + "; ".join(missing))
    if missing:
        pytest.skip("headless Chromium tests need " + "; ".join(missing))


@dataclass
class Live:
    """The running server and what it serves."""

    base: str
    app: object
    upstream: HTTPServer


def feeds_config(upstream: HTTPServer) -> str:
    """config.toml tables for one feed of each kind, all reading from the local upstream."""
    url = upstream.url_for
    return f"""
[feeds.waste]
source = "ics"
title = "Abfuhrtermine Erlensee"
place = "Erlensee"
every = "6h"
attribution = "Stadt Erlensee"
url = "{url("/abfall.ics")}"

[feeds.air]
source = "uba_air"
title = "Luft Berlin Neukölln"
place = "Berlin"
every = "1h"
station = "DEBE034"
components = ["o3", "no2"]
base_url = "{url("/")}"

[feeds.transit]
source = "gtfs_rt"
title = "BART delays"
language = "en"
every = "1m"
trip_updates_url = "{url("/tu.pb")}"
alerts_url = "{url("/alerts.pb")}"
static_url = "{url("/gtfs.zip")}"

[feeds.alerts]
source = "cap"
title = "Warnings"
language = "en"
url = "{url("/cap-in-force.xml")}"

[feeds.requests]
source = "open311"
title = "Mängelmelder"
every = "10m"
endpoint = "{url("/georeport/v2")}"

[feeds.alerts-calm]
source = "cap"
title = "Warnungen (keine aktiv)"
url = "{url("/cap-expired.xml")}"

[feeds.{MULTILINGUAL}]
source = "cap"
title = "Unwetterwarnungen"
url = "{url("/cap-dwd.xml")}"
{ANNOUNCEMENT_FEEDS}"""


def serve_upstreams(upstream: HTTPServer) -> None:
    """Recorded payloads; air readings for the 48 hours up to now, ozone above 180 µg/m³ last."""
    read = lambda relative: (FIXTURES / relative).read_bytes()  # noqa: E731
    upstream.expect_request("/abfall.ics").respond_with_data(read(CALENDAR), content_type="text/calendar")
    upstream.expect_request("/cap-in-force.xml").respond_with_data(
        read(CAP_IN_FORCE), content_type="text/xml"
    )
    upstream.expect_request("/cap-expired.xml").respond_with_data(read(CAP_EXPIRED), content_type="text/xml")
    unending = re.sub(rb"<expires>[^<]*</expires>", b"", read(CAP_LANGUAGES))
    upstream.expect_request("/cap-dwd.xml").respond_with_data(unending, content_type="text/xml")
    air = AirUpstream()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for back in range(48, 0, -1):
        start = hour - timedelta(hours=back)
        air.ozone[start] = 60.0 + 130.0 * max(0.0, 1 - abs(back - 14) / 12) + back % 5
        air.no2[start] = 20.0 + back % 7
    upstream.expect_request("/stations/json").respond_with_data(
        read(STATIONS), content_type="application/json"
    )
    upstream.expect_request("/measures/json").respond_with_handler(air.handle)
    bart = Bart(lambda relative: read(relative))
    for path, part in (("/tu.pb", "trip_updates"), ("/alerts.pb", "alerts")):
        upstream.expect_request(path).respond_with_handler(
            lambda _request, part=part: Response(getattr(bart, part), content_type="application/x-protobuf")
        )
    upstream.expect_request("/gtfs.zip").respond_with_handler(bart.serve_static)
    for name, recorded in (("services", "services.json"), ("requests", "requests-in-progress.json")):
        upstream.expect_request(f"/georeport/v2/{name}.json").respond_with_data(
            read(f"open311/markaspot/{recorded}"), content_type="application/json"
        )


def post_announcements(app) -> None:
    """An announcement and a crisis notice in the press office's feed, each approved by a second person."""
    tokens = staff(app)
    client = app.test_client()
    for title, crisis in ((ANNOUNCEMENT, False), (CRISIS, True)):
        body = {"feed": "presse", "title": title, "text": "Details folgen.", "crisis": crisis}
        if crisis:
            body["targets"] = ["presse"]
        created = client.post("/api/v1/desk/announcements", json=body, headers=bearer(tokens["paul"]))
        assert created.status_code == 201, created.data
        approved = client.post(
            f"/api/v1/desk/announcements/{created.get_json()['id']}/approve",
            json={"version": 1},
            headers=bearer(tokens["anna"]),
        )
        assert approved.status_code == 200, approved.data


def start(tmp_path: Path) -> tuple[Live, callable]:
    """Poll every feed once, then serve the app on a free port; returns the server and its stop function."""
    from feedserver.app import create_app

    upstream = HTTPServer(host="127.0.0.1", port=0)
    upstream.start()
    serve_upstreams(upstream)
    server = make_server("127.0.0.1", 0, lambda env, respond: [], threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    config = write_config(tmp_path, feeds_config(upstream))
    config.write_text(config.read_text().replace("http://127.0.0.1:8000", base))
    app = create_app(config)
    post_announcements(app)
    for feed_id in (*FEEDS, MULTILINGUAL):
        if feed_id == "transit":  # BART's recording is from 2019: poll it at its own time
            with time_machine.travel(FRESH, tick=False):
                result = refresh_feed(app, feed_id)
        else:
            result = refresh_feed(app, feed_id)
        assert result.ok, (feed_id, result.error)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        upstream.stop()

    return Live(base, app, upstream), stop
