"""HTTP load for the benchmarks: wrk when installed (requests/s, p50, p99), else a Python client."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """One load run's figures."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers, socket errors
    requests: int = 0
    cpu_us: float = 0.0  # CPU time the server's processes spent per request (robust to a busy machine)

    def cells(self) -> str:
        """Requests/s, p50, p99 and server CPU per request as table cells."""
        return f"{self.rps:>9,.0f} {self.p50_ms:>8.2f} {self.p99_ms:>8.2f} {self.cpu_us:>8.0f}"


def tool() -> str:
    """The load generator this run uses."""
    return "wrk" if shutil.which("wrk") else "python keep-alive client (wrk not installed: lower bound)"


def run(
    port: int, path: str, headers: dict, seconds: int, connections: int, expected: int, server_pid: int = 0
) -> Load:
    """Load 127.0.0.1:port/path for `seconds`; every answer must have the `expected` status.

    server_pid: the server's main process; the CPU time of it and its children is divided by the requests.
    """
    before = cpu_seconds(server_pid) if server_pid else 0.0
    if shutil.which("wrk"):
        result = _wrk(port, path, headers, seconds, connections)
    else:
        result = _python(port, path, headers, seconds, expected)
    if not server_pid or not result.requests:
        return result
    per_request = (cpu_seconds(server_pid) - before) / result.requests * 1e6
    return Load(result.rps, result.p50_ms, result.p99_ms, result.errors, result.requests, per_request)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and all its descendants (Linux /proc)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = open(f"/proc/{current}/stat").read().rsplit(")", 1)[1].split()
            # utime, stime, and cutime, cstime: a recycled gunicorn worker's time moves to its master
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
            for task in os.listdir(f"/proc/{current}/task"):
                pending += [int(c) for c in open(f"/proc/{current}/task/{task}/children").read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # a process that ended meanwhile
    return total


def _wrk(port: int, path: str, headers: dict, seconds: int, connections: int) -> Load:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_millis(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        p99_ms=_millis(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        errors=errors,
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
    )


def _millis(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _client(port, path, headers, deadline, expected, queue) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    latencies, errors = [], 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        errors += response.status != expected
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    queue.put((latencies, errors))


def _python(port: int, path: str, headers: dict, seconds: int, expected: int) -> Load:
    queue = multiprocessing.Queue()
    deadline = time.monotonic() + seconds
    clients = [
        multiprocessing.Process(target=_client, args=(port, path, headers, deadline, expected, queue))
        for _ in range(8)
    ]
    for client in clients:
        client.start()
    results = [queue.get() for _ in clients]
    for client in clients:
        client.join()
    latencies = sorted(x for lat, _ in results for x in lat)
    cut = statistics.quantiles(latencies, n=100)
    errors = sum(e for _, e in results)
    return Load(len(latencies) / seconds, cut[49] * 1000, cut[98] * 1000, errors, len(latencies))
