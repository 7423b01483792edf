"""The ceiling for the scale benchmark: a bare Flask app returning the same feed bytes, with ETag and 304.

gunicorn -c deploy/gunicorn.conf.py 'bench.bare_app:app' with BARE_BODY (a file) and BARE_ETAG set.
"""

import os
from pathlib import Path

from flask import Flask, Response, request

BODY = Path(os.environ["BARE_BODY"]).read_bytes()
ETAG = os.environ["BARE_ETAG"]
MEDIA_TYPE = os.environ.get("BARE_MEDIA_TYPE", "application/atom+xml; charset=utf-8")

app = Flask(__name__)


@app.get("/feeds/<feed_id>.<fmt>")
def feed(feed_id: str, fmt: str) -> Response:
    """The same bytes for any feed URL; 304 when If-None-Match names the ETag."""
    if request.headers.get("If-None-Match") == ETAG:
        return Response(status=304, headers={"ETag": ETAG})
    return Response(BODY, content_type=MEDIA_TYPE, headers={"ETag": ETAG})


@app.get("/healthz")
def healthz() -> Response:
    """Answers when the server is up."""
    return Response("ok")
