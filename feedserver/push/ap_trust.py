"""Who sent an inbox request, decided the way Mastodon decides it.

A request is believed to come from an actor only when all of this holds:
1. Its HTTP Signature (draft-cavage, RSA) covers (request-target), host, date and digest; the Date is at most
   12 hours old (1 hour ahead) when the request arrived; the Digest matches the body.
2. The key is fetched by its keyId. It names an owner, and the owner's actor document, fetched from the
   owner's URL, lists that key id in its publicKey (one object or a list). A key document's own claim to an
   owner counts for nothing: any server can publish one naming someone else's account.
3. The signature verifies with that key. A failed check is tried once more with freshly fetched documents,
   since keys rotate; otherwise documents are cached for an hour (push/ap_remote.py).
4. The activity's actor is the key's owner.
5. The keyId, the actor and every object the activity creates or deletes (its own id, the object of a Create,
   Update or Delete, the inner activity of an Undo and that activity's actor) share one origin: scheme, host
   and port. A server speaks for its own accounts and objects only.
The inbox view checks 1 and 5, which need no network, before it queues the request (push/ap_inbox.py); the
push worker checks 2 to 5 later. A web thread never waits for a remote server.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..runtime import Runtime
from .ap_remote import RemoteError, public_key
from .http import PushError, origin
from .signatures import SignatureError, verify

CREATING = ("Create", "Update", "Delete", "Undo")  # activities whose object is made, changed or withdrawn


class Untrusted(Exception):
    """An inbox request that does not come from whom it claims (refused; never retried)."""


def check_origins(activity: dict, key_id: str) -> None:
    """Step 5: Untrusted unless keyId, actor and what the activity creates or deletes share one origin."""
    home = origin(key_id)
    if home is None:
        raise Untrusted("the keyId is not an http(s) URL")
    if origin(id_of(activity.get("actor")) or "") != home:
        raise Untrusted("the actor is not on the origin of the signing key")
    claimed = [activity.get("id")]
    inner = activity.get("object")
    if activity.get("type") in CREATING:
        claimed.append(id_of(inner))
        if activity["type"] == "Undo" and isinstance(inner, dict):
            claimed.append(id_of(inner.get("actor")))
    if any(value is not None and origin(value) != home for value in claimed):
        raise Untrusted("the activity names objects of another origin")


def signer(runtime: Runtime, feed_id: str, request: Mapping, body: bytes, activity: dict) -> str:
    """Steps 2 to 5 for a queued request: the actor it comes from, or Untrusted.

    `request` holds the path, the signed headers and when it arrived. PushError (to be retried) when a key
    or actor document cannot be fetched right now.
    """
    received = datetime.fromisoformat(request["received"])
    try:
        key = verify(
            "POST",
            request["path"],
            request["headers"],
            body,
            lambda key_id, refresh: public_key(runtime, feed_id, key_id, refresh),
            received,  # the window is the request's: it may wait in the queue for a while
        )
    except SignatureError as exc:
        raise Untrusted(str(exc)) from None
    except RemoteError as exc:
        if exc.transient:
            raise PushError(f"the signing key cannot be fetched now: {exc}") from None
        raise Untrusted(f"the signing key cannot be had: {exc}") from None
    if id_of(activity.get("actor")) != key.owner:
        raise Untrusted("the activity's actor is not the owner of the signing key")
    check_origins(activity, key.key_id)
    return key.owner


def id_of(value) -> str | None:
    """An object's id, whether it is given inline or by reference."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None
