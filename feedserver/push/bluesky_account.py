"""A city's Bluesky account as a channel, through the AT Protocol SDK (atproto), with an app password.

A post is an `app.bsky.feed.post` record with the link marked as a link facet (byte offsets in UTF-8) and an
external card, within 300 graphemes. Bluesky has no edit: a correction deletes the post and posts the new text
(the docs say so). Each post's record key is a TID made from its creation time and its idempotency key, and is
looked up before it is created, so a retry after a lost answer finds the post instead of making a second one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from atproto import Client, Session, models
from atproto_client import exceptions

from ..config.channels import ChannelSettings
from .channel_text import Sent, fit
from .http import PushError

COLLECTION = "app.bsky.feed.post"
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
        created_at=created.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        langs=[language],
        facets=[facet],
        embed=models.AppBskyEmbedExternal.Main(external=card),
    )


class BlueskyAccount:
    """One configured account on its PDS."""

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
