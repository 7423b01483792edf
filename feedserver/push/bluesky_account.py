"""A city's Bluesky account as a channel, through the AT Protocol SDK (atproto), with an app password.

A post is an `app.bsky.feed.post` record with the link marked as a link facet (byte offsets in UTF-8) and an
external card, within 300 graphemes. Bluesky has no edit: a correction deletes the post and posts the new text
(the docs say so). Replies to the account's posts are read from its notifications; an answer is a public
reply in the citizen's thread that mentions them. Each post's record key is a TID made from its creation time
and its idempotency key, and is looked up before it is created, so a retry after a lost answer finds the post
instead of making a second one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from atproto import Client, Session, models
from atproto_client import exceptions

from ..config.channels import ChannelSettings
from .channel_text import Incoming, Sent, fit, readable
from .http import PushError

COLLECTION = "app.bsky.feed.post"
PAGE, PAGES = 50, 5  # notifications read per request, and requests per poll at most (the rest next time)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as TIDs are written


def record_key(key: str, created: datetime) -> str:
    """A TID for a post: microseconds since 1970 and ten bits of the idempotency key (the same on retry)."""
    micros = int(created.timestamp() * 1_000_000)
    clock = int(hashlib.sha256(key.encode()).hexdigest(), 16) & 0x3FF
    value = (micros << 10) | clock
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def post_record(text: str, language: str, created: datetime) -> models.AppBskyFeedPost.Record:
    """The record: text, language, the trailing link as a facet and as an external card (title, teaser)."""
    body, _, link = text.rpartition("\n\n")
    start = len((body + "\n\n").encode())
    facet = models.AppBskyRichtextFacet.Main(
        index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=start + len(link.encode())),
        features=[models.AppBskyRichtextFacet.Link(uri=link)],
    )
    title, _, teaser = body.partition("\n\n")
    card = models.AppBskyEmbedExternal.External(uri=link, title=title[:300], description=teaser[:1000])
    return models.AppBskyFeedPost.Record(
        text=text,
        created_at=_stamp(created),
        langs=[language],
        facets=[facet],
        embed=models.AppBskyEmbedExternal.Main(external=card),
    )


class BlueskyAccount:
    """One configured account on its PDS."""

    DIRECT = False  # Bluesky has no direct reply: an answer is a public post in the thread

    def __init__(self, channel: ChannelSettings):
        self.channel = channel
        self.client = Client(base_url=channel.base_url)
        self.did: str | None = None

    @staticmethod
    def compose(title: str, summary: str, link: str, limit: int) -> str:
        """The post text: title, summary and the whole link within `limit` graphemes."""
        return fit(title, summary, link, limit)

    @staticmethod
    def measure(text: str) -> int:
        """A post's length as `compose` counts it: characters, never fewer than Bluesky's graphemes."""
        return len(text)

    def post(self, text: str, language: str, key: str, created: datetime) -> Sent:
        """Create the post unless a retry finds it made already; its at:// URI and web address."""
        did = self._login()
        rkey = record_key(key, created)
        if not self._exists(did, rkey):
            data = models.ComAtprotoRepoCreateRecord.Data(
                repo=did, collection=COLLECTION, rkey=rkey, record=post_record(text, language, created)
            )
            _call(self.client.com.atproto.repo.create_record, data)
        return Sent(f"at://{did}/{COLLECTION}/{rkey}", f"https://bsky.app/profile/{did}/post/{rkey}")

    def edit(self, sent: Sent, text: str, language: str, key: str, created: datetime) -> Sent:
        """Bluesky has no edit: delete the post and post the corrected text (a new post)."""
        self.delete(sent.id)
        return self.post(text, language, key, created)

    def delete(self, remote_id: str) -> None:
        """Delete a post by its at:// URI; one that is gone already is fine."""
        did = self._login()
        rkey = remote_id.rsplit("/", 1)[-1]
        data = models.ComAtprotoRepoDeleteRecord.Data(repo=did, collection=COLLECTION, rkey=rkey)
        _call(self.client.com.atproto.repo.delete_record, data)

    def replies_since(self, cursor: str | None) -> tuple[list[Incoming], str | None]:
        """The replies and mentions indexed after `cursor` (an indexedAt time), oldest first, and the new
        cursor: the newest time read."""
        self._login()
        found, page = [], None
        for _ in range(PAGES):
            params = models.AppBskyNotificationListNotifications.Params(limit=PAGE, cursor=page)
            answer = _call(self.client.app.bsky.notification.list_notifications, params)
            newer = [n for n in answer.notifications if cursor is None or n.indexed_at > cursor]
            found += newer
            page = answer.cursor
            if not page or len(newer) < len(answer.notifications):
                break  # reached what was read before (or the end)
        replies = sorted((n for n in found if n.reason in ("reply", "mention")), key=lambda n: n.indexed_at)
        newest = max((n.indexed_at for n in found), default=cursor)
        return readable(_incoming, replies), newest

    def answer(self, ref: str, handle: str, text: str, public: bool, language: str, key: str) -> Sent:
        """A reply in the citizen's thread, mentioning them (always public: Bluesky has no direct reply)."""
        did, target = self._login(), json.loads(ref)
        created = datetime.now(UTC)
        body = f"{handle} {text}"
        mention = models.AppBskyRichtextFacet.Main(
            index=models.AppBskyRichtextFacet.ByteSlice(byte_start=0, byte_end=len(handle.encode())),
            features=[models.AppBskyRichtextFacet.Mention(did=target["did"])],
        )
        parent = models.ComAtprotoRepoStrongRef.Main(uri=target["uri"], cid=target["cid"])
        root = models.ComAtprotoRepoStrongRef.Main(uri=target["root_uri"], cid=target["root_cid"])
        record = models.AppBskyFeedPost.Record(
            text=body, created_at=_stamp(created), langs=[language], facets=[mention],
            reply=models.AppBskyFeedPost.ReplyRef(parent=parent, root=root),
        )  # fmt: skip
        rkey = record_key(key, created)
        data = models.ComAtprotoRepoCreateRecord.Data(repo=did, collection=COLLECTION, rkey=rkey,
                                                      record=record)  # fmt: skip
        _call(self.client.com.atproto.repo.create_record, data)
        return Sent(f"at://{did}/{COLLECTION}/{rkey}", f"https://bsky.app/profile/{did}/post/{rkey}")

    def _login(self) -> str:
        if self.did is None:
            _call(self.client.login, self.channel.handle, self.channel.app_password, fetch_bsky_profile=False)
            self.did = Session.decode(self.client.export_session_string()).did
        return self.did

    def _exists(self, did: str, rkey: str) -> bool:
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=COLLECTION, rkey=rkey)
        try:
            _call(self.client.com.atproto.repo.get_record, params)
            return True
        except PushError as exc:
            if exc.status == 400:  # RecordNotFound
                return False
            raise


def _incoming(notification) -> Incoming:
    """A reply or mention as the office sees it, with what an answer needs (the post, its thread's root)."""
    record, author = notification.record, notification.author
    reply = getattr(record, "reply", None)
    parent = reply.parent if reply else None
    root = reply.root if reply else None
    ref = {"uri": notification.uri, "cid": notification.cid, "did": author.did,
           "root_uri": (root or notification).uri, "root_cid": (root or notification).cid}  # fmt: skip
    handle = str(author.handle)
    return Incoming(
        remote_id=notification.uri,
        ref=json.dumps(ref),
        in_reply_to=parent.uri if parent else "",
        actor=f"https://bsky.app/profile/{author.did}",
        handle=f"@{handle}",
        instance=handle.split(".", 1)[1].lower() if "." in handle else handle,
        text=str(getattr(record, "text", "") or ""),
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _call(method, *args, **kwargs):
    """Run one SDK call; its errors become PushErrors the queue understands (retry or give up)."""
    try:
        return method(*args, **kwargs)
    except exceptions.UnauthorizedError as exc:
        raise PushError(f"login refused: {exc}", retry=False, status=401) from exc
    except exceptions.RateLimitExceededError as exc:
        raise PushError(f"rate limited: {exc}", retry=True, status=429) from exc
    except exceptions.BadRequestError as exc:
        raise PushError(f"refused: {exc}", retry=False, status=400) from exc
    except exceptions.NetworkError as exc:
        raise PushError(f"network: {exc}", retry=True) from exc
    except exceptions.RequestException as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise PushError(f"server error: {exc}", retry=True, status=status) from exc
