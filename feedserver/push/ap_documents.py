"""ActivityPub documents as plain JSON-LD: a feed's Service actor, its Notes and activities, WebFinger.

The JSON-LD contexts are referenced, not processed: Mastodon and its peers read these documents as plain
JSON with the ActivityStreams and security vocabularies, which is all a publisher needs to produce.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlsplit

from ..config import FeedSettings, Settings
from ..i18n import N_, known, say
from ..items import Item

ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = [AS_CONTEXT, SECURITY_CONTEXT]
LICENCE_LABEL = N_("Licence")
SOURCE_LABEL = N_("Source")


def base(settings: Settings) -> str:
    """base_url without its trailing slash."""
    return settings.server.base_url.rstrip("/")


def host(settings: Settings) -> str:
    """The host part of acct: addresses (with a port when base_url has one)."""
    return urlsplit(settings.server.base_url).netloc.lower()


def actor_url(settings: Settings, feed_id: str) -> str:
    """The id of a feed's actor."""
    return f"{base(settings)}/ap/feeds/{feed_id}"


def key_id(settings: Settings, feed_id: str) -> str:
    """The id of a feed's public key (keyId in its signatures)."""
    return actor_url(settings, feed_id) + "#main-key"


def note_url(settings: Settings, feed_id: str, item_id: str) -> str:
    """The id of the Note an item becomes."""
    return f"{actor_url(settings, feed_id)}/notes/{item_id}"


def actor_document(settings: Settings, feed: FeedSettings, public_pem: str, created: datetime) -> dict:
    """The feed as a Service actor: profile, inbox/outbox/followers, and the key its posts are signed with."""
    actor = actor_url(settings, feed.id)
    page = f"{base(settings)}/feeds/{feed.id}"
    lang = known(feed.language)
    return {
        "@context": CONTEXT,
        "id": actor,
        "type": "Service",
        "preferredUsername": feed.id,
        "name": feed.title,
        "summary": f"<p>{escape(feed.description or feed.title)}</p>",
        "url": page,
        "inbox": f"{actor}/inbox",
        "outbox": f"{actor}/outbox",
        "followers": f"{actor}/followers",
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "published": _iso(created),
        "attachment": [
            _property(say(lang, LICENCE_LABEL), escape(feed.licence or "")),
            _property(say(lang, SOURCE_LABEL), escape(feed.attribution or feed.title)),
            _property("Feed", f'<a href="{escape(page)}.atom" rel="nofollow">{escape(page)}.atom</a>'),
        ],
        "publicKey": {"id": key_id(settings, feed.id), "owner": actor, "publicKeyPem": public_pem},
    }


def item_link(settings: Settings, feed_id: str, item: Item) -> str:
    """Where a post about an item links: the item's own page, else its place on the feed's page."""
    return item.url or f"{base(settings)}/feeds/{feed_id}#item-{item.id}"


def note_document(settings: Settings, feed: FeedSettings, item: Item) -> dict:
    """One item as a public Note attributed to the feed's actor."""
    actor = actor_url(settings, feed.id)
    link = item_link(settings, feed.id, item)
    paragraphs = [escape(item.title)]
    if item.summary and item.summary.strip() != item.title.strip():
        paragraphs.append(escape(item.summary).replace("\n", "<br>"))
    paragraphs.append(f'<a href="{escape(link)}" rel="nofollow">{escape(link)}</a>')
    content = "".join(f"<p>{part}</p>" for part in paragraphs)
    return {
        "id": note_url(settings, feed.id, item.id),
        "type": "Note",
        "attributedTo": actor,
        "content": content,
        "contentMap": {feed.language: content},
        "published": _iso(item.published),
        "url": link,
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
        "sensitive": False,
        "tag": [{"type": "Hashtag", "name": "#" + str(item.category).replace("-", "_")}]
        if item.category
        else [],
    }


def create_activity(note: dict) -> dict:
    """Create{Note}: how a new item reaches followers."""
    return _activity(
        "Create",
        note["id"] + "/activity",
        note["attributedTo"],
        published=note["published"],
        to=note["to"],
        cc=note["cc"],
        object=note,
    )


def update_activity(note: dict, updated: datetime) -> dict:
    """Update{Note}: a correction of an announced item; the same note id with its text and `updated` new."""
    revised = {**note, "updated": _iso(updated)}
    stamp = revised["updated"].replace(":", "").replace("-", "")
    return _activity(
        "Update",
        f"{note['id']}#updates/{stamp}",
        note["attributedTo"],
        to=note["to"],
        cc=note["cc"],
        object=revised,
    )


def delete_activity(note: dict) -> dict:
    """Delete{Tombstone}: an item was withdrawn or left the feed."""
    tombstoned = {"id": note["id"], "type": "Tombstone"}
    return _activity("Delete", note["id"] + "#delete", note["attributedTo"], to=[PUBLIC], object=tombstoned)


def accept_activity(settings: Settings, feed_id: str, follow: dict) -> dict:
    """Accept{Follow}: every follow is accepted at once."""
    actor = actor_url(settings, feed_id)
    follow_id = str(follow.get("id", ""))
    activity_id = f"{actor}#accepts/{hashlib.sha256(follow_id.encode()).hexdigest()[:24]}"
    accepted = {k: follow[k] for k in ("id", "type", "actor", "object") if k in follow}
    return _activity("Accept", activity_id, actor, object=accepted)


def tombstone(note: dict, deleted: datetime) -> dict:
    """What a deleted Note's URL answers (with 410 Gone)."""
    return {"@context": AS_CONTEXT, "id": note["id"], "type": "Tombstone", "deleted": _iso(deleted)}


def collection(url: str, total: int, items: list[dict] | None = None) -> dict:
    """An OrderedCollection; followers are only counted, never listed (they are people)."""
    document = {"@context": AS_CONTEXT, "id": url, "type": "OrderedCollection", "totalItems": total}
    if items is not None:
        document["orderedItems"] = items
    return document


def webfinger(settings: Settings, feed: FeedSettings) -> dict:
    """The WebFinger answer for acct:<feed-id>@<host>."""
    actor = actor_url(settings, feed.id)
    page = f"{base(settings)}/feeds/{feed.id}"
    return {
        "subject": f"acct:{feed.id}@{host(settings)}",
        "aliases": [actor, page],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
        ],
    }


def _activity(kind: str, activity_id: str, actor: str, **fields) -> dict:
    """An activity of a feed actor: context, id, type and actor, then `fields` in their order."""
    return {"@context": AS_CONTEXT, "id": activity_id, "type": kind, "actor": actor, **fields}


def _property(name: str, value: str) -> dict:
    return {"type": "PropertyValue", "name": name, "value": value}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
