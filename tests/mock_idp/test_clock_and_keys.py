"""The mock's clock (expiry without sleeping) and signing-key rotation, at this module's own mock."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from hoop_conformance.idp.api import IdpApiError
from hoop_conformance.launchers.mock import start_mock_idp
from hoop_conformance.users import MakeUser
from mock_idp.settings import MockIdpSettings
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import code_for, exchange, login, query, tokens_for, userinfo, verify_id_token


def test_clock_reads_advances_and_resets(own_rp: RelyingParty) -> None:
    client = own_rp.idp.control
    assert abs(client.now() - time.time()) < 5
    assert client.advance_clock(3600) - time.time() == pytest.approx(3600, abs=5)
    client.reset_clock()
    assert abs(client.now() - time.time()) < 5
    with pytest.raises(IdpApiError) as raised:
        client.advance_clock(-1)
    assert raised.value.status == 400


def test_access_token_expires_after_an_hour(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    token = tokens_for(own_rp, user)["access_token"]
    own_rp.idp.control.advance_clock(3500)
    assert userinfo(own_rp, token).status_code == 200
    own_rp.idp.control.advance_clock(101)
    expired = userinfo(own_rp, token)
    assert expired.status_code == 401
    assert "expired" in expired.json()["error_description"]
    own_rp.idp.control.reset_clock()
    assert userinfo(own_rp, token).status_code == 200, "expiry follows the clock; nothing was revoked"


def test_code_expires_after_ten_minutes(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    fresh, stale = code_for(own_rp, user), code_for(own_rp, user)
    own_rp.idp.control.advance_clock(595)
    assert exchange(own_rp, fresh).status_code == 200
    own_rp.idp.control.advance_clock(6)
    refused = exchange(own_rp, stale)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert "expired" in refused.json()["error_hint"]


def test_tokens_are_stamped_with_the_mock_clock(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    code = code_for(own_rp, user)
    now = own_rp.idp.control.advance_clock(300)
    claims = verify_id_token(own_rp, exchange(own_rp, code).json()["id_token"], options={"verify_iat": False})
    assert claims["iat"] == pytest.approx(now, abs=5)
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["iat"] - claims["auth_time"] == pytest.approx(300, abs=5)


def test_refresh_token_expires_after_thirty_days(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    body = tokens_for(own_rp, user, scope="openid offline_access")
    own_rp.idp.control.advance_clock(30 * 24 * 3600 + 1)
    refused = own_rp.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_idp_session_expires_after_eight_hours(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    with httpx.Client() as browser:
        login(own_rp, user, browser)
        own_rp.idp.control.advance_clock(8 * 3600 - 60)
        assert "code" in query(browser.get(own_rp.authorize_url(prompt="none")).headers["location"])
        own_rp.idp.control.advance_clock(120)
        back = query(browser.get(own_rp.authorize_url(prompt="none")).headers["location"])
    assert back["error"] == "login_required"


def published_kids(rp: RelyingParty) -> list[str]:
    return [key["kid"] for key in httpx.get(f"{rp.idp.issuer}.well-known/jwks.json").json()["keys"]]


def test_rotation_signs_with_a_new_key_and_drops_the_old_one(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    client = own_rp.idp.control
    old = client.signing_keys()
    before = published_kids(own_rp)
    old_token = tokens_for(own_rp, user)["id_token"]

    new_kid = client.rotate_keys()
    assert new_kid != old["signing"]
    after = published_kids(own_rp)
    assert after[0] == new_kid
    assert old["signing"] not in after
    assert set(after) == {new_kid} | (set(before) - {old["signing"]})
    assert client.signing_keys() == {"signing": new_kid, "kids": after}

    token = tokens_for(own_rp, user)["id_token"]
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    assert verify_id_token(own_rp, token)["sub"] == user.id
    with pytest.raises(KeyError):
        verify_id_token(own_rp, old_token)


def test_rotation_keep_old_keeps_the_old_key_published(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    user = own_make_user(app_id=own_rp.app["app_id"])
    client = own_rp.idp.control
    old_token = tokens_for(own_rp, user)["id_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    before = published_kids(own_rp)

    new_kid = client.rotate_keys(keep_old=True)
    after = published_kids(own_rp)
    assert after == [new_kid, *before]
    assert verify_id_token(own_rp, old_token)["sub"] == user.id, "tokens signed before rotation still verify"
    assert jwt.get_unverified_header(tokens_for(own_rp, user)["id_token"])["kid"] == new_kid != old_kid


def test_a_one_key_mock_publishes_exactly_one_key(pytestconfig: pytest.Config) -> None:
    settings = MockIdpSettings(users=(), key_count=1)
    with start_mock_idp(settings, log_dir=pytestconfig.getoption("server_logs")) as idp:
        kids = [key["kid"] for key in httpx.get(f"{idp.issuer}.well-known/jwks.json").json()["keys"]]
        assert idp.control.signing_keys() == {"signing": kids[0], "kids": kids} and len(kids) == 1
        new_kid = idp.control.rotate_keys()
        assert idp.control.signing_keys() == {"signing": new_kid, "kids": [new_kid]}, "rotation keeps one key"
