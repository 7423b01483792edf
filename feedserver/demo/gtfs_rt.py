"""Recorded GTFS-Realtime feeds, re-encoded with every timestamp moved so the header time is now.

The recording is replayed as it was, relative to now: the same trips with the same delays, their predicted
times as far ahead of "now" as they were ahead of the recorded header. Times move in whole minutes, so polls
within one minute get identical bytes (and a 304).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.transit import gtfs_realtime_pb2 as rt

STEP = 60  # seconds: the replay's clock moves in whole minutes


def replay_feed(body: bytes, now: datetime) -> bytes:
    """The FeedMessage with header, trip, stop and alert times moved by (now - recorded header time)."""
    message = rt.FeedMessage()
    message.ParseFromString(body)
    target = int(now.timestamp()) // STEP * STEP
    delta = target - message.header.timestamp
    message.header.timestamp = target
    for entity in message.entity:
        if entity.HasField("trip_update"):
            _move_trip_update(entity.trip_update, delta)
        if entity.HasField("vehicle") and entity.vehicle.timestamp:
            entity.vehicle.timestamp += delta
        if entity.HasField("alert"):
            for period in entity.alert.active_period:
                period.start = period.start + delta if period.start else 0
                period.end = period.end + delta if period.end else 0
    return message.SerializeToString()


def _move_trip_update(update, delta: int) -> None:
    if update.timestamp:
        update.timestamp += delta
    if update.trip.start_date:
        day = datetime.strptime(update.trip.start_date, "%Y%m%d").replace(tzinfo=UTC)
        update.trip.start_date = (day + timedelta(seconds=delta)).strftime("%Y%m%d")
    for stop in update.stop_time_update:
        for event in (stop.arrival, stop.departure):
            if event.time:
                event.time += delta
            if event.scheduled_time:
                event.scheduled_time += delta


def static_zip(directory: Path) -> bytes:
    """The static GTFS files of a directory as a zip, byte for byte the same on every call."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.glob("*.txt")):
            archive.writestr(zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0)), path.read_bytes())
    return buffer.getvalue()
