"""A server with one feed of every kind for the JSON API tests: waste, air, transit, alerts, failing, new.

Waste, transit and alerts go the real path (recorded payloads served over HTTP on 127.0.0.1, then
`refresh`); the air readings are built with the air module and stored with `store.apply_items`, because the
UBA source would need a frozen clock to match its recorded window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedserver.items import FeedInfo
from feedserver.pipeline import normalize
from kinds.air.vocabulary import AirItems, Reading, Station, thresholds_for
from tests.conftest import FIXTURES, refresh_feed

PROTOBUF = "application/x-protobuf"
CAP_DOCUMENTS = ("cap12_appendix_a1.xml", "cap12_appendix_a4.xml", "ipaws_nv_cancel_signed.cap12.xml")


def serve_upstreams(server) -> dict[str, str]:
    """Serve the recorded payloads; return the URLs the feed tables use."""
    ics = (FIXTURES / "ics" / "erlensee_am_haspel_mh-online.ics").read_bytes()
    server.expect_request("/abfall.ics").respond_with_data(ics, content_type="text/calendar")
    server.expect_request("/broken.ics").respond_with_data("upstream down", status=500)
    for name, fixture in (
        ("trip_updates", "bart-trip-updates.pb"),
        ("alerts", "bart-alerts.pb"),
        ("static", "bart-rt.zip"),
    ):
        body = (FIXTURES / "gtfs_rt" / fixture).read_bytes()
        server.expect_request(f"/{name}").respond_with_data(
            body, content_type="application/zip" if name == "static" else PROTOBUF
        )
    entries = ""
    for n, name in enumerate(CAP_DOCUMENTS):
        server.expect_request(f"/cap/{name}").respond_with_data(
            (FIXTURES / "cap" / name).read_bytes(), content_type="application/cap+xml"
        )
        href = server.url_for(f"/cap/{name}")
        entries += (
            f"<entry><id>urn:test:{n}</id><title>t</title><updated>2023-06-23T11:00:00Z</updated>"
            f'<link rel="alternate" type="application/cap+xml" href="{href}"/></entry>'
        )
    index = f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>i</title>{entries}</feed>'
    server.expect_request("/cap.atom").respond_with_data(index, content_type="application/atom+xml")
    return {name: server.url_for(f"/{name}") for name in ("abfall.ics", "broken.ics", "cap.atom")} | {
        f"{name}_url": server.url_for(f"/{name}") for name in ("trip_updates", "alerts", "static")
    }


def feed_tables(urls: dict[str, str]) -> str:
    """One feed of every kind, plus one whose upstream fails and one never fetched."""
    return f"""
[feeds.waste-town]
source = "ics"
title = "Abfuhr Am Haspel"
attribution = "Stadt Erlensee"
url = "{urls["abfall.ics"]}"

[feeds.air-mitte]
source = "uba_air"
title = "Luft Mitte"
licence = "dl-de/zero-2-0"
attribution = "Umweltbundesamt"
station = "DEBE034"

[feeds.transit-bart]
source = "gtfs_rt"
title = "BART"
licence = "cc-by-4.0"
trip_updates_url = "{urls["trip_updates_url"]}"
alerts_url = "{urls["alerts_url"]}"
static_url = "{urls["static_url"]}"
stale_after = "1d"

[feeds.alerts-cap]
source = "cap"
title = "Warnungen"
url = "{urls["cap.atom"]}"

[feeds.waste-broken]
source = "ics"
title = "Kaputt"
url = "{urls["broken.ics"]}"

[feeds.waste-new]
source = "ics"
title = "Neu"
url = "{urls["abfall.ics"]}"
"""


def air_items(now: datetime):
    """48 hourly ozone means ending at the last full hour, crossing the 180 µg/m³ information threshold."""
    info = FeedInfo(id="air-mitte", title="Luft Mitte", language="de", timezone="Europe/Berlin")
    end = now.replace(minute=0, second=0, microsecond=0)
    values = [100 + 5 * (n % 20) for n in range(48)]  # peaks at 195
    readings = [
        Reading(end - timedelta(hours=48 - n), end - timedelta(hours=47 - n), float(v))
        for n, v in enumerate(values)
    ]
    builder = AirItems(info, thresholds_for(["o3"], None), 3 * 3600, daily=False)
    return builder.build(Station("DEBE034", "Berlin Mitte"), {"o3": readings}, now)


def ingest(app, feed_id: str, items, now: datetime | None = None) -> None:
    """Store items for a feed as one successful refresh would."""
    now = now or datetime.now(UTC)
    store = app.extensions["feedserver"].store
    store.record_attempt(feed_id, app.extensions["feedserver"].settings.feeds[feed_id].source, now)
    store.apply_items(feed_id, normalize(list(items)), {}, now)


def populate(app) -> None:
    """Poll every fetchable feed once (the failing one fails) and store the air readings."""
    for feed_id in ("waste-town", "transit-bart", "alerts-cap"):
        assert refresh_feed(app, feed_id).ok, feed_id
    assert not refresh_feed(app, "waste-broken").ok
    ingest(app, "air-mitte", air_items(datetime.now(UTC)))
