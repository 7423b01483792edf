"""The fetch deadline is total: whatever part of the answer a server drips (status line, headers, body, TLS
handshake) or withholds, the request ends at the deadline, and the watchdog doing it leaves no thread behind.

The servers here are raw sockets on 127.0.0.1. A dripping server stops after GIVE_UP seconds, so a client
without a total deadline fails these tests (too slow) instead of hanging them."""

from __future__ import annotations

import itertools
import os
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from feedserver.config import from_mapping
from feedserver.deadline import THREAD_NAME
from feedserver.errors import UpstreamError
from feedserver.fetch import FetchSettings, Http
from feedserver.push import http as push_http
from tests.push_support import wait_for

INTERVAL = 0.2  # between two dripped bytes: far within every read timeout used here
GIVE_UP = 60.0  # a dripping server ends its answer after this long
DEADLINE = 1.5
BOUND = 10.0  # generous for a busy machine, and far below GIVE_UP
LIMITS = {"allow_networks": ("127.0.0.0/8",), "read_timeout": 5.0, "deadline": DEADLINE}
LATE = "no complete response within 1.5 s"


class RawServer:
    """A listening socket on 127.0.0.1 whose every connection is answered by `answer(server, connection)`."""

    def __init__(self, answer: Callable[[RawServer, socket.socket], None]):
        self.answer = answer
        self.released = threading.Event()
        self.accepted = 0
        self.given_up = 0  # connections the client closed while the server still held them
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str = "http") -> str:
        """A URL on this server."""
        return f"{scheme}://127.0.0.1:{self.port}/data"

    def release(self) -> None:
        """End every answer and stop listening."""
        self.released.set()
        self._listener.close()

    def hold(self, connection: socket.socket, data: Iterator[bytes]) -> None:
        """Send one piece of data every INTERVAL until the client leaves, the test ends or GIVE_UP passed."""
        ends = time.monotonic() + GIVE_UP
        for piece in data:
            if self.released.is_set() or time.monotonic() > ends:
                return
            if client_left(connection):
                self._count_given_up()
                return
            connection.sendall(piece)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # released
            with self._lock:
                self.accepted += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        try:
            with connection:
                self.answer(self, connection)
        except OSError:
            pass  # released, or the client went away while the server was not holding it

    def _count_given_up(self) -> None:
        with self._lock:
            self.given_up += 1


def client_left(connection: socket.socket) -> bool:
    """Wait up to INTERVAL for the client; True when it closed its end."""
    if not select.select([connection], [], [], INTERVAL)[0]:
        return False
    try:
        return not connection.recv(65536)  # readable with nothing to read
    except OSError:  # reset, or TLS cut without a close_notify
        return True


def read_request(connection: socket.socket) -> None:
    """Read one request head (these clients send no body)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(65536)
        if not chunk:
            raise OSError("client left before its request was complete")
        head += chunk


def bytewise(start: bytes, then: bytes) -> Iterator[bytes]:
    """`start` one byte at a time, then `then` forever."""
    return itertools.chain((bytes([b]) for b in start), itertools.repeat(then))


def drip_head(server: RawServer, connection: socket.socket) -> None:
    """The status line and then a header that never ends, one byte at a time."""
    read_request(connection)
    server.hold(connection, bytewise(b"HTTP/1.1 200 OK\r\nX-Drip: ", b"x"))


def silent(server: RawServer, connection: socket.socket) -> None:
    """Accept the request and never answer."""
    read_request(connection)
    server.hold(connection, itertools.repeat(b""))


def drip_body(server: RawServer, connection: socket.socket) -> None:
    """Complete headers, then a body of announced length that never arrives, one byte at a time."""
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
    server.hold(connection, itertools.repeat(b"x"))


def drip_unsized_body(server: RawServer, connection: socket.socket) -> None:
    """A body without a length (it ends when the connection does), one byte at a time."""
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
    server.hold(connection, itertools.repeat(b"x"))


def drip_handshake(server: RawServer, connection: socket.socket) -> None:
    """Answer a TLS ClientHello with a record header announcing 16 KiB, then drip them."""
    connection.recv(65536)
    connection.sendall(b"\x16\x03\x03\x40\x00")  # handshake record, TLS 1.2, 16384 bytes follow
    server.hold(connection, itertools.repeat(b"\x00"))


def over_tls(answer: Callable[[RawServer, socket.socket], None], context: ssl.SSLContext):
    """The same answer inside TLS."""

    def answer_over_tls(server: RawServer, connection: socket.socket) -> None:
        with context.wrap_socket(connection, server_side=True) as tls:
            answer(server, tls)

    return answer_over_tls


def answer_once_then_drip(server: RawServer, connection: socket.socket) -> None:
    """A complete keep-alive answer to the first request, then drip the head of the second."""
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    drip_head(server, connection)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[ssl.SSLContext, str]:
    """A server context with a self-signed certificate for 127.0.0.1, and that certificate's path."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        cwd=directory, check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context, str(directory / "cert.pem")


@pytest.fixture
def serve():
    """Start raw servers for a test; all are released at its end."""
    servers: list[RawServer] = []

    def start(answer) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.release()


def failed_fetch(client: Http, url: str) -> tuple[UpstreamError, float]:
    """The error of a fetch that must fail, and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        client.get(url)
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize(
    "answer,scheme,limits,error",
    [
        (drip_head, "http", {}, LATE),
        (silent, "http", {"read_timeout": 0.5}, "ReadTimeout"),  # the read timeout still comes first
        (silent, "http", {}, LATE),
        (drip_body, "http", {}, LATE),
        (drip_unsized_body, "http", {}, LATE),  # the cut is not taken for the end of the body
        (drip_handshake, "https", {}, LATE),
    ],
    ids=[
        "head-drips",
        "silent-read-timeout",
        "silent-deadline",
        "body-drips",
        "unsized-body",
        "handshake-drips",
    ],
)
def test_a_fetch_ends_at_its_deadline_whatever_the_server_does(serve, answer, scheme, limits, error):
    server = serve(answer)
    client = Http(FetchSettings(**(LIMITS | limits)))
    failure, took = failed_fetch(client, server.url(scheme))
    assert took < BOUND, f"took {took:.1f} s"
    assert error in str(failure), failure
    if error == LATE:
        assert took >= DEADLINE
    wait_for(lambda: server.given_up == 1)  # the client's connection is really gone


def test_a_tls_server_dripping_its_head_is_cut_too(serve, certificate):
    """TLS replaces the socket object the guarded connection opened: the cut must still reach it."""
    context, cafile = certificate
    server = serve(over_tls(drip_head, context))
    client = Http(FetchSettings(**LIMITS))
    client.session.verify = cafile
    failure, took = failed_fetch(client, server.url("https"))
    assert took < BOUND and LATE in str(failure), (took, failure)
    wait_for(lambda: server.given_up == 1)


def test_twenty_fetches_at_once_are_all_cut_by_the_one_watchdog(serve):
    server = serve(drip_head)
    wait_for(lambda: watchdog_threads() == 0)  # the one of earlier tests has ended: only ours is counted

    def fetch(_) -> tuple[UpstreamError, float, int]:
        failure, took = failed_fetch(Http(FetchSettings(**LIMITS)), server.url())
        return failure, took, watchdog_threads()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(fetch, range(20)))
    assert all(took < BOUND and LATE in str(failure) for failure, took, _ in results), results
    assert max(threads for _, _, threads in results) == 1
    wait_for(lambda: server.given_up == 20)


def test_a_kept_alive_connection_is_cut_in_the_next_exchange(serve):
    """The second request reuses the first one's connection: no new socket, watched all the same."""
    server = serve(answer_once_then_drip)
    client = Http(FetchSettings(**LIMITS))
    assert client.get(server.url()).body == b"{}"
    failure, took = failed_fetch(client, server.url())
    assert took < BOUND and LATE in str(failure), (took, failure)
    assert server.accepted == 1


def test_push_requests_keep_their_shorter_deadline(serve):
    """Push builds on the same client; its own deadline (1 s here) is the one that cuts."""
    server = serve(drip_head)
    settings = from_mapping({"fetch": {"allow_networks": ["127.0.0.0/8"], "deadline": 60}}, "test.toml")
    started = time.monotonic()
    with pytest.raises(push_http.PushError, match="no complete response within 1 s") as caught:
        push_http.get(settings, server.url(), deadline=1.0)
    assert time.monotonic() - started < BOUND and caught.value.retry


def watchdog_threads() -> int:
    """Watchdog threads alive now."""
    return sum(thread.name == THREAD_NAME for thread in threading.enumerate())


def open_descriptors() -> int:
    """File descriptors open in this process."""
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_fifty_fetches_share_one_watchdog_thread_that_ends_when_idle(httpserver):
    httpserver.expect_request("/data").respond_with_data("{}", content_type="application/json")
    url = httpserver.url_for("/data")
    wait_for(lambda: watchdog_threads() == 0)  # the one of earlier tests has ended: only ours is counted
    descriptors = open_descriptors()
    most: list[int] = []

    def fetch_ten() -> None:
        client = Http(FetchSettings(**LIMITS))
        for _ in range(10):
            assert client.get(url).body == b"{}"
            most.append(watchdog_threads())
        client.session.close()

    fetchers = [threading.Thread(target=fetch_ten) for _ in range(5)]
    for fetcher in fetchers:
        fetcher.start()
    for fetcher in fetchers:
        fetcher.join()
    assert len(most) == 50 and max(most) == 1
    wait_for(lambda: watchdog_threads() == 0)  # idle for a while: the thread ends
    wait_for(lambda: open_descriptors() <= descriptors)  # every watched socket's duplicate was closed
