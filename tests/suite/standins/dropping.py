"""``python -m tests.suite.standins.dropping --drop reused|callbacks``: the reference gateway behind a proxy that
closes connections without answering.

In front of the reference gateway (``fronting.py``), an HTTP/1.1 proxy forwards requests unchanged and keeps each
client connection alive, except:

- ``--drop reused``: the first request on a connection is answered, and the connection is closed, with no answer,
  when a second request arrives on it: what a server does that closes idle keep-alive connections just as a
  client reuses one. Browsers send such a request once more on a fresh connection, and so must the suite.
- ``--drop callbacks``: every ``/api/callback`` after the first (the suite's warm-up login) closes its connection
  with no answer, fresh or reused: a gateway that really drops connections under load.

A dropped request never reaches the reference gateway. It answers with raw sockets (h11): an ASGI server cannot
close a connection without answering.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import h11
import httpx

from tests.suite.standins.fronting import run_in_front_of_reference_gateway
from tests.suite.standins.proxy import CALLBACK, HOP_BY_HOP, upstream_client

READ_SIZE = 65536
FRAMING = HOP_BY_HOP | {b"content-length"}
log = logging.getLogger("dropping")


async def _next_request(connection: h11.Connection, reader: asyncio.StreamReader) -> tuple[h11.Request, bytes] | None:
    """The next request on the connection and its body; None once the client has closed it."""
    request: h11.Request | None = None
    body: list[bytes] = []
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(READ_SIZE))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body.append(event.data)
        elif isinstance(event, h11.EndOfMessage) and request is not None:
            return request, b"".join(body)
        elif isinstance(event, h11.ConnectionClosed):
            return None


class DroppingProxy:
    """Forwards to ``upstream_url``, dropping what ``drop`` names (``reused`` or ``callbacks``)."""

    def __init__(self, upstream: httpx.AsyncClient, upstream_url: str, drop: str) -> None:
        self._upstream = upstream
        self._upstream_url = httpx.URL(upstream_url)
        self._drop = drop
        self._callbacks = 0
        self.dropped = 0

    def _drops(self, request: h11.Request, answered_here: int) -> bool:
        if self._drop == "reused":
            return answered_here > 0
        if request.target.split(b"?")[0] != CALLBACK.encode():
            return False
        self._callbacks += 1
        return self._callbacks > 1

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection until the client closes it or a request is dropped."""
        connection = h11.Connection(h11.SERVER)
        answered = 0
        try:
            while (received := await _next_request(connection, reader)) is not None:
                request, body = received
                if self._drops(request, answered):
                    self.dropped += 1
                    return
                writer.write(await self._forward(connection, request, body))
                await writer.drain()
                answered += 1
                if connection.our_state is h11.MUST_CLOSE:
                    return
                connection.start_next_cycle()
        except (h11.ProtocolError, ConnectionError):
            return
        finally:
            writer.close()

    async def _forward(self, connection: h11.Connection, request: h11.Request, body: bytes) -> bytes:
        headers = [(name, value) for name, value in request.headers if name not in HOP_BY_HOP]
        url = self._upstream_url.copy_with(raw_path=request.target)
        try:
            answer = await self._upstream.send(
                httpx.Request(request.method.decode(), url, headers=headers, content=body), stream=True
            )
            content = b"".join([chunk async for chunk in answer.aiter_raw()])
            status, kept = answer.status_code, [(n, v) for n, v in answer.headers.raw if n.lower() not in FRAMING]
            await answer.aclose()
        except httpx.HTTPError as error:
            status, kept = 502, [(b"content-type", b"text/plain")]
            content = f"proxy: the gateway behind it failed: {type(error).__name__}".encode()
        kept.append((b"content-length", str(len(content)).encode()))
        return b"".join(
            [connection.send(h11.Response(status_code=status, headers=kept)) or b"",
             connection.send(h11.Data(data=content)) or b"", connection.send(h11.EndOfMessage()) or b""]
        )  # fmt: skip


async def _serve(port: int, upstream_url: str, drop: str) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, stopping.set)
    async with upstream_client() as upstream:
        proxy = DroppingProxy(upstream, upstream_url, drop)
        server = await asyncio.start_server(proxy.handle, "127.0.0.1", port)
        async with server:
            await stopping.wait()
    log.info("stopped; dropped %d requests", proxy.dropped)


def main() -> int:
    """Run until stopped (``fronting.run_in_front_of_reference_gateway``)."""
    parser = argparse.ArgumentParser(prog="dropping", description=__doc__.split("\n\n")[0])
    parser.add_argument("--drop", choices=("reused", "callbacks"), required=True, help="which requests to drop")
    drop = parser.parse_args().drop
    return run_in_front_of_reference_gateway("dropping", lambda port, upstream, _: _serve(port, upstream, drop))


if __name__ == "__main__":
    raise SystemExit(main())
