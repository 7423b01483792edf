"""Announcements from the city's own editorial desk (four-eyes approved), one feed per office or topic.

The upstream of this source is not an HTTP service but the desk, handed to `fetch` read-only (a
feedserver.contract.DeskReader) where other sources get the HTTP client: `fetch` reads the approved, not
withdrawn, not expired announcements posted into this feed (the newest approved version of each) and hands
them on as a JSON payload; `parse` turns that payload into Items like any other source. Staff text is plain
text, stored exactly as typed (the desk refuses what it cannot take): the pipeline's normalize() bounds it and
makes links safe but reduces no markup, since a "<" here is a less-than sign; every renderer escapes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from feedserver.contract import DeskReader
from feedserver.errors import ParseError
from feedserver.fetch import Payload
from feedserver.items import FeedInfo, Item
from feedserver.notices import MEDIA_TYPE, announcement_item, published_record

KIND = "announcements"
TITLE = "Editorial desk announcements (four-eyes approved)"
FILTERS = ()


class Options(Schema):
    office = fields.String(
        required=True,
        validate=validate.Regexp(
            r"[a-z0-9][a-z0-9_-]{0,63}", error="must be a short office name like 'presse'"
        ),
        metadata={"description": "The office whose staff may post into this feed."},
    )


OPTIONS = Options


class Source:
    reads = "desk"  # the pipeline hands fetch() the desk's read-only interface instead of the HTTP client
    text_is_plain = True  # titles and texts are plain text as staff typed them, not HTML to reduce

    def __init__(self, feed: FeedInfo, office: str):
        self.feed = feed
        self.office = office

    def fetch(self, desk: DeskReader) -> Payload:
        """Read the published versions of this feed's announcements from the desk (no HTTP)."""
        now = datetime.now(UTC)
        found = desk.live_announcements(self.feed.id)
        # Expired ones leave the store at the next refresh; output hides them at the instant they expire.
        records = [
            published_record(a.id, a.published)
            for a in found
            if a.published.expires is None or a.published.expires > now
        ]
        body = json.dumps(records, sort_keys=True).encode("utf-8")
        return Payload(body=body, url=f"desk:{self.feed.id}", content_type=MEDIA_TYPE, fetched_at=now)

    def parse(self, payload: Payload) -> list[Item]:
        """One Item per announcement, from its published version; ParseError on anything else."""
        try:
            records = json.loads(payload.body)
            if not isinstance(records, list):
                raise TypeError("not a list")
            return [announcement_item(self.feed.id, record) for record in records]
        except (ValueError, KeyError, TypeError) as exc:
            raise ParseError(f"desk payload is not a list of announcement records: {exc}") from exc
