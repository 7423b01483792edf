"""The server of the golden-file test: a feed of every source kind, fed its recorded payloads over HTTP from
one test upstream on 127.0.0.1 (a path prefix per source), refreshed and read at an instant its data fits.

The city's own feeds (waste calendars, the desk's announcements) share one instant, CITY; the server-wide
pages are read then too. The filter queries use values found in the data, an alias or two among them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import time_machine

from feedserver.config import FeedSettings, from_mapping
from tests.api_support import serve_upstreams
from tests.conftest import FIXTURES, refresh_feed
from tests.desk_support import ANNOUNCEMENT_FEEDS, CALENDAR, add_user, publish, token_for
from tests.desk_support import NOW as CITY
from tests.test_source_abfallnavi import AACHEN_PLACE, ABTEIPLATZ, ABTEIPLATZ_7, fraktion_query
from tests.test_source_jumomind import API as JUMOMIND_API
from tests.test_source_jumomind import SERVICES as JUMOMIND
from tests.test_source_nina import DASHBOARD, DETAILS, REGION
from tests.test_source_nina import NOW as NINA
from tests.test_source_openaq import LOCATION, MEASUREMENTS, ozone_ppm
from tests.test_source_openaq import NOW as OPENAQ
from tests.test_source_uba_air import AFTER_SAMPLE, AIRQUALITY, STATIONS
from tests.test_transit_feed import FRESH as BART

HAFAS = datetime.fromtimestamp(1635410055, UTC) + timedelta(seconds=20)  # the board's realtime time
CAP = datetime(2019, 4, 19, 18, 0, tzinfo=UTC)  # after the IPAWS cancel; the OASIS examples never expire
# what write_config says besides the feeds, as far as reading the feeds needs it
SERVER = '[server]\nlicence = "dl-de/by-2-0"\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'


@dataclass(frozen=True)
class Feed:
    """A feed of the golden server: its id, the instant of its refresh and reads, its filter queries."""

    id: str
    at: datetime
    queries: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()  # station/component of the air widget's charts
    items: bool = True  # has items (so the API's first page of one has a next)


FEEDS = (
    Feed("waste-ics", CITY, ("category=residual", "category=organic,papier")),
    Feed("waste-csv", CITY, ("category=packaging", "area=Charleroi", "area=charleroi&category=paper")),
    Feed(
        "waste-abfallnavi",
        CITY,
        ("category=packaging", "area=A11", "area=A10,A12&category=paper,christmas-tree"),
    ),
    Feed("waste-jumomind", CITY, ("category=garden", "category=Restm%C3%BCll")),
    Feed(
        "air-uba",
        AFTER_SAMPLE,
        ("component=o3", "station=Berlin%20Neuk%C3%B6lln", "min_value=45", "component=o3&min_value=48"),
        ("DEBE034/o3", "DEBE034/no2", "DEBE034/pm10"),
    ),
    Feed(
        "air-openaq",
        OPENAQ,
        ("component=o3", "component=pm2.5", "station=2178&min_value=180"),
        ("2178/pm2.5", "2178/o3"),
    ),
    Feed(
        "transit-bart",
        BART,
        ("line=Green", "stop=MONT", "stop=Montgomery%20St.&min_delay=20", "type=alert", "line=99X"),
    ),
    Feed("transit-hafas", HAFAS, ("type=cancellation", "line=M5,M8", "stop=900110004&min_delay=4")),
    Feed("alerts-cap", CAP, ("category=severe", "category=minor", "area=Los%20Angeles%20County")),
    Feed("alerts-nina", NINA, ("category=moderate", "category=minor,moderate")),
    Feed("presse", CITY),
    Feed("bauamt", CITY, items=False),  # an announcements feed with nothing published: every format empty
)


def feed_tables(up: str, bart: dict[str, str]) -> str:
    """The [feeds] tables besides the desk's; `up` is the test upstream, `bart` api_support's URLs."""
    return f"""
[feeds.waste-ics]
source = "ics"
title = "Abfuhr Dornburg"
attribution = "AWB Limburg-Weilburg"
url = "{up}/ics/abfall.ics"

[feeds.waste-csv]
source = "csv"
title = "Collectes Charleroi"
language = "en"
url = "{up}/csv/exports/csv"
columns = {{ date = "date", type = "type", area = "commune" }}
categories = {{ "V / PC" = "paper" }}

[feeds.waste-abfallnavi]
source = "abfallnavi"
title = "Abfuhr Abteiplatz 7"
service = "aachen"
place = "Aachen"
street = "Abteiplatz"
house_number = "7"
base_url = "{up}/abfallnavi"

[feeds.waste-jumomind]
source = "jumomind"
title = "Abfuhr Bad Homburg"
service = "hom"
city_id = 1
area_id = 411
base_url = "{up}{JUMOMIND_API}"

[feeds.air-uba]
source = "uba_air"
title = "Luft Berlin Neukölln"
licence = "dl-de/zero-2-0"
attribution = "Umweltbundesamt"
station = "DEBE034"
endpoint = "airquality"
components = ["o3", "no2", "pm10"]
thresholds = {{ o3 = {{ info = 45, alert = 49 }} }}
daily_summary = true
base_url = "{up}/uba"

[feeds.air-openaq]
source = "openaq"
title = "Air Albuquerque"
language = "en"
licence = "cc-by-4.0"
location_id = 2178
components = ["pm25", "o3"]
base_url = "{up}/openaq"

[feeds.transit-bart]
source = "gtfs_rt"
title = "BART delays"
language = "en"
every = "1m"
trip_updates_url = "{bart["trip_updates_url"]}"
alerts_url = "{bart["alerts_url"]}"
static_url = "{bart["static_url"]}"

[feeds.transit-hafas]
source = "hafas"
title = "Abfahrten Landsberger Allee"
every = "1m"
base_url = "{up}/hafas/departures"
min_delay = 3

[feeds.alerts-cap]
source = "cap"
title = "Alerts"
language = "en"
url = "{bart["cap.atom"]}"

[feeds.alerts-nina]
source = "nina"
title = "Warnungen Landkreis Esslingen"
region = "{REGION[:5]}"
base_url = "{up}/nina"
"""


def config_text(up: str, bart: dict[str, str]) -> str:
    """Every feed's table: those above and desk_support's two announcements feeds (presse, bauamt)."""
    return feed_tables(up, bart) + ANNOUNCEMENT_FEEDS


def feed_settings() -> dict[str, FeedSettings]:
    """The feeds as the server reads them (upstream addresses aside), for the list of their formats."""
    names = ("trip_updates_url", "alerts_url", "static_url", "cap.atom")
    nowhere = dict.fromkeys(names, "http://127.0.0.1:1/")
    raw = tomllib.loads(SERVER + config_text("http://127.0.0.1:1", nowhere))
    return from_mapping(raw).feeds


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def serve(server, path: str, body: bytes, content_type: str = "application/json", **match) -> None:
    server.expect_request(path, **match).respond_with_data(body, content_type=content_type)


def serve_waste(server) -> None:
    """The calendar, the Charleroi CSV export, Aachen's AbfallNavi address walk and Bad Homburg's MyMüll."""
    serve(server, "/ics/abfall.ics", fixture(CALENDAR), "text/calendar; charset=utf-8")
    csv = fixture("csv/wallonia_ods_calendrier-des-collectes-2026_charleroi.csv")
    serve(server, "/csv/exports/csv", csv, "text/csv; charset=utf-8")
    street = fixture("abfallnavi/aachen_strassen_11718098_Abteiplatz.json")
    fraktionen = fixture("abfallnavi/aachen_fraktionen.json")
    serve(server, "/abfallnavi/orte", fixture("abfallnavi/aachen_orte.json"))
    streets = json.dumps([{**json.loads(street), "hausNrList": []}]).encode()
    serve(server, f"/abfallnavi/orte/{AACHEN_PLACE}/strassen", streets)
    serve(server, f"/abfallnavi/strassen/{ABTEIPLATZ}", street)
    serve(server, "/abfallnavi/fraktionen", fraktionen)
    termine = fixture("abfallnavi/aachen_hausnummern_11718105_termine.json")
    path = f"/abfallnavi/hausnummern/{ABTEIPLATZ_7}/termine"
    serve(server, path, termine, query_string=fraktion_query(fraktionen))
    city, area, trash, dates = JUMOMIND["hom"]
    place = {"city_id": city, "area_id": area}
    for query, name in (({"r": "trash"}, trash), ({"r": "dates/0", "ws": "3"}, dates)):
        serve(server, JUMOMIND_API, fixture(f"jumomind/{name}"), query_string=query | place)


def serve_air(server) -> None:
    """UBA's station list and its recorded January sample; OpenAQ's location, PM2.5 and an ozone episode."""
    serve(server, "/uba/stations/json", fixture(STATIONS))
    serve(server, "/uba/airquality/json", fixture(AIRQUALITY))
    serve(server, "/openaq/v3/locations/2178", fixture(LOCATION))
    serve(server, "/openaq/v3/sensors/3920/measurements", fixture(MEASUREMENTS))
    serve(server, "/openaq/v3/sensors/3917/measurements", ozone_ppm(0.080, 0.095, 0.130, 0.060))


def serve_all(server) -> str:
    """Serve every recorded payload; return the [feeds] tables that read them."""
    serve_waste(server)
    serve_air(server)
    serve(server, "/hafas/departures", fixture("hafas/hafas-mgate-bvg-arrivals.json"))
    for warning_id, detail in json.loads(fixture(DETAILS)).items():
        serve(server, f"/nina/warnings/{warning_id}.json", json.dumps(detail).encode())
    serve(server, f"/nina/dashboard/{REGION}.json", fixture(DASHBOARD))
    return config_text(server.url_for("").rstrip("/"), serve_upstreams(server))  # BART and the CAP index


def refresh_all(app) -> None:
    """Each feed's first refresh through the pipeline, at its own instant; then the desk's posts."""
    for feed in FEEDS:
        with time_machine.travel(feed.at, tick=False):
            assert refresh_feed(app, feed.id).ok, feed.id
    with time_machine.travel(CITY, tick=False):
        announce(app)


def announce(app) -> None:
    """Paul writes, Anna approves: an event, a notice without a date, a storm warning on top of waste-ics."""
    add_user(app, "paul", "author", "presse")
    add_user(app, "anna", "approver", "presse")
    tokens = {name: token_for(app, name) for name in ("paul", "anna")}
    client = app.test_client()
    event = {"starts": "2026-11-28T10:00:00+01:00", "ends": "2026-11-28T18:00:00+01:00"}
    publish(client, tokens, link="https://example.org/stadtfest", **event)
    publish(client, tokens, title="Bürgerbüro geschlossen", text="Am Montag wegen Umzugs geschlossen.")
    storm = {"crisis": True, "targets": ["waste-ics"], "expires": (CITY + timedelta(hours=6)).isoformat()}
    publish(client, tokens, title="Sturmwarnung", text="Mülltonnen bitte sichern.", **storm)
