"""The strict rules as pure functions: settings, redirects, ID token and JWT access token claims."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reference_gateway.errors import ConfigError, TokenRejected
from reference_gateway.idtoken import AccessTokenAudience, Expected, check_access_token_claims, check_id_token_claims
from reference_gateway.redirects import redirect_allowed, token_in_url
from reference_gateway.settings import Settings, load_settings

ENV = {
    "API_URL": "http://127.0.0.1:8009/",
    "IDP_ISSUER": "http://idp.test/",
    "IDP_CLIENT_ID": "client",
    "IDP_CLIENT_SECRET": "secret",
}
SETTINGS = load_settings(ENV)
NOW = 1_800_000_000.0
EXPECTED = Expected(issuer="http://idp.test/", client_id="client", nonce="n-1")


def test_settings_defaults() -> None:
    assert SETTINGS.api_url == "http://127.0.0.1:8009" and SETTINGS.port == 8009
    assert SETTINGS.redirect_uri == "http://127.0.0.1:8009/api/callback"
    assert SETTINGS.groups_claim == "https://app.hoop.dev/groups"
    assert (SETTINGS.admin_group, SETTINGS.auditor_group) == ("admin", "auditor")
    assert SETTINGS.database == ":memory:" and SETTINGS.mutants == frozenset()
    assert not SETTINGS.force_url_token and SETTINGS.idp_timeout == 5.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"API_URL": ""}, "API_URL is not set"),
        ({"IDP_ISSUER": " "}, "IDP_ISSUER is not set"),
        ({"IDP_CLIENT_ID": ""}, "IDP_CLIENT_ID is not set"),
        ({"IDP_CLIENT_SECRET": ""}, "IDP_CLIENT_SECRET is not set"),
        ({"API_URL": "ftp://x"}, "API_URL must be an http(s) URL"),
        ({"IDP_ISSUER": "http://idp:99999/"}, "IDP_ISSUER has an invalid port"),
        ({"PORT": "80a"}, "PORT must be a TCP port number"),
        ({"PORT": "0"}, "PORT must be a TCP port number"),
        ({"URL_TOKEN_EXCHANGE": "yes"}, "URL_TOKEN_EXCHANGE must be 'force'"),
        ({"IDP_CUSTOM_SCOPES": "a b"}, "IDP_CUSTOM_SCOPES holds an invalid scope"),
        ({"REFGW_MUTANT": "no_such_mutant"}, "REFGW_MUTANT: unknown mutant no_such_mutant"),
        ({"REFGW_IDP_TIMEOUT": "soon"}, "REFGW_IDP_TIMEOUT must be a number"),
        ({"IDP_URI": "https://a:b@idp/"}, "IDP_URI is not supported"),
    ],
)
def test_settings_errors_name_the_variable(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(ENV | change)
    assert str(error.value).startswith(message)


def test_settings_parse_every_variable() -> None:
    settings = load_settings(
        ENV
        | {
            "PORT": "9000",
            "IDP_AUDIENCE": "aud",
            "IDP_CUSTOM_SCOPES": "groups,,offline_access,email",
            "IDP_GROUPS_CLAIM": "memberOf",
            "ADMIN_USERNAME": "admins",
            "AUDITOR_USERNAME": "audit",
            "URL_TOKEN_EXCHANGE": "force",
            "REFGW_MUTANT": "no_pkce, no_nonce",
            "REFGW_IDP_TIMEOUT": "1.5",
        }
    )
    assert settings.port == 9000 and settings.audience == "aud"
    assert settings.custom_scopes == ("groups", "offline_access")
    assert (
        settings.groups_claim == "memberOf" and settings.admin_group == "admins" and settings.auditor_group == "audit"
    )
    assert settings.force_url_token and settings.idp_timeout == 1.5
    assert settings.mutants == {"no_pkce", "no_nonce"}


def test_unregistered_mutant_name_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        SETTINGS.mutant("typo")


@pytest.mark.parametrize(
    ("redirect", "allowed"),
    [
        ("http://127.0.0.1:8009/callback", True),
        ("http://127.0.0.1:8009", True),
        ("http://127.0.0.1:8009/a?b=c#d", True),
        ("http://127.0.0.1:3587/callback", True),
        ("https://127.0.0.1:8009/callback", False),
        ("http://127.0.0.1:8010/callback", False),
        ("http://127.0.0.1/callback", False),
        ("http://127.0.0.1.evil.test:8009/", False),
        ("http://evil.test\\@127.0.0.1:8009/", False),
        ("http://127.0.0.1:8009@evil.test/", False),
        ("http://a:b@127.0.0.1:8009/", False),
        ("//127.0.0.1:8009/", False),
        ("javascript:alert(1)", False),
        ("http://127.0.0.1:8009/\nx", False),
        ("http://127.0.0.1:99999/", False),
        ("http://127.0.0.1:3587/callback/", False),
    ],
)
def test_redirect_allowed(redirect: str, allowed: bool) -> None:
    assert redirect_allowed(redirect, SETTINGS) is allowed


def test_token_in_url_only_for_the_cli_listener_or_when_forced() -> None:
    assert token_in_url("http://127.0.0.1:3587/callback", SETTINGS)
    assert not token_in_url("http://127.0.0.1:8009/callback", SETTINGS)
    assert token_in_url("http://127.0.0.1:8009/callback", replace(SETTINGS, force_url_token=True))


def good_claims(**changes: Any) -> dict[str, Any]:
    """Claims of a valid ID token, with ``changes`` (a value of ``None`` removes the claim)."""
    claims = {"iss": "http://idp.test/", "aud": ["client"], "sub": "u1", "exp": NOW + 3600, "iat": NOW, "nonce": "n-1"}
    claims |= changes
    return {key: value for key, value in claims.items() if value is not None}


def test_good_id_token_claims_pass() -> None:
    check_id_token_claims(good_claims(), EXPECTED, settings=SETTINGS, now=NOW)
    check_id_token_claims(good_claims(aud="client", azp="client"), EXPECTED, settings=SETTINGS, now=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "http://idp.test"},
        {"iss": None},
        {"aud": ["other"]},
        {"aud": None},
        {"aud": ["client", "other"]},
        {"azp": "other"},
        {"exp": NOW - 3600},
        {"exp": None},
        {"exp": "tomorrow"},
        {"iat": None},
        {"iat": NOW + 86400},
        {"nonce": "n-2"},
        {"nonce": None},
        {"sub": ""},
        {"sub": 7},
    ],
)
def test_bad_id_token_claims_are_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(TokenRejected):
        check_id_token_claims(good_claims(**changes), EXPECTED, settings=SETTINGS, now=NOW)


AT_AUDIENCE = AccessTokenAudience(issuer="http://idp.test/", client_id="client")


def access_token_claims(**changes: Any) -> dict[str, Any]:
    """Claims of a valid Hydra-style JWT access token, with ``changes`` (a value of ``None`` removes the claim)."""
    claims = {"iss": "http://idp.test/", "sub": "u1", "exp": NOW + 3600, "client_id": "client", "scp": ["openid"]}
    claims |= {"aud": [], "iat": NOW, "jti": "j-1"} | changes
    return {key: value for key, value in claims.items() if value is not None}


@pytest.mark.parametrize("typ", ["JWT", None, "at+jwt", "application/at+JWT"])
def test_good_jwt_access_token_claims_pass(typ: str | None) -> None:
    check_access_token_claims(access_token_claims(), typ=typ, expected=AT_AUDIENCE, now=NOW)


def test_configured_audience_must_be_in_a_jwt_access_token() -> None:
    expected = replace(AT_AUDIENCE, audience="https://api.test")
    check_access_token_claims(access_token_claims(aud=["https://api.test"]), typ="JWT", expected=expected, now=NOW)
    with pytest.raises(TokenRejected, match="audience"):
        check_access_token_claims(access_token_claims(), typ="JWT", expected=expected, now=NOW)


@pytest.mark.parametrize(
    ("changes", "typ"),
    [
        ({"iss": "http://other/"}, "JWT"),
        ({"exp": None}, "JWT"),
        ({"exp": NOW - 3600}, "JWT"),
        ({"sub": None}, "JWT"),
        ({"client_id": "other"}, "JWT"),
        ({"client_id": None}, "at+jwt"),
        ({"scp": None}, "JWT"),
        ({"nonce": "n-1"}, "JWT"),
        ({"at_hash": "h"}, None),
        ({}, "id_token+jwt"),
        ({"client_id": None, "scp": None, "aud": ["client"], "nonce": "n-1", "at_hash": "h"}, "JWT"),  # an ID token
    ],
)
def test_bad_jwt_access_token_claims_are_rejected(changes: dict[str, Any], typ: str | None) -> None:
    with pytest.raises(TokenRejected):
        check_access_token_claims(access_token_claims(**changes), typ=typ, expected=AT_AUDIENCE, now=NOW)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SETTINGS.port = 1  # type: ignore[misc]
    assert isinstance(SETTINGS, Settings)
