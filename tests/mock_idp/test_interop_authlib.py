"""An independent OIDC client (Authlib) completes a full login against the mock: it speaks standard OIDC."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning

from hoop_conformance.drivers.http_login import http_login
from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty

with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)  # notices about httpx2 and joserfc, irrelevant here
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken
    from joserfc.errors import InvalidClaimError

pytestmark = pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning")


def discover(rp: RelyingParty) -> dict[str, Any]:
    return httpx.get(f"{rp.idp.issuer}.well-known/openid-configuration").json()  # type: ignore[no-any-return]


def validate_id_token(metadata: dict[str, Any], rp: RelyingParty, token: dict[str, Any], nonce: str) -> Any:
    """Authlib's own ID token validation: signature against the JWKS, iss, aud, exp, iat, nonce, at_hash."""
    keys = JsonWebKey.import_key_set(httpx.get(metadata["jwks_uri"]).json())
    claims = jwt.decode(
        token["id_token"],
        key=keys,
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": rp.app["client_id"]},
        },
        claims_params={"nonce": nonce, "client_id": rp.app["client_id"], "access_token": token["access_token"]},
    )
    claims.validate(leeway=30)
    return claims


def authlib_login(
    rp: RelyingParty, user: Any, metadata: dict[str, Any], nonce: str
) -> tuple[OAuth2Client, dict[str, Any]]:
    client = OAuth2Client(
        client_id=rp.app["client_id"],
        client_secret=rp.app["client_secret"],
        scope="openid email profile offline_access",
        redirect_uri=rp.redirect_uri,
        token_endpoint_auth_method="client_secret_basic",
        code_challenge_method="S256",
    )
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    with httpx.Client() as browser:
        callback = http_login(browser, url, user.email, user.password, idp_base=rp.idp.issuer)
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
    )
    return client, dict(token)


def test_authlib_completes_a_login_refresh_and_userinfo(rp: RelyingParty, make_user: MakeUser) -> None:
    group = f"Authlib-{uuid.uuid4().hex[:8]}"
    user = make_user(app_id=rp.app["app_id"], groups=(group,))
    metadata = discover(rp)
    assert metadata["issuer"] == rp.idp.issuer
    nonce = generate_token(20)
    client, token = authlib_login(rp, user, metadata, nonce)
    try:
        assert token["token_type"].lower() == "bearer"
        claims = validate_id_token(metadata, rp, token, nonce)
        assert claims["sub"] == user.id
        assert claims["email"] == user.email
        assert claims["https://app.hoop.dev/groups"] == group

        info = client.get(metadata["userinfo_endpoint"]).json()
        assert info["sub"] == claims["sub"]
        assert info["email"] == user.email

        refreshed = dict(client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"]))
        assert refreshed["access_token"] != token["access_token"]
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert client.get(metadata["userinfo_endpoint"]).json()["sub"] == user.id

        client.revoke_token(
            metadata["revocation_endpoint"], refreshed["refresh_token"], token_type_hint="refresh_token"
        )
        assert client.get(metadata["userinfo_endpoint"]).status_code == 401
    finally:
        client.close()


def test_authlib_rejects_an_id_token_with_a_wrong_nonce(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    metadata = discover(rp)
    rp.idp.control.add_fault("id_token", app=rp.app["client_id"], tamper="wrong_nonce")
    nonce = generate_token(20)
    client, token = authlib_login(rp, user, metadata, nonce)
    client.close()
    with pytest.raises(InvalidClaimError, match="nonce"):
        validate_id_token(metadata, rp, token, nonce)
