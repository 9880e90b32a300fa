"""Discovery and JWKS: JumpCloud's issuer shape, paths and fields; several RSA keys; path-prefixed issuers."""

from __future__ import annotations

import httpx

from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from mock_idp.settings import AppSettings, MockIdpSettings
from tests.mock_idp.flows import assert_endpoints_under


def metadata(idp: RunningMockIdp) -> dict[str, object]:
    response = httpx.get(f"{idp.issuer}.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def test_issuer_keeps_the_trailing_slash(mock_idp: RunningMockIdp) -> None:
    found = metadata(mock_idp)
    assert found["issuer"] == mock_idp.issuer
    assert mock_idp.issuer == mock_idp.base_url + "/"


def test_endpoints_are_at_jumpclouds_paths(mock_idp: RunningMockIdp) -> None:
    assert_endpoints_under(metadata(mock_idp), mock_idp.base_url)


def test_algorithms_auth_methods_pkce_and_grants(mock_idp: RunningMockIdp) -> None:
    found = metadata(mock_idp)
    assert found["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(found["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    assert set(found["code_challenge_methods_supported"]) == {"S256", "plain"}
    assert set(found["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert found["response_types_supported"] == ["code"]
    assert "openid" in found["scopes_supported"]
    assert "offline_access" in found["scopes_supported"]


def test_no_dynamic_registration(mock_idp: RunningMockIdp) -> None:
    assert "registration_endpoint" not in metadata(mock_idp)


def test_oauth_authorization_server_metadata_is_404(mock_idp: RunningMockIdp) -> None:
    response = httpx.get(f"{mock_idp.issuer}.well-known/oauth-authorization-server")
    assert response.status_code == 404


def test_jwks_holds_several_rsa_keys_each_with_a_kid(mock_idp: RunningMockIdp) -> None:
    response = httpx.get(str(metadata(mock_idp)["jwks_uri"]))
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) >= 2
    assert all(key["kty"] == "RSA" and key["n"] and key["e"] for key in keys)
    kids = [key["kid"] for key in keys]
    assert all(kids) and len(set(kids)) == len(kids)
    assert all(key.get("use") == "sig" and key.get("alg") == "RS256" for key in keys)
    assert not any("d" in key or "p" in key for key in keys), "private key material must never be published"
    assert mock_idp.control.signing_keys()["signing"] in kids


def test_path_prefixed_issuer_serves_every_route_under_its_prefix() -> None:
    app = AppSettings(redirect_uris=("http://127.0.0.1:1/cb",))
    settings = MockIdpSettings(issuer="http://127.0.0.1:{port}/tenant/", apps=(app,))
    with start_mock_idp(settings) as idp, httpx.Client(base_url=idp.base_url) as client:
        assert idp.issuer == f"{idp.base_url}/tenant/"
        found = client.get("/tenant/.well-known/openid-configuration").json()
        assert found["issuer"] == idp.issuer
        assert found["authorization_endpoint"] == f"{idp.issuer}oauth2/auth"
        assert found["token_endpoint"] == f"{idp.issuer}oauth2/token"
        assert found["jwks_uri"] == f"{idp.issuer}.well-known/jwks.json"
        assert found["end_session_endpoint"] == f"{idp.issuer}oauth2/sessions/logout"
        assert client.get("/tenant/.well-known/jwks.json").json()["keys"]
        assert client.get("/.well-known/openid-configuration").status_code == 404

        authorize = client.get(
            "/tenant/oauth2/auth",
            params={
                "client_id": app.client_id,
                "redirect_uri": "http://127.0.0.1:1/cb",
                "response_type": "code",
                "scope": "openid",
                "state": "state-0123456789",
            },
        )
        assert authorize.status_code == 303
        assert authorize.headers["location"].startswith("/tenant/login?login_challenge=")
        assert client.get(authorize.headers["location"]).status_code == 200
