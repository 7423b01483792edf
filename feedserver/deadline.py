"""A total deadline for HTTP exchanges: one watchdog thread shuts the sockets of those that ran out of time.

Timeouts bound each socket operation, not their sum: a server that drips its status line, its headers or its
body a byte at a time, each byte within the read timeout, would hold the calling thread for as long as it
likes. The watchdog shuts the sockets of an exchange when its deadline passes; the blocked read returns at
once and the client fails. One thread serves every open exchange from a heap of deadlines, and it ends
when none has been open for a while (so no thread is left per request, and none at all when idle).
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from urllib3.exceptions import ConnectTimeoutError

THREAD_NAME = "feedserver-deadline"
IDLE = 2.0  # seconds the watchdog thread waits for a new exchange before it ends

_current: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar("exchange", default=None)


class Exchange:
    """One request with its redirects: when it must be over, and the sockets to cut then."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.expired = False  # the watchdog cut it
        self.ended = False
        self.watched = False  # the watchdog will cut it when due (guarded by the watchdog's lock)
        self._handles: list[socket.socket] = []
        self._lock = threading.Lock()

    def overdue(self) -> bool:
        """True once the deadline passed (whether or not the watchdog has cut the sockets yet)."""
        return self.expired or time.monotonic() >= self.due

    def remaining(self) -> float:
        """Seconds left until the deadline (negative once it passed)."""
        return self.due - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        """Cut this socket's connection too when the deadline passes (at once if it already did)."""
        # A duplicate descriptor, not the socket object: TLS wrapping detaches the object the connection
        # opened, and shutdown() acts on the connection whichever descriptor names it. Keeping our own
        # descriptor open until the exchange ends also means its number cannot meanwhile name another socket.
        handle = socket.fromfd(sock.fileno(), sock.family, sock.type)
        with self._lock:
            self._handles.append(handle)
            if self.expired:
                _shut(handle)

    def cut(self) -> None:
        """Shut every connection of the exchange: the blocked read or write returns at once."""
        with self._lock:
            if self.ended:
                return
            self.expired = True
            for handle in self._handles:
                _shut(handle)

    def end(self) -> None:
        """The exchange is over: close our descriptors (the connections themselves stay with their pool)."""
        with self._lock:
            self.ended = True
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.close()


def _shut(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the connection is closed already


class Watchdog:
    """One thread that cuts the exchanges whose deadline passed, waiting on a heap of their deadlines."""

    def __init__(self, name: str = THREAD_NAME, idle: float = IDLE):
        self.name = name
        self.idle = idle
        self._reset()

    def _reset(self) -> None:
        self._changed = threading.Condition()
        self._heap: list[tuple[float, int, Exchange]] = []
        self._order = itertools.count()  # ties on the deadline never compare exchanges
        self._dropped = 0  # entries of exchanges no longer watched, left in the heap until popped
        self._thread: threading.Thread | None = None

    @contextmanager
    def exchange(self, seconds: float) -> Iterator[Exchange]:
        """Watch the sockets that connections open or reuse in this block, and cut them after `seconds`."""
        exchange = Exchange(seconds)
        self._add(exchange)
        token = _current.set(exchange)
        try:
            yield exchange
        finally:
            _current.reset(token)
            exchange.end()
            self._remove(exchange)

    def _add(self, exchange: Exchange) -> None:
        with self._changed:
            heapq.heappush(self._heap, (exchange.due, next(self._order), exchange))
            exchange.watched = True
            if self._thread is None:
                thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                thread.start()  # it waits for the lock we hold
                self._thread = thread
            elif self._heap[0][2] is exchange:
                self._changed.notify()  # due before whatever the thread waits for

    def _remove(self, exchange: Exchange) -> None:
        with self._changed:
            if not exchange.watched:
                return  # cut already
            exchange.watched = False
            self._dropped += 1
            if self._dropped * 2 >= len(self._heap):  # mostly dropped: rebuild, so the heap stays small
                self._heap = [entry for entry in self._heap if entry[2].watched]
                heapq.heapify(self._heap)
                self._dropped = 0
                if not self._heap:
                    self._changed.notify()  # nothing to wait for: the thread may idle and end

    def _run(self) -> None:
        with self._changed:
            # with nothing to watch, wait a while for a new exchange before ending
            while self._heap or (self._changed.wait(self.idle) and self._heap):
                due, _, exchange = self._heap[0]
                left = due - time.monotonic()
                if not exchange.watched:
                    heapq.heappop(self._heap)
                    self._dropped -= 1
                elif left > 0:
                    self._changed.wait(left)
                else:
                    heapq.heappop(self._heap)
                    exchange.watched = False
                    exchange.cut()  # shutdown() never blocks
            self._thread = None


WATCHDOG = Watchdog()
# A child process has none of its parent's threads, and may inherit the lock held.
os.register_at_fork(after_in_child=WATCHDOG._reset)


class WatchedConnection:
    """Mixin for urllib3 connections: every socket opened or reused in an exchange is cut at its deadline."""

    _watched_by: Exchange | None = None

    def _new_conn(self) -> socket.socket:
        exchange = _current.get()
        if exchange is not None:
            # connecting counts too: never wait longer than the exchange has left
            if exchange.remaining() <= 0:
                raise ConnectTimeoutError(self, f"no time left to connect to {self.host}")
            if isinstance(self.timeout, int | float):
                self.timeout = min(self.timeout, exchange.remaining())
        sock = super()._new_conn()
        if exchange is not None:
            try:
                exchange.watch(sock)
            except OSError:
                sock.close()  # an exchange that cannot be cut must not start
                raise
            self._watched_by = exchange
        return sock

    def request(self, *args, **kwargs) -> None:
        """Send a request; a connection kept alive from an earlier exchange is watched by this one too."""
        exchange = _current.get()
        if exchange is not None and self.sock is not None and self._watched_by is not exchange:
            exchange.watch(self.sock)
            self._watched_by = exchange
        super().request(*args, **kwargs)
