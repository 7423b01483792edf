"""The demo upstream: a small HTTP server on a loopback address replaying recorded upstream payloads.

Each path answers with one recorded payload, its times moved to the moment of the request (see the format
modules beside this one). Answers carry a strong ETag and honour If-None-Match, as real upstreams do, so the
conditional GETs of the production client are exercised too. It refuses to listen anywhere but loopback.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import calendars, cap, gtfs_rt, uba

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = DATA / "samples"  # the waste calendars, bundled since before the demo
DEMO = DATA / "demo"

log = logging.getLogger(__name__)


class DemoError(Exception):
    """The demo upstream cannot start as asked."""


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str


Replay = Callable[[datetime], Answer]


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


def _calendar(name: str) -> Replay:
    return lambda now: Answer(
        calendars.replay_calendar(_read(SAMPLES / name), now.date()), "text/calendar; charset=utf-8"
    )


def _uba_stations(now: datetime) -> Answer:
    return Answer(_read(DEMO / "uba" / "uba_v2_stations_2024_en.json"), "application/json")


def _uba_airquality(now: datetime) -> Answer:
    recorded = json.loads(_read(DEMO / "uba" / "uba_v2_airquality_station145_2024-01-01.json"))
    return Answer(uba.airquality(recorded, now), "application/json")


EBAS_OZONE = DEMO / "uba" / "FR0009R_ozone_2003-08-05_to_11.nas"


def _emep_stations(now: datetime) -> Answer:
    recorded = json.loads(_read(DEMO / "uba" / "uba_v2_stations_2024_en.json"))
    header = uba.ebas_header(_read(EBAS_OZONE).decode("utf-8"))
    return Answer(uba.station_list(recorded, header), "application/json")


def _emep_measures(now: datetime) -> Answer:
    text = _read(EBAS_OZONE).decode("utf-8")
    code = uba.ebas_header(text)["Station code"]
    return Answer(uba.measures(uba.ebas_values(text), code, now), "application/json")


def _gtfs_rt(name: str) -> Replay:
    return lambda now: Answer(
        gtfs_rt.replay_feed(_read(DEMO / "gtfs_rt" / name), now), "application/x-protobuf"
    )


def _bart_static(now: datetime) -> Answer:
    return Answer(gtfs_rt.static_zip(DEMO / "gtfs_rt" / "bart-static"), "application/zip")


def _dwd_bundle(now: datetime) -> Answer:
    recorded = _read(DEMO / "cap" / "Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip")
    return Answer(cap.replay_bundle(recorded, now), "application/zip")


CAP_EXAMPLES = {  # path name -> recorded file: the CAP 1.2 specification's examples and a real IPAWS Cancel
    "homeland-security.xml": "cap12_appendix_a1.xml",
    "thunderstorm.xml": "cap12_appendix_a2.xml",
    "earthquake-update.xml": "cap12_appendix_a3.xml",
    "amber-alert.xml": "cap12_appendix_a4.xml",
    "nevada-cancel.xml": "ipaws_nv_cancel_signed.cap12.xml",
}


def _cap_example(name: str) -> Replay:
    return lambda now: Answer(
        cap.replay_document(_read(DEMO / "cap" / CAP_EXAMPLES[name]), now), "application/cap+xml"
    )


ROUTES: dict[str, Replay] = {
    "/waste/dornburg.ics": _calendar("awb_limburg_weilburg_export.ics"),
    "/waste/erlensee.ics": _calendar("erlensee_am_haspel_mh-online.ics"),
    "/waste/aichwald.ics": _calendar("abfallplus_aichwald_test.ics"),
    "/uba/stations/json": _uba_stations,
    "/uba/airquality/json": _uba_airquality,
    "/emep/stations/json": _emep_stations,
    "/emep/measures/json": _emep_measures,
    "/gtfs-rt/bart/trip-updates.pb": _gtfs_rt("bart-trip-updates.pb"),
    "/gtfs-rt/bart/alerts.pb": _gtfs_rt("bart-alerts.pb"),
    "/gtfs-rt/bart/static.zip": _bart_static,
    "/cap/dwd/latest.zip": _dwd_bundle,
    **{f"/cap/examples/{name}": _cap_example(name) for name in CAP_EXAMPLES},
}


def _cap_index(base: str) -> Replay:
    links = [(name, f"{base}/cap/examples/{name}") for name in CAP_EXAMPLES]
    return lambda now: Answer(
        cap.atom_index("CAP 1.2 examples", f"{base}/cap/examples/index.atom", links, now),
        "application/atom+xml",
    )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        """The feed server logs its fetches itself; the replay stays silent."""


class DemoUpstream:
    """The replaying HTTP server, in a daemon thread of this process, on a loopback address only."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise DemoError(f"the demo upstream listens on loopback addresses only, not on {host!r}")
        self.host, self.port = host, port
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """host:port actually bound (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def start(self) -> DemoUpstream:
        """Bind and serve in a daemon thread; DemoError when the address cannot be bound."""
        try:
            self.server = make_server(
                self.host, self.port, self._app, threaded=True, request_handler=_QuietHandler
            )
        except OSError as exc:
            raise DemoError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
        self.port = self.server.server_port
        self.routes = {**ROUTES, "/cap/examples/index.atom": _cap_index(self.base_url)}
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-upstream", daemon=True)
        self.thread.start()
        log.info("demo upstream replaying recorded payloads on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> DemoUpstream:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _app(self, environ, start_response):
        request = Request(environ)
        replay = self.routes.get(request.path)
        if replay is None or request.method not in ("GET", "HEAD"):
            return Response("not found\n", 404, content_type="text/plain")(environ, start_response)
        answer = replay(datetime.now(UTC))
        tag = hashlib.sha256(answer.body).hexdigest()[:32]
        response = Response(answer.body, content_type=answer.content_type)
        response.set_etag(tag)
        response.headers["Cache-Control"] = "no-cache"
        return response.make_conditional(request)(environ, start_response)
