"""Umweltbundesamt air data API v2 answers, replayed so that the recorded hours are the last complete hours.

Two recordings: a real `/airquality/json` answer (station 145, DEBE034 Berlin Neukölln, 48 hours of O3, NO2
and PM10 in January 2024), and the real hourly ozone of EMEP station FR0009R Revin during the August 2003 heat
wave (an EBAS NASA-Ames file; the demo serves it in the shape of `/measures/json`, values unchanged). Both are
tiled in time: the hour starting at T shows the recorded hour at (hours since 1970 of T) modulo the
recording's length, so a given hour always shows the same value, polls agree with each other and the series
never ends. UBA times are CET all year, named by their end hour 1..24.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

CET = timezone(timedelta(hours=1))
HOUR = timedelta(hours=1)
WINDOW_HOURS = 48
MISSING = "9999"  # EBAS marks a missing value with its format's largest number
OZONE = 3  # UBA component id of O3
HOURLY = 2  # UBA scope id of the 1-hour mean


def complete_hours(now: datetime, count: int = WINDOW_HOURS) -> list[datetime]:
    """Start times (UTC) of the last `count` complete hours before `now`, oldest first."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - HOUR * n for n in range(count, 0, -1)]


def uba_start(moment: datetime) -> str:
    """An hour's start as UBA writes it ('2024-01-01 00:00:00', CET)."""
    return moment.astimezone(CET).strftime("%Y-%m-%d %H:%M:%S")


def uba_end(moment: datetime) -> str:
    """An hour's end as UBA writes it: midnight is hour 24 of the day before."""
    end = (moment + HOUR).astimezone(CET)
    if end.hour == 0:
        return f"{(end - HOUR).date().isoformat()} 24:00:00"
    return end.strftime("%Y-%m-%d %H:%M:%S")


def slot(moment: datetime, period: int) -> int:
    """Which recorded hour the hour starting at `moment` replays."""
    return int(moment.timestamp() // 3600) % period


def airquality(document: dict, now: datetime) -> bytes:
    """A recorded /airquality/json answer with its hours laid onto the last 48 complete hours."""
    replayed = copy.deepcopy(document)
    for station, hours in document["data"].items():
        recorded = [hours[key] for key in sorted(hours)]
        moved = {}
        for start in complete_hours(now):
            entry = copy.deepcopy(recorded[slot(start, len(recorded))])
            entry[0] = uba_end(start)
            moved[uba_start(start)] = entry
        replayed["data"][station] = moved
    return json.dumps(replayed, ensure_ascii=False).encode("utf-8")


def ebas_values(text: str) -> list[float | None]:
    """The hourly values of an EBAS NASA-Ames file (first data column after start and end), in order."""
    lines = text.splitlines()
    header_lines = int(lines[0].split()[0])
    values = []
    for line in lines[header_lines:]:
        parts = line.split()
        if len(parts) >= 3:
            values.append(None if parts[2] == MISSING else float(parts[2]))
    return values


def ebas_header(text: str) -> dict[str, str]:
    """The 'Name: value' lines of an EBAS file's header."""
    found = {}
    for line in text.splitlines()[: int(text.split()[0])]:
        name, separator, value = line.partition(":")
        if separator and value.strip():
            found[name.strip()] = value.strip()
    return found


def station_list(stations: dict, header: dict[str, str]) -> bytes:
    """A /stations/json answer with one row, the EBAS station, in the recorded list's column layout."""
    code = header["Station code"]
    row: list[str | None] = [""] * len(stations["indices"])
    row[0] = row[1] = code  # id and code: the EMEP code, there is no UBA number for it
    row[2] = row[3] = header["Station name"]
    row[5] = row[6] = None  # active from / to: not in the EBAS header
    row[7], row[8] = header["Station longitude"], header["Station latitude"]
    document = {"request": stations["request"], "indices": stations["indices"], "data": {code: row}}
    return json.dumps({**document, "count": 1}, ensure_ascii=False).encode("utf-8")


def measures(values: list[float | None], station: str, now: datetime) -> bytes:
    """A /measures/json answer (1-hour ozone means) laid onto the last 48 complete hours."""
    rows = {
        uba_start(start): [OZONE, HOURLY, values[slot(start, len(values))], uba_end(start), None]
        for start in complete_hours(now)
    }
    request = {"station": station, "component": str(OZONE), "scope": str(HOURLY)}
    indices = {
        "data": {"station id": {"date start": ["component id", "scope id", "value", "date end", "index"]}}
    }
    return json.dumps({"request": request, "indices": indices, "data": {station: rows}}).encode("utf-8")
