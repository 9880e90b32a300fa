"""CB-09..CB-20: ID token validation at the callback (OIDC Core 1.0 §3.1.3.7).

Each check logs a new user in over HTTP while the mock tampers with the ID token of that user's token response (an
``id_token`` fault with a ``tamper``, or ``omit_id_token``; scoped to the user, on every token request). The
gateway must refuse the callback (a 4xx, or a redirect carrying ``error=``) and leave no usable session: a token it
handed over anyway must not work on ``/api/userinfo``. The journal shows that the tampered token response did reach
the gateway, so a refusal for another reason (no code exchange at all) cannot pass for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hoop_conformance.assertions import assert_refused, describe
from hoop_conformance.catalogue import MUST, SHOULD, check
from hoop_conformance.contract import SESSION_COOKIE, USERINFO
from hoop_conformance.deployment import Deployment, Login

pytestmark = pytest.mark.usefixtures("control")
"""Every check injects a fault: skipped cleanly without the mock's control API."""


class Tamper(StrEnum):
    """What the mock does to the token response: the ``id_token`` fault's tampers, and ``omit_id_token``."""

    BAD_SIGNATURE = "bad_signature"
    ALG_NONE = "alg_none"
    HS256_CLIENT_SECRET = "hs256_client_secret"
    HS256_PUBLIC_KEY = "hs256_public_key"
    WRONG_ISS = "wrong_iss"
    WRONG_AUD = "wrong_aud"
    EXTRA_AUD = "extra_aud"
    WRONG_AZP = "wrong_azp"
    EXPIRED = "expired"
    MISSING_EXP = "missing_exp"
    MISSING_IAT = "missing_iat"
    IAT_FUTURE = "iat_future"
    WRONG_NONCE = "wrong_nonce"
    OMIT_ID_TOKEN = "omit_id_token"


DESCRIPTIONS: dict[Tamper, str] = {
    Tamper.BAD_SIGNATURE: "a callback whose ID token has a broken signature",
    Tamper.ALG_NONE: "a callback whose ID token is unsigned (alg none)",
    Tamper.HS256_CLIENT_SECRET: "a callback whose ID token is HS256-signed with the client secret",
    Tamper.HS256_PUBLIC_KEY: "a callback whose ID token is HS256-signed with the IdP's RSA public key",
    Tamper.WRONG_ISS: "a callback whose ID token has another issuer",
    Tamper.WRONG_AUD: "a callback whose ID token is for another client (aud)",
    Tamper.EXTRA_AUD: "a callback whose ID token's aud holds an untrusted audience beside the client",
    Tamper.WRONG_AZP: "a callback whose ID token's azp is another client",
    Tamper.EXPIRED: "a callback whose ID token has expired",
    Tamper.MISSING_EXP: "a callback whose ID token has no exp",
    Tamper.MISSING_IAT: "a callback whose ID token has no iat",
    Tamper.IAT_FUTURE: "a callback whose ID token was issued a day in the future (iat)",
    Tamper.WRONG_NONCE: "a callback whose ID token carries another nonce than the login's",
    Tamper.OMIT_ID_TOKEN: "a callback whose token response has no id_token",
}
"""What each tampered callback is, as failure messages name it."""


def fault_of(tamper: Tamper) -> tuple[str, dict[str, Any]]:
    """The mock's fault kind and parameters for ``tamper``."""
    if tamper is Tamper.OMIT_ID_TOKEN:
        return "omit_id_token", {}
    return "id_token", {"tamper": str(tamper)}


@dataclass(frozen=True)
class TamperedLogin:
    """A whole HTTP login during which the IdP's token response was tampered with."""

    tamper: Tamper
    login: Login

    @property
    def what(self) -> str:
        """The tampered callback, for failure messages."""
        return DESCRIPTIONS[self.tamper]

    @property
    def nonce(self) -> str | None:
        """The ``nonce`` of the authorize request the gateway started the login with, if it sent one."""
        query = parse_qs(urlsplit(str(self.login.start.json()["login_url"])).query)
        return query.get("nonce", [None])[0]


def tampered_login(deployment: Deployment, tamper: Tamper) -> TamperedLogin:
    """Log a new user in over HTTP while the mock tampers with every token response for that user.

    Asserts that the tampered answer reached the gateway (the journal notes the fault on a token request).
    """
    user = deployment.make_user()
    kind, params = fault_of(tamper)
    fault_id = deployment.control.add_fault(kind, endpoint="token", user=user.email, times=None, **params)
    since = deployment.journal.cursor()
    login = deployment.login(user)
    exchanges = deployment.journal.entries("token", since=since, user=user.email)
    assert any(f"{kind}:{fault_id}" in entry["faults"] for entry in exchanges), (
        f"{DESCRIPTIONS[tamper]}: the gateway never received the tampered token response (no code exchange for "
        f"a valid login); callback answered {describe(login.answer)}"
    )
    return TamperedLogin(tamper=tamper, login=login)


def assert_no_usable_session(deployment: Deployment, tampered: TamperedLogin) -> None:
    """The callback was refused, and no token the gateway handed over (cookie or ``?token=``) opens the API."""
    login = tampered.login
    assert_refused(login.answer, tampered.what)
    cookies = {cookie.value for cookie in login.client.cookies.jar if cookie.name == SESSION_COOKIE}
    tokens = {token for token in (login.token, *cookies) if token}
    for token in tokens:
        answer = deployment.gateway.api(USERINFO, token)
        assert not answer.is_success, (
            f"{tampered.what} was refused, but the token the gateway handed over opens the API: {describe(answer)}"
        )


def assert_tamper_refused(deployment: Deployment, tamper: Tamper) -> None:
    """A whole login with ``tamper`` is refused and leaves no usable session."""
    assert_no_usable_session(deployment, tampered_login(deployment, tamper))


@check(
    "CB-09",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-6",
    requirement="An ID token with a broken signature is refused.",
)
def test_id_token_with_broken_signature_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.BAD_SIGNATURE)


@check(
    "CB-10",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-7",
    requirement="An ID token with alg none is refused.",
)
def test_unsigned_id_token_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.ALG_NONE)


@check(
    "CB-11",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-8",
    requirement=(
        "An ID token HS256-signed with the client secret, or with the RSA public key as the HMAC key, is refused."
    ),
)
def test_hs256_id_token_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.HS256_CLIENT_SECRET)
    assert_tamper_refused(deployment, Tamper.HS256_PUBLIC_KEY)


@check(
    "CB-12",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-2",
    requirement="An ID token whose iss is not the issuer is refused.",
)
def test_id_token_from_another_issuer_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.WRONG_ISS)


@check(
    "CB-13",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-3",
    requirement="An ID token whose aud is another client is refused.",
)
def test_id_token_for_another_client_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.WRONG_AUD)


@check(
    "CB-14",
    level=SHOULD,
    ref="OIDC Core 1.0 §3.1.3.7-3",
    requirement="An ID token whose aud holds the client and an untrusted extra audience is refused.",
)
def test_id_token_with_untrusted_extra_audience_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.EXTRA_AUD)


@check(
    "CB-15",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-5",
    requirement="An ID token whose azp is present and not the client is refused.",
)
def test_id_token_authorized_for_another_party_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.WRONG_AZP)


@check(
    "CB-16",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-9",
    requirement="An expired ID token is refused.",
)
def test_expired_id_token_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.EXPIRED)


@check(
    "CB-17",
    level=MUST,
    ref="OIDC Core 1.0 §2",
    requirement="An ID token without exp is refused.",
)
def test_id_token_without_expiry_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.MISSING_EXP)


@check(
    "CB-18",
    level=SHOULD,
    ref="OIDC Core 1.0 §2, §3.1.3.7-10",
    requirement="An ID token without iat, or with iat a day in the future, is refused.",
)
def test_id_token_without_or_with_future_issue_time_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.MISSING_IAT)
    assert_tamper_refused(deployment, Tamper.IAT_FUTURE)


@check(
    "CB-19",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-11",
    requirement="When the gateway sent a nonce, an ID token carrying another nonce is refused.",
)
def test_id_token_with_another_nonce_is_refused(deployment: Deployment) -> None:
    tampered = tampered_login(deployment, Tamper.WRONG_NONCE)
    if tampered.nonce is None:
        pytest.skip("not applicable: the gateway sent no nonce in its authorize request (LOGIN-05 judges that)")
    assert_no_usable_session(deployment, tampered)


@check(
    "CB-20",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.3",
    requirement="A token response without an id_token is refused.",
)
def test_token_response_without_id_token_is_refused(deployment: Deployment) -> None:
    assert_tamper_refused(deployment, Tamper.OMIT_ID_TOKEN)
