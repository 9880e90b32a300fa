"""The suite's HTTP transport retries a request once, on a fresh connection, only when the server closed a reused
keep-alive connection without answering (the idle-timeout race); every other failure is the server's, named by hop."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from hoop_conformance.transport import BrowserLikeTransport

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"

Behaviour = Callable[[int, int], bool]
"""(connection number, request number on it) -> answer it (True) or close the connection without a word."""


def read_request(connection: socket.socket) -> bool:
    """Read one request's head (no body); False when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[str]:
    """A loopback HTTP/1.1 server that answers or drops each request as ``behaviour`` says."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(connection: socket.socket, number: int) -> None:
        with connection:
            requests = 0
            while read_request(connection):
                requests += 1
                if not behaviour(number, requests):
                    return
                connection.sendall(OK)

    def accept() -> None:
        number = 0
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=serve, args=(connection, number), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        thread.join(timeout=5)


def client(url: str, retries: list[str]) -> httpx.Client:
    transport = BrowserLikeTransport(servers={url: "gateway"}, on_retry=retries.append)
    return httpx.Client(transport=transport, timeout=5.0, trust_env=False)


def test_a_reused_connection_closed_without_an_answer_is_retried_once_on_a_fresh_one() -> None:
    # the first connection answers its first request, then closes when reused (a server's idle timeout, raced)
    retries: list[str] = []
    with raw_server(lambda connection, request: connection > 1 or request == 1) as url, client(url, retries) as http:
        assert http.get(url + "/api/userinfo").status_code == 200
        assert http.get(url + "/api/userinfo?token=s3cr3t-value").status_code == 200
    assert len(retries) == 1, retries
    assert "GET" in retries[0] and "at the gateway (reused connection" in retries[0], retries
    assert "s3cr3t-value" not in retries[0], "the hop's URL must be redacted"


def test_a_fresh_connection_closed_without_an_answer_fails_naming_its_hop() -> None:
    retries: list[str] = []
    with (
        raw_server(lambda connection, request: False) as url,
        client(url, retries) as http,
        pytest.raises(httpx.RemoteProtocolError) as failed,
    ):
        http.get(url + "/api/callback")
    assert retries == []
    assert "GET http://127.0.0.1" in str(failed.value) and "/api/callback at the gateway (fresh connection" in str(
        failed.value
    )


def test_a_second_failure_after_the_retry_is_the_servers() -> None:
    # every reused connection is dropped, and so is the fresh connection of the retry (every connection after the first)
    retries: list[str] = []
    with raw_server(lambda connection, request: connection == 1 and request == 1) as url, client(url, retries) as http:
        assert http.get(url + "/").status_code == 200
        with pytest.raises(httpx.RemoteProtocolError) as failed:
            http.get(url + "/again")
    assert len(retries) == 1
    assert "on the retry after a reused connection was found closed" in str(failed.value)
