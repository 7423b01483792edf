"""/metrics for operators (Prometheus text format), and the count of answers per route class behind it.

Off unless `[metrics] enabled`; then only clients in `[metrics] allow` with the token, when one is set, get
it. Everyone else gets the same 404 as for any path that does not exist: the endpoint does not advertise
itself. With metrics off, no hook runs on any request.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from ..config.operations import MetricsSettings
from .common import runtime
from .problems import problem
from .security import route_class

bp = Blueprint("metrics", __name__)


def init_app(app: Flask, settings: MetricsSettings) -> None:
    """Register /metrics and the per-request count, only when metrics are on."""
    if not settings.enabled:
        return
    app.register_blueprint(bp)

    @app.after_request
    def count(response: Response) -> Response:
        metrics.observe_request(route_class(request.path), response.status_code)
        return response


@bp.get("/metrics")
def scrape():
    """The metrics, to allowed clients with the token only."""
    settings = runtime().settings.metrics
    if not _allowed(settings):
        return problem(404, "Not Found", "There is nothing at this address.")
    body = metrics.exposition(runtime().store.engine)
    return Response(body, headers={"Cache-Control": "no-store"}, content_type=CONTENT_TYPE_LATEST)


def _allowed(settings: MetricsSettings) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if not any(address in ipaddress.ip_network(net, strict=False) for net in settings.allow):
        return False
    if settings.token is None:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.token.encode())
