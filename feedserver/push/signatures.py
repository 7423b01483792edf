"""HTTP Signatures (draft-cavage, rsa-sha256, with a SHA-256 Digest) as Mastodon and the fediverse use them.

Signing and verifying are httpsig's (the maintained `pyhttpsig` fork); this module adds what the draft leaves
to the server: which headers must be covered, the Digest of the body, the Date window, and refusing any
algorithm but RSA (an HMAC "signature" keyed with a public key would be forgeable by anyone).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from Crypto.PublicKey import RSA
from httpsig.sign import HeaderSigner
from httpsig.utils import HttpSigException, parse_signature_header
from httpsig.verify import HeaderVerifier
from werkzeug.datastructures import Headers

ALGORITHM = "rsa-sha256"
ACCEPTED_ALGORITHMS = ("rsa-sha256", "hs2019")  # hs2019: "see the key", which for an RSA key is rsa-sha256
SIGNED_POST = ("(request-target)", "host", "date", "digest")
SIGNED_GET = ("(request-target)", "host", "date")
MAX_AGE = timedelta(hours=12)  # as Mastodon: a signed request is good for 12 hours ...
MAX_SKEW = timedelta(hours=1)  # ... and may come from a clock up to an hour ahead
KEY_BITS = 2048


class SignatureError(Exception):
    """An incoming request is unsigned or its signature does not hold (answered 401)."""


@dataclass(frozen=True)
class PublicKey:
    """A remote actor's key: who owns it, and the PEM."""

    key_id: str
    owner: str
    pem: str


def new_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as (private PEM, public SPKI PEM)."""
    key = RSA.generate(KEY_BITS)
    return key.export_key("PEM").decode(), key.publickey().export_key("PEM").decode()


def digest(body: bytes) -> str:
    """The Digest header value of a body."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def sign(method: str, url: str, key_id: str, private_pem: str, body: bytes | None = None) -> dict[str, str]:
    """Host, Date, (Digest) and Signature headers for one request."""
    split = urlsplit(url)
    target = split.path or "/"
    if split.query:
        target += "?" + split.query
    headers = {"Host": split.netloc, "Date": format_datetime(datetime.now(UTC), usegmt=True)}
    covered = SIGNED_GET
    if body is not None:
        headers["Digest"] = digest(body)
        covered = SIGNED_POST
    signer = HeaderSigner(
        key_id, private_pem, algorithm=ALGORITHM, headers=list(covered), sign_header="signature"
    )
    signed = signer.sign(headers, host=split.netloc, method=method, path=target)
    headers["Signature"] = signed["signature"]
    return headers


def precheck(method: str, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
    """The keyId of a request whose Signature is well-formed, covers what it must, is fresh and whose Digest
    matches the body: everything that can be checked without the key (SignatureError otherwise)."""
    return _checked(method, Headers(headers), body, now)[0]["keyId"]


def signed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a signature covers, and the Signature itself: all a later verification needs."""
    headers = Headers(headers)
    params = _signature_params(headers)
    names = [n for n in params["headers"].lower().split() if not n.startswith("(")]
    return {name: headers.get(name, "") for name in [*names, "signature"]}


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    key_for: Callable[[str, bool], PublicKey],
    now: datetime,
) -> PublicKey:
    """Check a request's signature; the signing key (and so its owner), or SignatureError.

    `key_for(key_id, refresh)` fetches the key; a failed check is tried once more with a fresh key, since the
    remote actor may have rotated it.
    """
    headers = Headers(headers)  # case-insensitive lookups, whatever mapping was given
    params, covered = _checked(method, headers, body, now)
    normalized = {name: value for name, value in headers.items() if name.lower() != "signature"}
    # httpsig takes the algorithm from the header; pin it to RSA whatever the sender wrote (hs2019 included).
    fields = [f'{name}="{params[name]}"' for name in ("keyId", "headers", "signature")]
    normalized["Signature"] = ",".join([*fields, f'algorithm="{ALGORITHM}"'])
    for refresh in (False, True):
        key = key_for(params["keyId"], refresh)
        if _holds(normalized, key.pem, covered, method, target):
            return key
    raise SignatureError("the signature does not verify")


def _checked(method: str, headers: Headers, body: bytes, now: datetime) -> tuple[dict[str, str], list[str]]:
    """The Signature's parameters and covered headers, once every check that needs no key passed."""
    params = _signature_params(headers)
    covered = params["headers"].lower().split()
    missing = [h for h in (SIGNED_POST if method == "POST" else SIGNED_GET) if h not in covered]
    if missing:
        raise SignatureError(f"the signature must cover {', '.join(missing)}")
    _check_date(headers, now)
    if method == "POST":
        _check_digest(headers, body)
    absent = [h for h in covered if h != "(request-target)" and not headers.get(h)]
    if absent:
        raise SignatureError(f"signed headers are missing: {', '.join(absent)}")
    return params, covered


def _signature_params(headers: Mapping[str, str]) -> dict[str, str]:
    value = headers.get("Signature")
    if not value:
        raise SignatureError("the request is not signed")
    # httpsig's parser lower-cases the parameter names
    params = {"keyId" if k == "keyid" else k: v for k, v in parse_signature_header(value).items()}
    if not params.get("keyId") or not params.get("signature"):
        raise SignatureError("the Signature header lacks keyId or signature")
    if params.get("algorithm", "hs2019").lower() not in ACCEPTED_ALGORITHMS:
        raise SignatureError("only rsa-sha256 signatures are accepted")
    params.setdefault("headers", "date")
    return params


def _check_date(headers: Mapping[str, str], now: datetime) -> None:
    try:
        sent = parsedate_to_datetime(headers.get("Date", ""))
    except (TypeError, ValueError):
        raise SignatureError("the Date header is missing or malformed") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if not now - MAX_AGE <= sent <= now + MAX_SKEW:
        raise SignatureError("the Date header is outside the accepted window")


def _check_digest(headers: Mapping[str, str], body: bytes) -> None:
    expected = digest(body)
    offered = [part.strip() for part in headers.get("Digest", "").split(",")]
    sha256 = [d for d in offered if d.lower().startswith("sha-256=")]
    if not sha256 or not hmac.compare_digest(sha256[0][len("SHA-256=") :], expected[len("SHA-256=") :]):
        raise SignatureError("the Digest header does not match the body")


def _holds(headers: Mapping[str, str], pem: str, covered: list[str], method: str, target: str) -> bool:
    try:
        verifier = HeaderVerifier(
            headers=headers,
            secret=pem,
            required_headers=covered,
            method=method,
            path=target,
            sign_header="signature",
        )
        return verifier.sign_algorithm == "rsa" and bool(verifier.verify())
    except (HttpSigException, ValueError, TypeError, KeyError, IndexError):
        return False  # a malformed key or signature value: it does not verify
