"""JumpCloud's admin API subset: systemusers (v1), usergroups, members and associations (v2), applications."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hoop_conformance.drivers.http_login import HttpLoginError
from hoop_conformance.idp.admin import JumpCloudAdmin
from hoop_conformance.idp.api import IdpApiError
from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from hoop_conformance.users import IdpUser
from mock_idp.settings import MockIdpSettings

from . import flows
from .conftest import CallbackServer, RelyingParty


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
    assert listed["sso"] == {"type": "oidc", "redirectUris": app["redirect_uris"]}
    assert api.get(f"/applications/{app['app_id']}").json() == listed
    assert api.get("/applications/0123456789abcdef01234567").status_code == 404


def test_unknown_admin_path_is_404_in_jumpclouds_shape(api: httpx.Client) -> None:
    response = api.get("/v2/systems")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


# What a staging run uses: activation, MFA exclusion, unlock, deletion, x-org-id, paging, rate limits


ORG_ID = "5f0c1a2b3c4d5e6f7a8b9c0d"


@pytest.fixture(scope="module")
def org(pytestconfig: pytest.Config) -> Iterator[RunningMockIdp]:
    """A mock standing for a strict organization: x-org-id required, MFA required, 3 wrong passwords lock."""
    settings = MockIdpSettings(users=(), org_id=ORG_ID, require_org_id=True, require_mfa=True, lockout_after=3)
    with start_mock_idp(settings, log_dir=pytestconfig.getoption("server_logs")) as running:
        yield running


@pytest.fixture
def org_admin(org: RunningMockIdp) -> Iterator[JumpCloudAdmin]:
    with JumpCloudAdmin(f"{org.base_url}/api", org.admin_key, org_id=ORG_ID) as admin:
        yield admin


@pytest.fixture
def org_rp(org: RunningMockIdp, callback_server: CallbackServer) -> Iterator[RelyingParty]:
    app = org.control.create_app(redirect_uris=[callback_server.url])
    yield RelyingParty(idp=org, app=app, redirect_uri=callback_server.url)
    org.control.reset()


def org_user(admin: JumpCloudAdmin, rp: RelyingParty, **fields: Any) -> IdpUser:
    """A user of ``rp``'s app at the strict organization (created with ``fields``)."""
    tag = uuid.uuid4().hex[:10]
    created = admin.create_user(f"staged-{tag}@example.test", password="Pa55-word!x", **fields)
    admin.add_member(admin.bound_group(f"users-{tag}", rp.app["app_id"]), created["_id"])
    return IdpUser(created["_id"], created["email"], created["password"], "Test", "User", (f"users-{tag}",))


def logs_in(rp: RelyingParty, user: IdpUser) -> bool:
    """Whether ``user`` gets a code for ``rp`` (the login page refusing is False)."""
    try:
        return "code" in flows.login(rp, user)
    except HttpLoginError:
        return False


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds").replace("+00:00", "Z")


def test_x_org_id_is_checked(org: RunningMockIdp, mock_idp: RunningMockIdp) -> None:
    key = {"x-api-key": org.admin_key}
    assert httpx.get(f"{org.base_url}/api/systemusers", headers=key).status_code == 400
    wrong = httpx.get(f"{org.base_url}/api/systemusers", headers={**key, "x-org-id": "0" * 24})
    assert wrong.status_code == 401 and wrong.json()["message"].startswith("Unauthorized: ")
    assert httpx.get(f"{org.base_url}/api/systemusers", headers={**key, "x-org-id": ORG_ID}).status_code == 200
    # a mock not told to require one: a wrong organization is still refused, none at all is fine
    plain = {"x-api-key": mock_idp.admin_key}
    assert httpx.get(f"{mock_idp.base_url}/api/systemusers", headers=plain).status_code == 200
    assert httpx.get(f"{mock_idp.base_url}/api/systemusers", headers={**plain, "x-org-id": ORG_ID}).status_code == 401


def test_a_staged_user_logs_in_once_activated(org_admin: JumpCloudAdmin, org_rp: RelyingParty) -> None:
    user = org_user(org_admin, org_rp, state="STAGED", mfa={"exclusion": True, "exclusionUntil": in_an_hour()})
    shown = org_admin.get_user(user.id)
    assert (shown["state"], shown["activated"]) == ("STAGED", False)
    assert not logs_in(org_rp, user)
    org_admin.activate_user(user.id)
    assert org_admin.get_user(user.id)["state"] == "ACTIVATED"
    assert logs_in(org_rp, user)


def test_mfa_exclusion_window(org_admin: JumpCloudAdmin, org_rp: RelyingParty, org: RunningMockIdp) -> None:
    user = org_user(org_admin, org_rp)
    assert not logs_in(org_rp, user), "the organization requires MFA: a user without TOTP nor exclusion logged in"
    org_admin.exclude_from_mfa(user.id, datetime.now(UTC) + timedelta(hours=1))
    mfa = org_admin.get_user(user.id)["mfa"]
    assert mfa["exclusion"] is True and mfa["exclusionUntil"].endswith("Z")
    assert logs_in(org_rp, user)
    org.control.advance_clock(2 * 3600)  # the window has ended
    assert not logs_in(org_rp, user)


def test_reset_mfa_drops_the_totp_key_and_opens_a_window(
    org_admin: JumpCloudAdmin, org_rp: RelyingParty, org: RunningMockIdp
) -> None:
    user = org_user(org_admin, org_rp)
    org.control.enroll_totp(user.id)
    assert org_admin.get_user(user.id)["totp_enabled"] is True
    body = {"exclusion": True, "exclusionUntil": in_an_hour()}
    org_admin._call("POST", f"/systemusers/{user.id}/resetmfa", json=body)
    shown = org_admin.get_user(user.id)
    assert shown["totp_enabled"] is False and shown["mfa"]["exclusion"] is True
    assert logs_in(org_rp, user)  # no TOTP step: e-mail, then password


BAD_MFA = (
    {"exclusion": "yes"},
    {"exclusion": True, "exclusionUntil": "tomorrow"},
    {"exclusion": True, "exclusionUntil": "2030-01-01T00:00:00"},  # no time zone
    ["exclusion"],
)


@pytest.mark.parametrize("mfa", BAD_MFA)
def test_bad_mfa_settings_are_400(org_admin: JumpCloudAdmin, org_rp: RelyingParty, mfa: Any) -> None:
    user = org_user(org_admin, org_rp)
    with pytest.raises(IdpApiError) as refused:
        org_admin.update_user(user.id, mfa=mfa)
    assert refused.value.status == 400


def test_wrong_passwords_lock_until_unlocked(org_admin: JumpCloudAdmin, org_rp: RelyingParty) -> None:
    user = org_user(org_admin, org_rp, mfa={"exclusion": True, "exclusionUntil": in_an_hour()})
    wrong = IdpUser(user.id, user.email, "not-the-password", "Test", "User", user.groups)
    for _ in range(3):
        assert not logs_in(org_rp, wrong)
    assert org_admin.get_user(user.id)["account_locked"] is True
    assert not logs_in(org_rp, user), "a locked account logged in with the right password"
    org_admin.unlock_user(user.id)
    assert org_admin.get_user(user.id)["account_locked"] is False
    assert logs_in(org_rp, user)


def test_a_deleted_user_is_gone_from_its_groups_and_cannot_log_in(
    org_admin: JumpCloudAdmin, org_rp: RelyingParty
) -> None:
    user = org_user(org_admin, org_rp, mfa={"exclusion": True, "exclusionUntil": in_an_hour()})
    group = org_admin.find_group(user.groups[0])
    assert group is not None and org_admin.list_members(group["id"]) == [user.id]
    org_admin.delete_user(user.id)
    assert org_admin.find_user(user.email) is None and org_admin.list_members(group["id"]) == []
    assert not logs_in(org_rp, user)


def test_paging_with_sort_walks_every_object_once(org_admin: JumpCloudAdmin, org_rp: RelyingParty) -> None:
    made = {org_user(org_admin, org_rp).id for _ in range(5)}
    ids = [user["_id"] for user in org_admin.users()]
    assert len(ids) == len(set(ids)) and made <= set(ids)
    pages = [
        org_admin._call("GET", "/systemusers", params={"limit": 2, "skip": skip, "sort": "_id"})["results"]
        for skip in range(0, len(ids), 2)
    ]
    assert [user["_id"] for page in pages for user in page] == sorted(ids)
    backwards = org_admin._call("GET", "/systemusers", params={"limit": 1000, "sort": "-_id"})["results"]
    assert [user["_id"] for user in backwards] == sorted(ids, reverse=True)
    names = [group["name"] for group in org_admin.groups()]
    assert names == sorted(names) and len(names) == len(set(names))
    with pytest.raises(IdpApiError) as refused:
        org_admin._call("GET", "/v2/usergroups", params={"sort": "password"})
    assert refused.value.status == 400


def test_group_description_is_kept(org_admin: JumpCloudAdmin) -> None:
    group = org_admin.create_group(f"described-{uuid.uuid4().hex[:8]}", description="made by run X")
    assert org_admin._call("GET", f"/v2/usergroups/{group['id']}")["description"] == "made by run X"


def test_rate_limit_fault_answers_429_with_retry_after(org: RunningMockIdp) -> None:
    headers = {"x-api-key": org.admin_key, "x-org-id": ORG_ID}
    fault = org.control.add_fault("respond", endpoint="admin", status=429, times=2,
                                  headers={"Retry-After": "1"}, body='{"message":"Too Many Requests"}')  # fmt: skip
    try:
        for _ in range(2):
            limited = httpx.get(f"{org.base_url}/api/systemusers", headers=headers)
            assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
            assert limited.json() == {"message": "Too Many Requests"}
        assert httpx.get(f"{org.base_url}/api/systemusers", headers=headers).status_code == 200
    finally:
        org.control.clear_faults()
    assert next((f for f in org.control.faults() if f["id"] == fault), None) is None


def test_the_admin_client_waits_out_429s(org: RunningMockIdp, org_admin: JumpCloudAdmin) -> None:
    org.control.add_fault("respond", endpoint="admin", status=429, times=2, headers={"Retry-After": "0"})
    try:
        assert org_admin.find_user("nobody@example.test") is None  # answered, after two 429s
    finally:
        org.control.clear_faults()
    assert org_admin.rate_limits.retried == 2


def test_control_calls_are_counted(own_idp: RunningMockIdp) -> None:
    stats = f"{own_idp.base_url}/_mock/stats"
    key = {"x-api-key": own_idp.admin_key}
    before = httpx.get(stats, headers=key).json()["control_calls"]
    own_idp.control.info()
    own_idp.admin.find_user("nobody@example.test")  # the admin API is not the control API
    assert httpx.get(stats, headers=key).json()["control_calls"] == before + 1
    assert httpx.get(stats).status_code == 401
