"""Garbage at every route of the gateway gets a clean 4xx (or a redirect): never a 5xx, never a traceback."""

from __future__ import annotations

import itertools

import pytest

from tests.reference_gateway.harness import Harness

ROUTES = (
    "/api/healthz",
    "/api/login",
    "/api/callback",
    "/api/userinfo",
    "/api/users",
    "/api/users/not-a-user",
    "/api/api-keys",
    "/api/serverconfig/auth",
    "/login",
    "/login/start",
    "/callback",
)
QUERIES = (
    {"redirect": "javascript:alert(1)", "state": "\x00" * 10},
    {"code": "'" * 3000, "state": "%ZZ", "error": "<script>x</script>"},
    [("state", "a"), ("state", "b"), ("code", "c")],
)
BODIES = (b'{"status": 5, "groups": "admin"', b"[]", bytes(range(256)))
AUTHORIZATIONS = ("", "Bearer", "Bearer  x", "bearer x.y.z", "Basic dTpw", "Bearer " + "A" * 10_000)


@pytest.mark.parametrize("route", ROUTES)
def test_garbage_never_gets_a_server_error(gw: Harness, route: str) -> None:
    tokens = [f"Bearer {gw.sign_in(gw.user())}", f"Bearer {gw.sign_in(gw.user('admin'))}"]
    client = gw.client()
    answers = []
    for query, authorization in itertools.product(QUERIES, (*AUTHORIZATIONS, *tokens)):
        answers.append(client.get(gw.url + route, params=query, headers={"Authorization": authorization}))
    for body, authorization in itertools.product(BODIES, (AUTHORIZATIONS[0], *tokens)):
        headers = {"Authorization": authorization, "Content-Type": "application/json"}
        answers.append(client.put(gw.url + route, content=body, headers=headers))
        answers.append(client.post(gw.url + route, content=body, headers=headers))
    for answer in answers:
        assert answer.status_code < 500, (answer.request.method, str(answer.request.url)[:200], answer.text[:300])
        assert "Traceback" not in answer.text
