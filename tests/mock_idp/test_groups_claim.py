"""The groups claim: only groups bound to the app, by name, case kept; one is a string, two an array."""

from __future__ import annotations

import uuid

from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import login, tokens_for, userinfo, verify_id_token

CLAIM = "https://app.hoop.dev/groups"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def claims_and_userinfo(rp: RelyingParty, user: object) -> tuple[dict[str, object], dict[str, object]]:
    body = tokens_for(rp, user)  # type: ignore[arg-type]
    return verify_id_token(rp, body["id_token"]), userinfo(rp, body["access_token"]).json()


def test_one_bound_group_is_a_json_string(rp: RelyingParty, make_user: MakeUser) -> None:
    group = unique("Hoop-Admins")
    user = make_user(app_id=rp.app["app_id"], groups=(group,))
    id_claims, info = claims_and_userinfo(rp, user)
    assert id_claims[CLAIM] == group
    assert info[CLAIM] == group


def test_two_bound_groups_are_an_array_in_creation_order(rp: RelyingParty, make_user: MakeUser) -> None:
    groups = (unique("Ops"), unique("dev-Team"))
    user = make_user(app_id=rp.app["app_id"], groups=groups)
    id_claims, info = claims_and_userinfo(rp, user)
    assert id_claims[CLAIM] == list(groups)
    assert info[CLAIM] == list(groups)


def test_groups_not_bound_to_the_app_are_left_out(rp: RelyingParty, make_user: MakeUser) -> None:
    bound, unbound = unique("Bound"), unique("Unbound")
    user = make_user(app_id=rp.app["app_id"], groups=(bound,))
    admin = rp.idp.admin
    other_app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri])
    other_group = admin.create_group(unbound)
    admin.bind_group(other_group["id"], other_app["app_id"])
    admin.add_member(other_group["id"], user.id)
    id_claims, info = claims_and_userinfo(rp, user)
    assert id_claims[CLAIM] == bound
    assert info[CLAIM] == bound


def test_no_bound_group_means_no_login(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"], groups=())
    back = login(rp, user)
    assert back["error"] == "access_denied"
    assert "code" not in back


def test_unbinding_the_group_locks_the_user_out(rp: RelyingParty, make_user: MakeUser) -> None:
    group = unique("Temporary")
    user = make_user(app_id=rp.app["app_id"], groups=(group,))
    assert "code" in login(rp, user)
    found = rp.idp.admin.find_group(group)
    assert found is not None
    rp.idp.admin.unbind_group(found["id"], rp.app["app_id"])
    assert login(rp, user)["error"] == "access_denied"


def test_app_without_a_groups_claim_emits_none(rp: RelyingParty, make_user: MakeUser) -> None:
    app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri], groups_claim=None)
    plain = RelyingParty(idp=rp.idp, app=app, redirect_uri=rp.redirect_uri)
    user = make_user(app_id=app["app_id"], groups=(unique("Group"),))
    id_claims, info = claims_and_userinfo(plain, user)
    assert CLAIM not in id_claims and CLAIM not in info
    assert not any("group" in name.lower() for name in id_claims)


def test_custom_claim_name(rp: RelyingParty, make_user: MakeUser) -> None:
    app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri], groups_claim="memberOf")
    custom = RelyingParty(idp=rp.idp, app=app, redirect_uri=rp.redirect_uri)
    group = unique("MixedCase-GROUP")
    user = make_user(app_id=app["app_id"], groups=(group,))
    id_claims, info = claims_and_userinfo(custom, user)
    assert id_claims["memberOf"] == group
    assert info["memberOf"] == group
    assert CLAIM not in id_claims
