"""Run the mock on a socket it binds itself (port 0 works), over HTTP or HTTPS, announcing itself once it listens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_idp import tls
from mock_idp.app import ADMIN_PREFIX, create_app
from mock_idp.control_routes import CONTROL_PREFIX
from mock_idp.errors import SettingsError
from mock_idp.settings import MockIdpSettings


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SettingsError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(1024)
    return sock


class WriteCoalescer:
    """A transport whose writes in one event-loop turn leave as one send.

    uvicorn writes a response's head and body separately; on loopback each write wakes the client,
    so joining them halves the wake-ups per request. Everything else goes to the real transport.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Queue ``data``; the queue is sent once the running callback gives the loop back."""
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Send what is queued (dropped if the connection closed meanwhile, as nobody can read it)."""
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        """Send what is queued, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a ``WriteCoalescer``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, WriteCoalescer(transport, self.loop)))


def describe(
    settings: MockIdpSettings, issuer: str, port: int, *, tls_files: tls.TlsFiles | None = None
) -> dict[str, Any]:
    """What a client needs to use the mock: URLs, the admin key, the apps with their secrets; over HTTPS the CA
    file a gateway is to trust (``ca_file``), what is served (``tls_mode``) and the CA that signed it
    (``serving_ca_file``: the suite's own clients reach the mock with it in every mode); these are null over HTTP."""
    base_url = f"{settings.scheme}://{settings.host}:{port}"
    ca_file = None if tls_files is None else tls_files.ca_file
    serving_ca_file = None if tls_files is None else tls_files.serving_ca_file
    return {
        "issuer": issuer,
        "base_url": base_url,
        "admin_url": base_url + ADMIN_PREFIX,
        "control_url": base_url + CONTROL_PREFIX,
        "admin_key": settings.admin_key,
        "ca_file": None if ca_file is None else str(ca_file),
        "tls_mode": settings.tls_mode if settings.tls else None,
        "serving_ca_file": None if serving_ca_file is None else str(serving_ca_file),
        "apps": [
            {
                "app_id": a.app_id,
                "client_id": a.client_id,
                "client_secret": a.client_secret,
                "redirect_uris": list(a.redirect_uris),
                "groups_claim": a.groups_claim,
            }
            for a in settings.apps
        ],
        "users": [{"email": u.email, "password": u.password, "groups": list(u.groups)} for u in settings.users],
    }


def write_ready_file(path: Path, info: dict[str, Any]) -> None:
    """Write the description atomically, readable by its owner only; ``SettingsError`` if it cannot be written."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(info, handle)
        os.replace(tmp, path)
    except (OSError, ValueError) as error:
        with contextlib.suppress(OSError, ValueError):
            tmp.unlink()
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise SettingsError(f"--ready-file {path}: cannot write it: {reason}") from None


class Server:
    """The mock bound to its socket: ``run`` announces it and serves until ``stop`` (or SIGINT/SIGTERM).

    With ``tls`` its certificate and CA are ready before it binds (``mock_idp.tls``).
    """

    def __init__(self, settings: MockIdpSettings) -> None:
        self._tls = tls.prepare(settings) if settings.tls else None
        try:
            self._sock = bind(settings.host, settings.port)
            port = int(self._sock.getsockname()[1])
            issuer = settings.issuer_for(port)
            self.info = describe(settings, issuer, port, tls_files=self._tls)
            config = uvicorn.Config(
                create_app(settings, issuer),
                http=CoalescingHttpToolsProtocol,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
                server_header=False,
                ssl_certfile=None if self._tls is None else self._tls.certfile,
                ssl_keyfile=None if self._tls is None else self._tls.keyfile,
            )
            self._server = uvicorn.Server(config)
        except BaseException:
            self._remove_tls_files()
            raise

    def _remove_tls_files(self) -> None:
        if self._tls is not None:
            self._tls.remove()

    def stop(self) -> None:
        """Ask the server to finish (safe from a signal handler, before or while it runs)."""
        self._server.should_exit = True

    def run(self, announce: Callable[[dict[str, Any]], None]) -> None:
        """Announce the description, then serve until stopped; the socket is closed and generated TLS files
        removed at the end."""
        try:
            announce(self.info)
            self._server.run(sockets=[self._sock])
        finally:
            self._sock.close()
            self._remove_tls_files()


def serve(settings: MockIdpSettings, announce: Callable[[dict[str, Any]], None]) -> None:
    """Bind, build the app, announce, then serve until SIGINT/SIGTERM."""
    Server(settings).run(announce)
