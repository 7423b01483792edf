"""/openapi.json and /api/docs (the same document as an HTML page, with the server's own stylesheet)."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request

from ..common import not_modified, runtime
from .docs_model import docs_model
from .http import add_cors
from .spec import build_spec

bp = Blueprint("api_docs", __name__)
DOCS_MAX_AGE = 300
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # only ETags validate these documents
_lock = threading.Lock()


def spec_document() -> dict:
    """The app's OpenAPI document, built once (after every blueprint is registered)."""
    store = current_app.extensions["feedserver_api"]
    with _lock:
        if "spec" not in store:
            body = json.dumps(build_spec(current_app), ensure_ascii=False, indent=1).encode()
            store["spec"] = (json.loads(body), body, f'"{hashlib.sha256(body).hexdigest()[:40]}"')
    return store["spec"]


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of the API."""
    _, body, etag = spec_document()
    return _static(body, etag, "application/json")


@bp.get("/api/docs")
def api_docs():
    """Human documentation rendered from the OpenAPI document."""
    document, _, etag = spec_document()
    html = render_template("api_docs.html", model=docs_model(document), server=runtime().settings.server)
    return _static(html.encode(), f'"{hashlib.sha256(html.encode()).hexdigest()[:40]}"', "text/html")


def _static(body: bytes, etag: str, media_type: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={DOCS_MAX_AGE}"}
    if request.headers.get("If-None-Match") is not None and not_modified(etag, EPOCH):
        response = Response(status=304, headers=headers)
    else:
        response = Response(body, headers=headers, content_type=f"{media_type}; charset=utf-8")
    return add_cors(response) if media_type == "application/json" else response
