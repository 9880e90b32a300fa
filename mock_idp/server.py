"""Run the mock on a socket it binds itself (port 0 works), announcing itself once it listens."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

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


def describe(settings: MockIdpSettings, issuer: str, port: int) -> dict[str, Any]:
    """What a client needs to use the mock: URLs, the admin key, the apps with their secrets."""
    base_url = f"http://{settings.host}:{port}"
    return {
        "issuer": issuer,
        "base_url": base_url,
        "admin_url": base_url + ADMIN_PREFIX,
        "control_url": base_url + CONTROL_PREFIX,
        "admin_key": settings.admin_key,
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
    """Write the description atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info, handle)
    os.replace(tmp, path)


def serve(settings: MockIdpSettings, announce: Callable[[dict[str, Any]], None]) -> None:
    """Bind, build the app, announce, then serve until SIGINT/SIGTERM."""
    sock = bind(settings.host, settings.port)
    port = int(sock.getsockname()[1])
    issuer = settings.issuer_for(port)
    app = create_app(settings, issuer)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2, server_header=False
    )
    announce(describe(settings, issuer, port))
    uvicorn.Server(config).run(sockets=[sock])
