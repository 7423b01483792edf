"""Remote ActivityPub actors: fetched (with a signed GET, for servers in authorized-fetch mode) and cached.

Every fetch goes through the push client, so the SSRF policy of upstreams applies to key documents too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urldefrag

from ..errors import FeedserverError
from ..runtime import Runtime
from . import ap_documents
from . import http as push_http
from .ap_actors import feed_actor
from .http import PushError, url_problem
from .signatures import PublicKey, SignatureError, sign

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
CACHE_SECONDS = 3600


@dataclass(frozen=True)
class RemoteActor:
    """What a follow needs to know about a remote actor: its id and inboxes."""

    id: str
    inbox: str
    shared_inbox: str | None


class RemoteError(FeedserverError):
    """A remote actor or key could not be fetched or does not have the expected shape."""


def public_key(runtime: Runtime, signer_feed: str, key_id: str, refresh: bool = False) -> PublicKey:
    """The key a signature names, with its owner; SignatureError when it cannot be had."""
    try:
        document = fetch_document(runtime, signer_feed, urldefrag(key_id).url, refresh)
        return _key_in(document, key_id)
    except RemoteError as exc:
        raise SignatureError(f"the signing key cannot be fetched: {exc}") from None


def remote_actor(runtime: Runtime, signer_feed: str, actor_id: str) -> RemoteActor:
    """A remote actor's inboxes (the shared one where its server offers it)."""
    document = fetch_document(runtime, signer_feed, actor_id)
    if document.get("id") != actor_id or document.get("type") not in ACTOR_TYPES:
        raise RemoteError("not an actor document")
    inbox = document.get("inbox")
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = endpoints.get("sharedInbox")
    if not isinstance(inbox, str) or url_problem(runtime.settings, inbox):
        raise RemoteError("the actor has no inbox this server may deliver to")
    if not isinstance(shared, str) or url_problem(runtime.settings, shared):
        shared = None
    return RemoteActor(actor_id, inbox, shared)


def fetch_document(runtime: Runtime, signer_feed: str, url: str, refresh: bool = False) -> dict:
    """GET an ActivityPub JSON document, signed by a feed's key; cached for an hour."""
    problem = url_problem(runtime.settings, url)
    if problem:
        raise RemoteError(f"the URL {problem}")
    cache_key = "ap:doc:" + hashlib.sha256(url.encode()).hexdigest()
    document = None if refresh else runtime.cache.get(cache_key)
    if document is None:
        document = _get_json(runtime, signer_feed, url)
        runtime.cache.set(cache_key, document, timeout=CACHE_SECONDS)
    return document


def _get_json(runtime: Runtime, signer_feed: str, url: str) -> dict:
    settings = runtime.settings
    actor = feed_actor(runtime, signer_feed)
    headers = {"Accept": ACCEPT}
    headers.update(sign("GET", url, ap_documents.key_id(settings, signer_feed), actor.private_key_pem))
    try:
        document = json.loads(push_http.get(settings, url, headers).body)
    except (PushError, ValueError) as exc:
        raise RemoteError(str(exc)) from None
    if not isinstance(document, dict):
        raise RemoteError("not a JSON object")
    return document


def _key_in(document: dict, key_id: str) -> PublicKey:
    """The key with this id in an actor document; the actor vouches only for its own keys."""
    keys = document.get("publicKey")
    for key in keys if isinstance(keys, list) else [keys]:
        if not isinstance(key, dict) or key.get("id") != key_id:
            continue
        owner, pem = key.get("owner"), key.get("publicKeyPem")
        if owner == document.get("id") and isinstance(owner, str) and isinstance(pem, str):
            return PublicKey(key_id, owner, pem)
    raise RemoteError("the actor document does not hold that key")
