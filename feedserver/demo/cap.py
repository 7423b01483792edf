"""Recorded CAP alerts, replayed with every date-time moved so that they were sent at the start of this hour.

A DWD bundle (one ZIP of CAP files, as opendata.dwd.de publishes them) moves as a whole: its newest message
was sent at the start of the current hour, and onsets, expiries and references keep their distances. Single
CAP documents each move so that their own `sent` is the start of the current hour, and an Atom index lists
them like a MoWaS or DWD index. Identifiers stay as recorded, so an alert keeps its item id from hour to hour.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

# A CAP dateTime: 2023-06-23T11:14:00+02:00 (CAP forbids "Z"; "-00:00" is UTC)
DATE_TIME = re.compile(rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})([+-]\d{2}:\d{2})")
SENT = re.compile(rb"<(?:\w+:)?sent>\s*([^<]+?)\s*</(?:\w+:)?sent>")


def this_hour(now: datetime) -> datetime:
    """The start of the hour `now` is in."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def sent(body: bytes) -> datetime:
    """The message's own `sent` time."""
    match = SENT.search(body)
    if match is None:
        raise ValueError("CAP document without <sent>")
    return datetime.fromisoformat(match[1].decode())


def shift_times(body: bytes, delta: timedelta) -> bytes:
    """Every CAP dateTime in the document moved by delta, each written with its own offset again."""

    def moved(match: re.Match) -> bytes:
        moment = datetime.fromisoformat((match[1] + match[2]).decode()) + delta
        return moment.strftime("%Y-%m-%dT%H:%M:%S").encode() + match[2]

    return DATE_TIME.sub(moved, body)


def replay_document(body: bytes, now: datetime) -> bytes:
    """One CAP document, sent at the start of this hour."""
    return shift_times(body, this_hour(now) - sent(body))


def replay_bundle(body: bytes, now: datetime) -> bytes:
    """A ZIP bundle of CAP documents, moved together so that the newest was sent at the start of this hour."""
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        members = [(info.filename, bundle.read(info)) for info in bundle.infolist() if not info.is_dir()]
    delta = this_hour(now) - max(sent(data) for _, data in members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members:
            bundle.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), shift_times(data, delta))
    return out.getvalue()


def atom_index(title: str, self_url: str, links: list[tuple[str, str]], now: datetime) -> bytes:
    """An Atom feed whose entries link to CAP documents: (title, url) each, updated this hour."""
    updated = this_hour(now).isoformat().replace("+00:00", "Z")
    entries = "".join(
        f"<entry><id>{escape(url)}</id><title>{escape(name)}</title><updated>{updated}</updated>"
        f'<link rel="alternate" type="application/cap+xml" href="{escape(url)}"/></entry>'
        for name, url in links
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(self_url)}</id><title>{escape(title)}</title><updated>{updated}</updated>{entries}</feed>"
    ).encode()
