"""Key servers that drip, and a storm of signed inbox POSTs pointing at them: for bench/inbox_storm.py and the
tests of the inbox (tests/test_inbox_storm.py). Everything listens on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import select
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from feedserver.config import BUNDLED_SAMPLES
from feedserver.push.signatures import new_key_pair, sign

ROOT = Path(__file__).resolve().parent.parent
FEED_ID = "waste-storm"
PROBE_PAUSE = 0.02  # seconds between two /healthz probes
HEADS = {
    # a status line and headers, then the body one byte at a time: the client's own deadline sees that
    "body": b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 1000000\r\n\r\n{",
    # the headers never end: only a deadline that does not wait for the body can cut this off
    "headers": b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nX-Drip: ",
}


class Dripper:
    """Key servers, one port (so one origin) each, that answer by dripping a byte at a time and hold every
    connection until `release()` (or until the client gives up, which is counted)."""

    def __init__(self, origins: int = 5, mode: str = "body", interval: float = 0.2):
        self.mode, self.interval = mode, interval
        self.released = threading.Event()
        self.held: Counter[int] = Counter()  # port -> connections open now
        self.most: Counter[int] = Counter()  # port -> most connections open at once
        self.accepted: Counter[int] = Counter()
        self.given_up: Counter[int] = Counter()  # connections the client closed while they dripped
        self._lock = threading.Lock()
        self._listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(origins)]
        self.ports = [listener.getsockname()[1] for listener in self._listeners]
        for listener in self._listeners:
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    @property
    def origins(self) -> list[str]:
        """The base URL of each key server."""
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def total_held(self) -> int:
        """Connections held open right now, all ports together."""
        with self._lock:
            return sum(self.held.values())

    def release(self) -> None:
        """End every dripping answer and stop listening."""
        self.released.set()
        for listener in self._listeners:
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        port = listener.getsockname()[1]
        while not self.released.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # released
            threading.Thread(target=self._drip, args=(connection, port), daemon=True).start()

    def _drip(self, connection: socket.socket, port: int) -> None:
        with self._lock:
            self.held[port] += 1
            self.accepted[port] += 1
            self.most[port] = max(self.most[port], self.held[port])
        try:
            _read_head(connection)
            connection.sendall(HEADS[self.mode])
            while not self.released.is_set():
                # readable with nothing to read: the client closed its end
                if select.select([connection], [], [], self.interval)[0] and not connection.recv(4096):
                    self._count_given_up(port)
                    return
                connection.sendall(b" " if self.mode == "body" else b"x")
        except OSError:
            self._count_given_up(port)
        finally:
            connection.close()
            with self._lock:
                self.held[port] -= 1

    def _count_given_up(self, port: int) -> None:
        with self._lock:
            self.given_up[port] += 1


def _read_head(connection: socket.socket) -> None:
    data = b""
    connection.settimeout(10)
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            raise OSError("closed before the request ended")
        data += chunk
    connection.settimeout(None)


# --- the server under test --------------------------------------------------------------------------
def storm_config(directory: Path, port: int, extra: str = "") -> Path:
    """A config.toml for `feedserver serve` on `port`: one feed from the bundled samples, loopback allowed."""
    config = directory / "storm.toml"
    sample = (BUNDLED_SAMPLES / "abfallplus_aichwald_test.ics").as_uri()
    config.write_text(
        f"""
[server]
base_url = "http://127.0.0.1:{port}"
licence = "cc0-1.0"
[storage]
url = "sqlite:///{directory / "storm.sqlite3"}"
[fetch]
allow_networks = ["127.0.0.0/8"]
{extra}
[feeds.{FEED_ID}]
source = "ics"
title = "Storm"
url = "{sample}"
""",
        encoding="utf-8",
    )
    return config


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serve(config: Path, port: int, log: Path) -> subprocess.Popen:
    """`feedserver serve` (waitress, 8 threads, with its push worker) on 127.0.0.1:port, once it answers."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "feedserver", "--config", str(config), "serve", "--port", str(port)],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while healthz(port, 1.0) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"feedserver serve did not come up; see {log}")
        time.sleep(0.1)
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop a server (SIGTERM, then SIGKILL if it lingers)."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def healthz(port: int, timeout: float) -> float | None:
    """Seconds /healthz took to answer 200, or None when it did not within `timeout`."""
    answered, seconds = timed_healthz(port, timeout)
    return seconds if answered else None


def timed_healthz(port: int, timeout: float) -> tuple[bool, float]:
    """Whether /healthz answered 200 within `timeout`, and the seconds spent waiting either way."""
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", "/healthz")
        answered = connection.getresponse().status == 200
        connection.close()
    except OSError:
        answered = False
    return answered, time.monotonic() - started


# --- the storm --------------------------------------------------------------------------------------
@dataclass
class Storm:
    """What the inbox POSTs and the /healthz probes during them saw."""

    statuses: Counter = field(default_factory=Counter)
    post_seconds: list[float] = field(default_factory=list)
    healthz_seconds: list[float] = field(default_factory=list)  # unanswered probes count with their wait
    healthz_failures: int = 0  # no answer within the probe timeout


def signed_follows(feed_actor: str, origins: list[str], count: int) -> list[tuple[bytes, dict[str, str]]]:
    """`count` Follows of a feed's actor by actors spread over the origins, each signed with a keyId there."""
    private_pem, _ = new_key_pair()
    requests = []
    for n in range(count):
        actor = f"{origins[n % len(origins)]}/users/u{n}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor}#follow-{n}",
            "type": "Follow",
            "actor": actor,
            "object": feed_actor,
        }
        body = json.dumps(activity).encode()
        headers = sign("POST", f"{feed_actor}/inbox", f"{actor}#main-key", private_pem, body)
        requests.append((body, headers | {"Content-Type": "application/activity+json"}))
    return requests


def feed_actor(port: int) -> str:
    """The storm feed's actor on a server at 127.0.0.1:port."""
    return f"http://127.0.0.1:{port}/ap/feeds/{FEED_ID}"


def storm(port: int, requests: list[tuple[bytes, dict]], probe_timeout: float = 5.0) -> Storm:
    """POST all requests at once to the storm feed's inbox, probing /healthz until every one is answered."""
    result = Storm()
    path = f"/ap/feeds/{FEED_ID}/inbox"
    start = threading.Barrier(len(requests) + 1)

    def post(body: bytes, headers: dict) -> None:
        start.wait()
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            connection.request("POST", path, body=body, headers=headers)
            status = connection.getresponse().status
        except OSError as exc:
            status = type(exc).__name__
        finally:
            connection.close()
        result.post_seconds.append(time.monotonic() - started)
        result.statuses[status] += 1

    with ThreadPoolExecutor(len(requests)) as pool:
        futures = [pool.submit(post, body, headers) for body, headers in requests]
        start.wait()
        while not all(future.done() for future in futures):
            probe(port, result, probe_timeout)
            time.sleep(PROBE_PAUSE)
    return result


def probe(port: int, result: Storm, timeout: float) -> None:
    """One /healthz probe, its time (and failure) added to the result."""
    answered, seconds = timed_healthz(port, timeout)
    result.healthz_seconds.append(seconds)
    result.healthz_failures += not answered


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (the largest for tiny samples)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]
