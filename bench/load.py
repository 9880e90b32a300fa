"""A lean keep-alive HTTP/1.1 load generator (asyncio + httptools) and latency statistics.

httpx costs about 0.75 ms of client CPU per request here, which caps a client near 1,300 requests/s on a
2-core machine and would measure the client instead of the server; this one costs a small fraction of that.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast
from urllib.parse import urlsplit

import httptools

T = TypeVar("T")
R = TypeVar("R")

STOP_GRACE = 30.0
"""Seconds a phase may overrun its time limit (requests in flight) before it is cancelled."""


class ResponseError(Exception):
    """An answer the benchmark cannot use: wrong status or body, or a dropped connection."""


@dataclass(frozen=True)
class Endpoint:
    """Where requests go: host, port and path of an ``http://`` URL."""

    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """Split an ``http://`` URL."""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the load generator speaks plain http only, not {url}")
        return cls(parts.hostname, parts.port or 80, parts.path or "/")

    def request(self, method: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        """A complete HTTP/1.1 request to this endpoint."""
        lines = [f"{method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ResponseError(f"connection closed by the server: {exc}"))

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(ResponseError(f"unparsable response: {error}"))
            self.close()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.body)))
        self.body = []

    @property
    def open(self) -> bool:
        """Whether the connection can carry another request."""
        return self.transport is not None and not self.transport.is_closing()

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Write a request; the response's status and body."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter

    def close(self) -> None:
        """Close the socket."""
        if self.transport is not None:
            self.transport.close()


async def connect(endpoint: Endpoint) -> Connection:
    """A new connection to ``endpoint``."""
    _, connection = await asyncio.get_running_loop().create_connection(Connection, endpoint.host, endpoint.port)
    return connection


@dataclass
class Run(Generic[R]):
    """What one measured phase did: per-request latencies (seconds), results, failures, wall time."""

    latencies: list[float] = field(default_factory=list)
    results: list[R] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    timed_out: bool = False

    def add(self, other: Run[R]) -> None:
        """Fold another run of the same requests into this one."""
        self.latencies += other.latencies
        self.results += other.results
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.timed_out = self.timed_out or other.timed_out

    @property
    def rate(self) -> float:
        """Successful requests per second of wall time."""
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * 1000


async def drive(
    endpoint: Endpoint,
    requests: Sequence[tuple[bytes, T]],
    check: Callable[[int, bytes, T], R],
    *,
    concurrency: int,
    time_limit: float,
) -> Run[R]:
    """Send every request, ``concurrency`` at a time over keep-alive connections; stop at ``time_limit`` seconds.

    Each request comes with the item ``check`` receives along with the response's status and body;
    ``check`` returns the result or raises ``ResponseError``. Connections are opened before the clock starts.
    """
    run: Run[R] = Run()
    queue = iter(requests)
    connections = [await connect(endpoint) for _ in range(concurrency)]
    deadline = time.perf_counter() + time_limit

    async def worker(connection: Connection) -> None:
        try:
            for raw, item in queue:
                if time.perf_counter() >= deadline:
                    run.timed_out = True
                    return
                if not connection.open:
                    connection = await connect(endpoint)
                started = time.perf_counter()
                try:
                    status, body = await connection.send(raw)
                    result = check(status, body, item)
                except (ResponseError, OSError) as error:
                    run.errors.append(f"{type(error).__name__}: {error}")
                    continue
                run.latencies.append(time.perf_counter() - started)
                run.results.append(result)
        finally:
            connection.close()

    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(worker(c) for c in connections)), time_limit + STOP_GRACE)
    except TimeoutError:
        run.timed_out = True
        run.errors.append(f"requests still unanswered {STOP_GRACE:g} s after the time limit")
    finally:
        for connection in connections:
            connection.close()
    run.elapsed = time.perf_counter() - started
    return run
