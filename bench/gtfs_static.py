"""Load time and memory of the static GTFS loader on a synthetic zip with ~50,000 stop_times.

Run: .venv/bin/python bench/gtfs_static.py [TRIPS] [STOPS_PER_TRIP]
"""

from __future__ import annotations

import io
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sources._gtfs_static import load_static, read_static  # noqa: E402

ROUTES = 40
STOPS = 1500


def gtfs_time(seconds: int) -> str:
    """Seconds after the service day's reference as GTFS H:MM:SS (hours may pass 24)."""
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def synthetic_zip(trips: int, stops_per_trip: int) -> bytes:
    """A valid GTFS zip: routes, stops, trips and trips × stops_per_trip stop_times rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "agency.txt",
            "agency_id,agency_name,agency_url,agency_timezone\nA,Bench,https://x,Europe/Berlin\n",
        )
        archive.writestr(
            "routes.txt",
            "route_id,agency_id,route_short_name,route_long_name,route_type\n"
            + "".join(f"r{r},A,{r},Linie {r},3\n" for r in range(ROUTES)),
        )
        archive.writestr(
            "stops.txt",
            "stop_id,stop_name,stop_lat,stop_lon\n"
            + "".join(f"s{s},Haltestelle {s},52.{s:04d},13.{s:04d}\n" for s in range(STOPS)),
        )
        archive.writestr(
            "trips.txt",
            "route_id,service_id,trip_id,trip_headsign\n"
            + "".join(f"r{t % ROUTES},WD,t{t},Ziel {t % ROUTES}\n" for t in range(trips)),
        )
        rows = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"]
        for trip in range(trips):
            start = 4 * 3600 + trip * 37 % (22 * 3600)  # some trips run past midnight (times > 24:00:00)
            for seq in range(stops_per_trip):
                at = gtfs_time(start + seq * 120)
                rows.append(f"t{trip},{at},{at},s{(trip * 7 + seq) % STOPS},{seq + 1}\n")
        archive.writestr("stop_times.txt", "".join(rows))
    return buffer.getvalue()


def main() -> None:
    trips = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    stops_per_trip = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    body = synthetic_zip(trips, stops_per_trip)
    print(f"zip: {len(body) / 1e6:.2f} MB, {trips * stops_per_trip:,} stop_times, {trips:,} trips")

    started = time.perf_counter()
    feed = read_static(body)
    print(f"load: {time.perf_counter() - started:.3f} s, {len(feed.stop_times):,} trips with times")

    tracemalloc.start()  # measured in a second run: tracing slows the load several times over
    read_static(body)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: tracemalloc peak {peak / 1e6:.1f} MB")

    load_static(body)
    started = time.perf_counter()
    load_static(body)
    print(f"cached load (sha256 of the zip only): {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
