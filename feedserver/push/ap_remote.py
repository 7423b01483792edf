"""Remote ActivityPub actors and keys: fetched (signed GET, for servers in authorized-fetch mode) and cached.

Every fetch goes through the push client, so the SSRF policy of upstreams applies to key documents too, with
a short total deadline: these fetches run in the push worker for queued inbox requests (push/ap_trust.py).
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
from .http import PushError, origin, url_problem
from .signatures import PublicKey, sign

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
CACHE_SECONDS = 3600
FETCH_DEADLINE = 5.0  # seconds for a whole key or actor document: a dripping server holds a worker no longer


@dataclass(frozen=True)
class RemoteActor:
    """What a follow needs to know about a remote actor: its id and inboxes."""

    id: str
    inbox: str
    shared_inbox: str | None


class RemoteError(FeedserverError):
    """A remote actor or key could not be fetched or does not have the expected shape.

    `transient` when asking again later may help (a timeout, a 5xx), not when the answer was final.
    """

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def public_key(runtime: Runtime, signer_feed: str, key_id: str, refresh: bool = False) -> PublicKey:
    """The key a signature names, once its owner's actor document (fetched from the owner's URL) lists it.

    A key document's word about its owner counts for nothing by itself: any server can publish a document
    naming someone else's account as the owner of its key. RemoteError when the key cannot be had.
    """
    key_url = urldefrag(key_id).url
    owner, pem = _key_claim(fetch_document(runtime, signer_feed, key_url, refresh), key_id)
    if not isinstance(owner, str) or origin(owner) != origin(key_id) or url_problem(runtime.settings, owner):
        raise RemoteError("the key names no owner on its own origin")
    actor = fetch_document(runtime, signer_feed, owner, refresh and owner != key_url)
    listed = _listed_key(actor, owner, key_id)
    if listed is False:
        raise RemoteError("the owner's actor document does not list that key")
    pem = listed if isinstance(listed, str) else pem
    if not isinstance(pem, str):
        raise RemoteError("the key has no publicKeyPem")
    return PublicKey(key_id, owner, pem)


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
        document = json.loads(push_http.get(settings, url, headers, deadline=FETCH_DEADLINE).body)
    except PushError as exc:
        final = not exc.retry or (exc.status is not None and exc.status < 500 and exc.status != 429)
        raise RemoteError(str(exc), transient=not final) from None
    except ValueError as exc:
        raise RemoteError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise RemoteError("not a JSON object")
    return document


def _key_claim(document: dict, key_id: str) -> tuple[object, object]:
    """(owner, PEM) of the key with this id in a document: a key of its own, or an actor's publicKey."""
    for key in [document, *_keys(document)]:
        if isinstance(key, dict) and key.get("id") == key_id and "publicKeyPem" in key:
            return key.get("owner"), key.get("publicKeyPem")
    raise RemoteError("the document at the keyId does not hold that key")


def _listed_key(actor: dict, owner: str, key_id: str) -> str | bool:
    """Whether an actor document lists a key as its own: its PEM when given there, True when listed by id."""
    if actor.get("id") != owner or actor.get("type") not in ACTOR_TYPES:
        return False
    for key in _keys(actor):
        if key == key_id:
            return True  # listed by reference: the document at the keyId holds the PEM
        if isinstance(key, dict) and key.get("id") == key_id and key.get("owner", owner) == owner:
            pem = key.get("publicKeyPem")
            return pem if isinstance(pem, str) else True
    return False


def _keys(actor: dict) -> list:
    """An actor's publicKey entries, whether it gives one or a list."""
    keys = actor.get("publicKey")
    return keys if isinstance(keys, list) else [keys]
