"""A city's Mastodon account as a channel (Mastodon.py): post, edit on correction, delete on withdrawal.

Every post carries an Idempotency-Key made from channel, feed and item, so a retry after a lost answer (or a
worker that died between sending and recording) gives back the status already made instead of a second one;
Mastodon keeps the key for an hour, and a post not confirmed within that is retried long before. Rate limits
are not waited out in the worker: a 429 (or an exhausted budget) is an error the queue retries later.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from ..config.channels import ChannelSettings
from .channel_text import Incoming, Sent, fit, readable
from .http import PushError

URL = re.compile(r"https?://\S+")  # what Mastodon counts as a link, near enough for a length
LINK_LENGTH = 23  # Mastodon counts every link as 23 characters, however long
PAGE = 40  # notifications read at once (Mastodon's most); the next poll goes on from the newest
TIMEOUT = 15.0  # seconds for one request; the queue retries what does not answer
USER_AGENT = "feedserver (+https://github.com/feedserver; municipal open data)"


class MastodonAccount:
    """One configured account."""

    DIRECT = True  # an answer may go to its addressee alone (visibility "direct")

    @staticmethod
    def compose(title: str, summary: str, link: str, limit: int) -> str:
        """The status text: title, summary and link within the instance's length (a link counts 23)."""
        return fit(title, summary, link, limit, LINK_LENGTH)

    @staticmethod
    def measure(text: str) -> int:
        """A status's length as Mastodon counts it: every link as 23 characters."""
        return len(URL.sub("x" * LINK_LENGTH, text))

    def __init__(self, channel: ChannelSettings):
        self.channel = channel
        self.api = Mastodon(
            access_token=channel.access_token,
            api_base_url=channel.base_url,
            ratelimit_method="throw",
            request_timeout=TIMEOUT,
            version_check_mode="none",
            user_agent=USER_AGENT,
        )

    def post(self, text: str, language: str, key: str, created) -> Sent:
        """Publish a status (once per key); its id and address."""
        status = _call(
            self.api.status_post,
            text,
            visibility=self.channel.visibility,
            language=language,
            idempotency_key=key,
        )
        return Sent(str(status["id"]), status.get("url"))

    def edit(self, sent: Sent, text: str, language: str, key: str, created) -> Sent:
        """Replace a status's text (Mastodon shows it as edited); the same status."""
        _call(self.api.status_update, sent.id, text)
        return sent

    def replies_since(self, cursor: str | None) -> tuple[list[Incoming], str | None]:
        """The mentions of the account after the notification `cursor` (oldest first), and the new cursor."""
        found = _call(self.api.notifications, types=["mention"], min_id=cursor, limit=PAGE)
        # Ids are numbers on Mastodon, but other servers of this API use ULIDs or flakes: all sort by length,
        # then by value.
        notes = sorted(found, key=lambda n: (len(str(n.get("id"))), str(n.get("id"))))
        incoming = readable(self._incoming, [n for n in notes if n.get("status")])
        return incoming, (str(notes[-1]["id"]) if notes else cursor)

    def answer(self, ref: str, handle: str, text: str, public: bool, language: str, key: str) -> Sent:
        """Reply to a status, mentioning its author: public, or to them alone (direct)."""
        visibility = self.channel.visibility if public else "direct"
        status = _call(self.api.status_post, f"{handle} {text}", in_reply_to_id=ref, visibility=visibility,
                       language=language, idempotency_key=key)  # fmt: skip
        return Sent(str(status["id"]), status.get("url"))

    def _incoming(self, notification) -> Incoming:
        status, account = notification["status"], notification["account"]
        acct = _given(account["acct"]).lstrip("@")
        if "@" not in acct:  # a local account: its host is the instance's
            acct = f"{acct}@{urlsplit(self.channel.base_url).hostname}"
        return Incoming(
            remote_id=_given(status["uri"]),
            ref=_given(str(status["id"])),
            in_reply_to=str(status.get("in_reply_to_id") or ""),
            actor=_given(account.get("url") or account.get("uri")),
            handle=f"@{acct}",
            instance=acct.rsplit("@", 1)[1].lower(),
            text=str(status.get("content") or ""),
        )

    def delete(self, remote_id: str) -> None:
        """Delete a status; one that is gone already is fine."""
        try:
            _call(self.api.status_delete, remote_id)
        except PushError as exc:
            if exc.status != 404:
                raise


def _given(value) -> str:
    """A part a notification must have: a string that is not empty (ValueError otherwise)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a notification without a part it must have")
    return value


def _call(method, *args, **kwargs):
    """Run one Mastodon.py call; its errors become PushErrors the queue understands (retry or give up)."""
    try:
        return method(*args, **kwargs)
    except MastodonRatelimitError as exc:
        raise PushError(f"rate limited: {exc}", retry=True, status=429) from exc
    except MastodonNotFoundError as exc:
        raise PushError(f"not found: {exc}", retry=False, status=404) from exc
    except MastodonUnauthorizedError as exc:
        raise PushError(f"token refused: {exc}", retry=False, status=401) from exc
    except MastodonServerError as exc:
        raise PushError(f"server error: {exc}", retry=True, status=_status(exc)) from exc
    except MastodonNetworkError as exc:
        raise PushError(f"network: {exc}", retry=True) from exc
    except MastodonAPIError as exc:  # other 4xx: the request itself is refused (422 too long, ...)
        raise PushError(f"refused: {exc}", retry=False, status=_status(exc)) from exc


def _status(exc: Exception) -> int | None:
    code = exc.args[1] if len(exc.args) > 1 else None
    return code if isinstance(code, int) else None
