"""The strict rules as pure functions: settings, redirects, the signing key of a token, ID token and JWT access
token claims; and the mutants that break one of them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jwt
import pytest

from mock_idp.keys import SigningKey
from mock_idp.tokens import compact_jws
from reference_gateway.errors import ConfigError, TokenRejected
from reference_gateway.idtoken import (
    AccessTokenAudience,
    Expected,
    KeyLookup,
    check_access_token_claims,
    check_id_token_claims,
    verify_signature,
)
from reference_gateway.oidc import key_for
from reference_gateway.redirects import redirect_allowed, token_in_url
from reference_gateway.settings import Settings, load_settings
from tests import coroutines

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


def with_mutant(name: str) -> Settings:
    """The strict settings with mutant ``name`` on."""
    return replace(SETTINGS, mutants=frozenset({name}))


@pytest.mark.parametrize(
    ("mutant", "broken", "kept"),
    [
        ("allow_missing_aud", {"aud": None}, [{"aud": ["other"]}, {"aud": ["client", "other"]}]),
        ("allow_missing_iss", {"iss": None}, [{"iss": "http://other.test/"}, {"iss": "http://idp.test"}]),
        ("iss_ignores_trailing_slash", {"iss": "http://idp.test"}, [{"iss": "http://other.test/"}, {"iss": None}]),
        ("exp_leeway_30min", {"exp": NOW - 1500}, [{"exp": NOW - 1900}, {"exp": None}]),
        ("iat_future_leeway_hour", {"iat": NOW + 3000}, [{"iat": NOW + 86400}, {"iat": None}]),
    ],
)
def test_id_token_claim_mutants_break_only_their_rule(
    mutant: str, broken: dict[str, Any], kept: list[dict[str, Any]]
) -> None:
    """The strict rule refuses ``broken``; the mutant accepts it, and still refuses each of ``kept``."""
    with pytest.raises(TokenRejected):
        check_id_token_claims(good_claims(**broken), EXPECTED, settings=SETTINGS, now=NOW)
    settings = with_mutant(mutant)
    check_id_token_claims(good_claims(**broken), EXPECTED, settings=settings, now=NOW)
    check_id_token_claims(good_claims(), EXPECTED, settings=settings, now=NOW)
    for changes in kept:
        with pytest.raises(TokenRejected):
            check_id_token_claims(good_claims(**changes), EXPECTED, settings=settings, now=NOW)


ONLY_KEY, OTHER_KEY = SigningKey.generate(), SigningKey.generate()
CLAIMS = {"sub": "u1"}


def key_lookup(*keys: SigningKey) -> KeyLookup:
    """A JWKS holding ``keys``, searched as the gateway searches its IdP's."""
    jwks = {key.kid: jwt.PyJWK(key.public_jwk()) for key in keys}

    async def lookup(kid: str | None) -> jwt.PyJWK | None:
        return key_for(jwks, kid)

    return lookup


def verified(token: str, *keys: SigningKey, settings: Settings = SETTINGS, id_token: bool = True) -> dict[str, Any]:
    """The claims of ``token`` once its header and signature are checked against a JWKS of ``keys``."""
    return coroutines.run(
        verify_signature(
            token, algorithms=frozenset({"RS256"}), keys=key_lookup(*keys), settings=settings, id_token=id_token
        )
    )


def test_token_without_kid_is_verified_against_the_only_key() -> None:
    assert verified(ONLY_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY) == CLAIMS
    assert verified(ONLY_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY, id_token=False) == CLAIMS
    with pytest.raises(TokenRejected, match="invalid token"):
        verified(OTHER_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY)


def test_token_without_kid_is_refused_while_the_jwks_holds_several_keys() -> None:
    with pytest.raises(TokenRejected, match="no kid"):
        verified(ONLY_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY, OTHER_KEY)
    with pytest.raises(TokenRejected, match="no kid"):
        verified(ONLY_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY, OTHER_KEY, id_token=False)
    assert verified(ONLY_KEY.sign(CLAIMS), ONLY_KEY, OTHER_KEY) == CLAIMS


@pytest.mark.parametrize("kid", [7, ["k"], {"kid": "k"}])
def test_token_whose_kid_is_not_a_string_is_refused(kid: object) -> None:
    token = compact_jws({"alg": "RS256", "kid": kid}, CLAIMS, lambda _: b"signature")
    with pytest.raises(TokenRejected, match="invalid token"):
        verified(token, ONLY_KEY)


def test_require_kid_mutant_refuses_an_id_token_without_kid_even_from_one_key() -> None:
    settings = with_mutant("require_kid")
    with pytest.raises(TokenRejected, match="no kid"):
        verified(ONLY_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY, settings=settings)
    assert verified(ONLY_KEY.sign(CLAIMS), ONLY_KEY, OTHER_KEY, settings=settings) == CLAIMS
    assert verified(ONLY_KEY.sign(CLAIMS, with_kid=False), ONLY_KEY, settings=settings, id_token=False) == CLAIMS


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
