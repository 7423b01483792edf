"""An Open311 GeoReport v2 server on 127.0.0.1 (wiki.open311.org/GeoReport_v2) answering recorded payloads.

`GET services.{json|xml}` and `GET requests.{json|xml}` under /georeport/v2, as Mark-a-Spot and FixMyStreet
serve them: the services and requests documents of one implementation (tests/fixtures/open311/), the
requests narrowed by `service_code` (comma-separated) and `status` as the spec defines. When the server has
an API key, a request without it is answered 401 with GeoReport's error list; an unknown `jurisdiction_id`
gets 404. A test moves a request on by serving another recorded step (`serve("requests-closed.json")`), or
makes the server fail (`failing = True`: a 502 HTML page from the proxy in front).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from xml.etree import ElementTree

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures" / "open311"
PATH = re.compile(r"^/georeport/v2/(?P<resource>services|requests)\.(?P<format>json|xml)$")
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class GeoReportServer:
    """One city's GeoReport endpoint, serving one implementation's recorded documents."""

    def __init__(self, implementation: str, api_key: str | None = None, jurisdiction: str | None = None):
        self.implementation, self.api_key, self.jurisdiction = implementation, api_key, jurisdiction
        self.format = "json" if (FIXTURES / implementation / "services.json").exists() else "xml"
        self.requests_name = f"requests.{self.format}"
        self.failing = False
        self.seen: list[dict[str, str]] = []  # the query of every GET, in order
        self._lock = threading.Lock()
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.expect_request(PATH, method="GET").respond_with_handler(self._get)
        self.http.start()

    @property
    def endpoint(self) -> str:
        """The GeoReport v2 base URL a feed is configured with."""
        return self.http.url_for("/georeport/v2")

    def serve(self, name: str) -> None:
        """Answer `GET requests` with another recorded document of this implementation from now on."""
        self.requests_name = name

    def stop(self) -> None:
        """Shut the server down."""
        self.http.clear()
        if self.http.is_running():
            self.http.stop()

    def _get(self, request: Request) -> Response:
        match = PATH.match(request.path)
        with self._lock:
            self.seen.append(dict(request.args))
        if self.failing:
            return Response("<html><body>502 Bad Gateway</body></html>", 502, content_type="text/html")
        if self.api_key is not None and request.args.get("api_key") != self.api_key:
            return _error(401, "Invalid api_key", match["format"])
        if self.jurisdiction is not None and request.args.get("jurisdiction_id") != self.jurisdiction:
            return _error(404, "jurisdiction_id not found", match["format"])
        if match["resource"] == "services":
            body = (FIXTURES / self.implementation / f"services.{self.format}").read_bytes()
        else:
            body = self._requests(request.args.get("service_code"), request.args.get("status"))
        return Response(body, 200, content_type=MEDIA[match["format"]])

    def _requests(self, codes: str | None, status: str | None) -> bytes:
        body = (FIXTURES / self.implementation / self.requests_name).read_bytes()
        wanted_codes = set(codes.split(",")) if codes else None
        wanted_status = set(status.split(",")) if status else None
        keep = lambda code, state: (  # noqa: E731
            (wanted_codes is None or code in wanted_codes)
            and (wanted_status is None or state in wanted_status)
        )
        if self.format == "json":
            found = [r for r in json.loads(body) if keep(r.get("service_code"), r.get("status"))]
            return json.dumps(found).encode()
        root = ElementTree.fromstring(body)
        for element in list(root):
            if not keep(element.findtext("service_code"), element.findtext("status")):
                root.remove(element)
        return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _error(status: int, description: str, fmt: str) -> Response:
    """GeoReport's error answer: a list of {code, description}."""
    if fmt == "json":
        return Response(
            json.dumps([{"code": status, "description": description}]), status, content_type=MEDIA[fmt]
        )
    body = f"<errors><error><code>{status}</code><description>{description}</description></error></errors>"
    return Response(f'<?xml version="1.0" encoding="utf-8"?>{body}', status, content_type=MEDIA[fmt])
