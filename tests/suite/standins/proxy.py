"""A reverse proxy that forwards every request unchanged, except the callbacks after the first: those it refuses.

Forwarded as sent: method, raw path, query, headers (cookies included), body; answered as the upstream answered:
status, headers (every ``Set-Cookie``, ``Location``), body, with no redirect followed. Only hop-by-hop headers are
left out, each side of the proxy keeping its own connection (and httpx drops ``..`` segments of a path, which
browsers and the suite's clients never send).
"""

from __future__ import annotations

import http.cookiejar
import json

import httpx
from starlette.types import Message, Receive, Scope, Send

CALLBACK = "/api/callback"
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
     b"transfer-encoding", b"upgrade"}
)  # fmt: skip


def upstream_client() -> httpx.AsyncClient:
    """A client that adds nothing to a request and keeps nothing of an answer: no redirects, cookies or limits."""
    no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        timeout=None,
        follow_redirects=False,
        trust_env=False,
        cookies=no_cookies,
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
    )


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CallbackRefusingProxy:
    """An ASGI app forwarding to ``upstream_url``; after ``passes`` callbacks, every callback is answered here.

    A refused callback gets ``307`` to ``refusal_location`` and reaches neither the upstream nor the IdP.
    """

    def __init__(
        self, upstream: httpx.AsyncClient, upstream_url: str, refusal_location: str, *, passes: int = 1
    ) -> None:
        self._upstream = upstream
        self._upstream_url = httpx.URL(upstream_url)
        self._refusal = [(b"location", refusal_location.encode()), (b"cache-control", b"no-store")]
        self._passes_left = passes
        self.refused = 0
        """How many callbacks the proxy answered itself."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _body(receive)
        if scope["path"] == CALLBACK:
            if self._passes_left > 0:
                self._passes_left -= 1
            else:
                self.refused += 1
                await _answer(send, 307, self._refusal)
                return
        await self._forward(scope, body, send)

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> None:
        target = scope.get("raw_path") or scope["path"].encode()
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        headers = [(name, value) for name, value in scope["headers"] if name.lower() not in HOP_BY_HOP]
        request = httpx.Request(
            scope["method"], self._upstream_url.copy_with(raw_path=target), headers=headers, content=body
        )
        try:
            response = await self._upstream.send(request, stream=True)
        except httpx.HTTPError as error:
            message = json.dumps({"message": f"proxy: the gateway behind it failed: {type(error).__name__}"})
            await _answer(send, 502, [(b"content-type", b"application/json")], message.encode())
            return
        try:
            kept = [(name.lower(), value) for name, value in response.headers.raw if name.lower() not in HOP_BY_HOP]
            start: Message = {"type": "http.response.start", "status": response.status_code, "headers": kept}
            await send(start)
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()
