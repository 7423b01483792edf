"""/websub: this server's own WebSub hub, for every feed URL (filters included) and the catalogue."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..push.websub import HubRequestError, parse_request, request_verification
from .common import now, runtime
from .problems import problem

bp = Blueprint("websub", __name__)
FORM = "application/x-www-form-urlencoded"


@bp.post("/websub")
def hub():
    """Subscribe or unsubscribe (hub.mode, hub.topic, hub.callback, hub.lease_seconds, hub.secret): 202."""
    if request.mimetype != FORM:
        return problem(415, "Unsupported Media Type", f"Send the request as {FORM}.")
    try:
        hub_request = parse_request(current_app, runtime(), request.form)
    except HubRequestError as exc:
        title = "Bad Request" if exc.status == 400 else "Service Unavailable"
        response = problem(exc.status, title, exc.detail, parameter=exc.parameter)
        if exc.status == 503:
            response.headers["Retry-After"] = "60"
        return response
    request_verification(runtime(), hub_request, now())
    # The subscription changes once the callback has confirmed the intent (a GET with hub.challenge).
    return Response(status=202)
