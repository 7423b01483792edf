"""Inbox storm: /healthz latency while 50 signed inbox POSTs arrive at once, their keyIds on key servers that
drip one byte at a time and never finish (issue 16, attack 2).

python bench/inbox_storm.py [--posts 50] [--origins 5] [--mode body|headers] [--rounds 3] [--after 5]
                            [--probe-timeout 30]

Runs `feedserver serve` (waitress, 8 threads, its push worker inside) on 127.0.0.1 with a temporary SQLite
database. Prints /healthz p50/p99 when idle, during the POSTs (`--rounds` storms, one after another), and for
`--after` seconds afterwards while the push worker's key fetches meet the dripping servers; and what the POSTs
and the key servers saw. A probe without an answer within --probe-timeout counts with the time it waited.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inbox_parts import (  # noqa: E402
    PROBE_PAUSE,
    Dripper,
    Storm,
    feed_actor,
    free_port,
    percentile,
    probe,
    signed_follows,
    start_serve,
    stop,
    storm,
    storm_config,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--origins", type=int, default=5)
    parser.add_argument("--mode", choices=("body", "headers"), default="body")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--after", type=float, default=5.0, help="seconds of probes after the POSTs")
    parser.add_argument("--probe-timeout", type=float, default=30.0, help="seconds a /healthz probe waits")
    args = parser.parse_args()
    dripper = Dripper(args.origins, args.mode)
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = start_serve(storm_config(Path(directory), port), port, Path(directory) / "serve.log")
        try:
            idle = probes(port, 2.0, args.probe_timeout)
            during = Storm()
            for _ in range(args.rounds):
                requests = signed_follows(feed_actor(port), dripper.origins, args.posts)
                merge(during, storm(port, requests, args.probe_timeout))
            after = probes(port, args.after, args.probe_timeout)
        finally:
            dripper.release()
            stop(server)
    report(args, idle, during, after, dripper)


def probes(port: int, seconds: float, timeout: float) -> Storm:
    """/healthz probed one after another for a while."""
    result = Storm()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        probe(port, result, timeout)
        time.sleep(PROBE_PAUSE)
    return result


def merge(total: Storm, part: Storm) -> None:
    """Add one storm's figures to the total."""
    total.statuses.update(part.statuses)
    total.post_seconds += part.post_seconds
    total.healthz_seconds += part.healthz_seconds
    total.healthz_failures += part.healthz_failures


def report(args, idle: Storm, during: Storm, after: Storm, dripper: Dripper) -> None:
    print(
        f"inbox storm: {args.rounds} x {args.posts} signed POSTs at once, keyIds on {args.origins} "
        f"key servers dripping the {args.mode} (feedserver serve, 8 threads)"
    )
    statuses = ", ".join(f"{status} x{n}" for status, n in sorted(during.statuses.items(), key=str))
    print(f"  POST answers: {statuses}; {line(during.post_seconds)}")
    for label, probed in (
        ("idle", idle),
        ("during the POSTs", during),
        (f"{args.after:g} s after, key fetches dripping", after),
    ):
        failures = probed.healthz_failures
        print(f"  /healthz {label + ':':<40} {line(probed.healthz_seconds, failures, args.probe_timeout)}")
    print(
        f"  key servers: {sum(dripper.accepted.values())} connections, at most "
        f"{max(dripper.most.values(), default=0)} per origin at once; {sum(dripper.given_up.values())} "
        "given up by the server before the key arrived"
    )


def line(seconds: list[float], failures: int = 0, timeout: float = 0.0) -> str:
    """p50/p99/max in milliseconds over n probes (those without an answer count with their wait)."""
    ms = [s * 1000 for s in seconds]
    text = f"p50 {percentile(ms, 0.5):7.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms  max {max(ms):7.1f} ms"
    text += f"  (n={len(ms)}"
    return text + (f", {failures} without an answer in {timeout:g} s)" if failures else ")")


if __name__ == "__main__":
    main()
