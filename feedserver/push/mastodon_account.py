"""A city's Mastodon account as a channel (Mastodon.py): post, edit on correction, delete on withdrawal.

Every post carries an Idempotency-Key made from channel, feed and item, so a retry after a lost answer (or a
worker that died between sending and recording) gives back the status already made instead of a second one;
Mastodon keeps the key for an hour, and a post not confirmed within that is retried long before. Rate limits
are not waited out in the worker: a 429 (or an exhausted budget) is an error the queue retries later.
"""

from __future__ import annotations

import re

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
from .channel_text import Sent, fit
from .http import PushError

URL = re.compile(r"https?://\S+")  # what Mastodon counts as a link, near enough for a length
LINK_LENGTH = 23  # Mastodon counts every link as 23 characters, however long
TIMEOUT = 15.0  # seconds for one request; the queue retries what does not answer
USER_AGENT = "feedserver (+https://github.com/feedserver; municipal open data)"


class MastodonAccount:
    """One configured account."""

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

    def delete(self, remote_id: str) -> None:
        """Delete a status; one that is gone already is fine."""
        try:
            _call(self.api.status_delete, remote_id)
        except PushError as exc:
            if exc.status != 404:
                raise


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
