"""A Web Push service on 127.0.0.1 (the part of RFC 8030 an application server talks to), and a browser's
subscription keys: what the tests need to receive a notification and decrypt it as the browser would."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import time

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """One browser's subscription: its key pair and auth secret (RFC 8291), at an address of the service."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict:
        """What PushSubscription.toJSON() gives."""
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64(point), "auth": b64(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        """The notification the service worker would get."""
        return json.loads(
            http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        )


class PushService:
    """Accepts pushes at /push/<token> (201), or answers what the test set for the next one."""

    def __init__(self):
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.start()
        self.received: queue.Queue = queue.Queue()
        self.answers: list[int] = []
        self.http.expect_request(re.compile(r"^/push/[^/]+$"), method="POST").respond_with_handler(self._push)

    @property
    def origin(self) -> str:
        """scheme://host:port of the service (what a VAPID token's audience names)."""
        return self.http.url_for("/").rstrip("/")

    def address(self, token: str) -> str:
        """A subscription's endpoint on this service."""
        return self.http.url_for(f"/push/{token}")

    def stop(self) -> None:
        self.http.clear()
        self.http.stop()

    def next(self, timeout: float = 10.0) -> tuple[str, dict, bytes]:
        """The next push received: (path, headers, body)."""
        return self.received.get(timeout=timeout)

    def _push(self, request: Request) -> Response:
        self.received.put((request.path, dict(request.headers), request.get_data()))
        status = self.answers.pop(0) if self.answers else 201
        return Response("", status=status)


def vapid_claims(headers: dict, public_key: str) -> dict:
    """Verify the VAPID Authorization header (RFC 8292) against the server's public key; its claims."""
    scheme, _, params = headers["Authorization"].partition(" ")
    assert scheme == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    assert values["k"] == public_key
    header, claims, signature = values["t"].split(".")
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(public_key))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    document = json.loads(unb64(claims))
    assert document["exp"] > time.time()
    return document
