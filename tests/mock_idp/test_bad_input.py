"""Garbage at every endpoint gets a shaped 4xx answer: never a 5xx, never a traceback."""

from __future__ import annotations

import base64
import itertools

import httpx
import pytest

from hoop_conformance.launchers.mock import RunningMockIdp

PATHS = (
    ".well-known/openid-configuration",
    ".well-known/jwks.json",
    "oauth2/auth",
    "oauth2/token",
    "userinfo",
    "oauth2/revoke",
    "oauth2/sessions/logout",
    "login",
    "userconsole",
    "api/systemusers",
    "api/systemusers/000000000000000000000000",
    "api/applications",
    "api/v2/usergroups",
    "api/v2/usergroups/000000000000000000000000/members",
    "api/v2/usergroups/000000000000000000000000/associations",
    "_mock/apps",
    "_mock/faults",
    "_mock/clock",
    "_mock/keys",
    "_mock/journal",
    "_mock/users/000000000000000000000000/totp",
)
BODIES = (
    ("application/x-www-form-urlencoded", b"grant_type=authorization_code&code=%ZZ&&=&code=x"),
    ("application/json", b'{"op": "add", "type": "user", "id": 5, "name": ["x"], "advance": "soon"'),
    ("application/json", b"[1, 2, 3]"),
    ("multipart/form-data; boundary=zz", b'--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n'),
    ("text/plain", bytes(range(256))),
)
AUTHORIZATIONS = (
    "Basic !!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
    "Bearer",
    "Bearer a.b.c",
    "bearer  two  spaces",
)


@pytest.mark.parametrize("path", PATHS)
def test_garbage_never_gets_a_server_error(mock_idp: RunningMockIdp, path: str) -> None:
    headers_for_api = {"x-api-key": mock_idp.admin_key}
    with httpx.Client(base_url=mock_idp.base_url, follow_redirects=False) as client:
        answers = []
        for (content_type, body), authorization in itertools.product(BODIES, AUTHORIZATIONS):
            headers = {"content-type": content_type, "authorization": authorization, **headers_for_api}
            answers.append(client.post(f"/{path}", content=body, headers=headers))
            answers.append(client.put(f"/{path}", content=body, headers=headers))
        answers.append(client.get(f"/{path}", params={"filter": "email:$eq", "since": "x", "skip": "-1"}))
        answers.append(client.get(f"/{path}", params=[("client_id", "a"), ("client_id", "b")]))
        answers.append(client.delete(f"/{path}", headers=headers_for_api))
    for answer in answers:
        assert answer.status_code < 500, (answer.request.method, path, answer.status_code, answer.text[:300])
        assert "Traceback" not in answer.text
        content_type = answer.headers.get("content-type", "")
        assert content_type.startswith(("application/json", "text/html")) or not answer.content
