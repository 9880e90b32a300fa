"""JumpCloud's admin API subset: systemusers (v1), usergroups, members and associations (v2), applications."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hoop_conformance.launchers.mock import RunningMockIdp


@pytest.fixture
def api(mock_idp: RunningMockIdp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{mock_idp.base_url}/api", headers={"x-api-key": mock_idp.admin_key}) as client:
        yield client


def new_user(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    body = {
        "email": f"admin-{tag}@example.test",
        "username": f"admin-{tag}",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "password": "Pa55-word!",
        "activated": True,
        **fields,
    }
    response = api.post("/systemusers", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("key", [None, "wrong-key"])
@pytest.mark.parametrize("path", ["/systemusers", "/v2/usergroups", "/applications"])
def test_api_key_is_required(mock_idp: RunningMockIdp, key: str | None, path: str) -> None:
    headers = {"x-api-key": key} if key else {}
    response = httpx.get(f"{mock_idp.base_url}/api{path}", headers=headers)
    assert response.status_code == 401
    assert response.json()["message"].startswith("Unauthorized: ")


def test_control_api_needs_the_key_too(mock_idp: RunningMockIdp) -> None:
    response = httpx.get(f"{mock_idp.base_url}/_mock/info")
    assert response.status_code == 401
    assert response.json()["message"].startswith("Unauthorized: ")


def test_create_get_and_find_a_user(api: httpx.Client, mock_idp: RunningMockIdp) -> None:
    user = new_user(api)
    assert len(user["_id"]) == 24 and int(user["_id"], 16) >= 0
    assert user["firstname"] == "Ada" and user["activated"] is True and user["suspended"] is False
    assert "password" not in user
    assert user["organization"] == mock_idp.control.info()["org_id"]

    fetched = api.get(f"/systemusers/{user['_id']}")
    assert fetched.status_code == 200
    assert fetched.json()["email"] == user["email"]

    found = api.get("/systemusers", params={"filter": f"email:$eq:{user['email'].upper()}"})
    assert found.status_code == 200
    assert found.json()["totalCount"] == 1
    assert [u["_id"] for u in found.json()["results"]] == [user["_id"]]

    none = api.get("/systemusers", params={"filter": "email:$eq:nobody-here@example.test"}).json()
    assert none == {"totalCount": 0, "results": []}


def test_duplicate_user_is_400(api: httpx.Client) -> None:
    user = new_user(api)
    response = api.post("/systemusers", json={"email": user["email"], "username": "another-" + uuid.uuid4().hex[:6]})
    assert response.status_code == 400
    assert response.json() == {"message": "User already exists"}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "no-email"},
        {"email": "not-an-email", "username": "x"},
        {"email": "a@b.test", "username": "y", "suspended": "yes"},
    ],
)
def test_invalid_user_is_400(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/systemusers", json=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_bad_json_is_400(api: httpx.Client) -> None:
    response = api.post("/systemusers", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"message": "the request body is not valid JSON"}


def test_update_and_suspend_a_user(api: httpx.Client) -> None:
    user = new_user(api)
    response = api.put(f"/systemusers/{user['_id']}", json={"firstname": "Grace", "suspended": True})
    assert response.status_code == 200
    updated = response.json()
    assert updated["firstname"] == "Grace" and updated["suspended"] is True and updated["state"] == "SUSPENDED"
    assert api.get(f"/systemusers/{user['_id']}").json()["suspended"] is True


def test_update_to_a_taken_email_is_400(api: httpx.Client) -> None:
    first, second = new_user(api), new_user(api)
    response = api.put(f"/systemusers/{second['_id']}", json={"email": first["email"]})
    assert response.status_code == 400
    assert response.json()["message"] == "User already exists"


def test_delete_a_user_then_404s(api: httpx.Client) -> None:
    user = new_user(api)
    deleted = api.delete(f"/systemusers/{user['_id']}")
    assert deleted.status_code == 200
    assert deleted.json()["_id"] == user["_id"]
    for response in (
        api.get(f"/systemusers/{user['_id']}"),
        api.put(f"/systemusers/{user['_id']}", json={}),
        api.delete(f"/systemusers/{user['_id']}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Not Found"}


def test_bad_filter_is_400(api: httpx.Client) -> None:
    for path, bad in (
        ("/systemusers", "email:eq:x@y.test"),
        ("/systemusers", "password:$eq:x"),
        ("/v2/usergroups", "name:$eq:x"),
        ("/v2/usergroups", "id:eq:x"),
    ):
        response = api.get(path, params={"filter": bad})
        assert response.status_code == 400, (path, bad)
        assert "invalid filter" in response.json()["message"]


def test_paging(api: httpx.Client) -> None:
    new_user(api)
    new_user(api)
    assert len(api.get("/systemusers", params={"limit": 1}).json()["results"]) == 1
    assert api.get("/systemusers", params={"limit": 0}).status_code == 400
    assert api.get("/systemusers", params={"skip": "x"}).status_code == 400


def test_usergroups_create_find_get_delete(api: httpx.Client) -> None:
    name = f"Group-{uuid.uuid4().hex[:8]}"
    created = api.post("/v2/usergroups", json={"name": name})
    assert created.status_code == 201
    group = created.json()
    assert group["name"] == name and group["type"] == "user_group" and len(group["id"]) == 24

    found = api.get("/v2/usergroups", params={"filter": f"name:eq:{name}"})
    assert found.status_code == 200
    assert found.json() == [group]
    assert api.get("/v2/usergroups", params={"filter": f"name:eq:{name.lower()}"}).json() == []
    assert api.get(f"/v2/usergroups/{group['id']}").json() == group

    assert api.post("/v2/usergroups", json={"name": name}).status_code == 409
    assert api.post("/v2/usergroups", json={"name": "  "}).status_code == 400

    deleted = api.delete(f"/v2/usergroups/{group['id']}")
    assert deleted.status_code == 204
    assert api.get(f"/v2/usergroups/{group['id']}").status_code == 404
    assert api.delete(f"/v2/usergroups/{group['id']}").status_code == 404


def test_members_add_list_remove(api: httpx.Client) -> None:
    group = api.post("/v2/usergroups", json={"name": f"Members-{uuid.uuid4().hex[:8]}"}).json()
    user = new_user(api)
    members = f"/v2/usergroups/{group['id']}/members"
    added = api.post(members, json={"op": "add", "type": "user", "id": user["_id"]})
    assert added.status_code == 204
    assert api.get(members).json() == [
        {"attributes": None, "to": {"attributes": None, "id": user["_id"], "type": "user"}}
    ]
    assert api.post(members, json={"op": "add", "type": "user", "id": user["_id"]}).status_code == 409

    removed = api.post(members, json={"op": "remove", "type": "user", "id": user["_id"]})
    assert removed.status_code == 204
    assert api.get(members).json() == []
    assert api.post(members, json={"op": "remove", "type": "user", "id": user["_id"]}).status_code == 404
    assert api.post(members, json={"op": "add", "type": "user", "id": "0" * 24}).status_code == 404
    assert api.post(members, json={"op": "add", "type": "system", "id": user["_id"]}).status_code == 400
    assert api.post(members, json={"op": "replace", "type": "user", "id": user["_id"]}).status_code == 400


def test_associations_add_list_remove(api: httpx.Client, mock_idp: RunningMockIdp) -> None:
    app = mock_idp.control.create_app()
    group = api.post("/v2/usergroups", json={"name": f"Assoc-{uuid.uuid4().hex[:8]}"}).json()
    associations = f"/v2/usergroups/{group['id']}/associations"
    added = api.post(associations, json={"op": "add", "type": "application", "id": app["app_id"]})
    assert added.status_code == 204
    listed = api.get(associations, params={"targets": "application"})
    assert listed.status_code == 200
    assert [c["to"] for c in listed.json()] == [{"attributes": None, "id": app["app_id"], "type": "application"}]
    assert api.get(associations, params={"targets": "system"}).status_code == 400

    assert api.post(associations, json={"op": "remove", "type": "application", "id": app["app_id"]}).status_code == 204
    assert api.get(associations).json() == []
    assert api.post(associations, json={"op": "add", "type": "application", "id": "0" * 24}).status_code == 404
    assert (
        api.post(
            f"/v2/usergroups/{'0' * 24}/associations", json={"op": "add", "type": "application", "id": app["app_id"]}
        ).status_code
        == 404
    )


def test_applications_lists_the_oidc_apps(api: httpx.Client, mock_idp: RunningMockIdp) -> None:
    app = mock_idp.control.create_app(name="Listed App", login_url="http://127.0.0.1:9/login")
    response = api.get("/applications", params={"limit": 1000})
    assert response.status_code == 200
    body = response.json()
    assert body["totalCount"] == len(body["results"]) >= 2  # other tests of this session add apps too
    listed = next(a for a in body["results"] if a["_id"] == app["app_id"])
    assert listed["displayName"] == "Listed App"
    assert listed["ssoUrl"] == "http://127.0.0.1:9/login"
    assert listed["sso"] == {"type": "oidc"}


def test_unknown_admin_path_is_404_in_jumpclouds_shape(api: httpx.Client) -> None:
    response = api.get("/v2/systems")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
