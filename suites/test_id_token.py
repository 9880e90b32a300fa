"""CB-09..CB-20, CB-32..CB-34: ID token validation at the callback (OIDC Core 1.0 §3.1.3.7).

Each check logs a new user in over HTTP while the mock tampers with the ID token of that user's token response (an
``id_token`` fault with a ``tamper`` or ``claims``, or ``omit_id_token``; scoped to the user, on every token
request). The gateway must refuse the callback (a 4xx, or a redirect carrying ``error=``) and leave no usable
session: a token it handed over anyway must not work on ``/api/userinfo``. Nothing passes for want of a login: the
tampered answer must reach the gateway (the fault fired), and the same login without the tamper must succeed on the
same gateway (the positive control); otherwise the check cannot judge (ERROR).

Rules with an allowance are probed at its edge, not one value far away: an ID token expired five minutes ago (past
any sane clock-skew allowance of a minute or two) beside one expired an hour ago; an ``iat`` five minutes ahead
beside one a day ahead; the issuer without its trailing slash beside a foreign issuer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hoop_conformance.assertions import assert_refused, describe
from hoop_conformance.catalogue import MUST, SHOULD, check
from hoop_conformance.contract import SESSION_COOKIE, USERINFO
from hoop_conformance.deployment import Deployment, Login
from hoop_conformance.gateways import gateway
from hoop_conformance.judging import precondition
from mock_idp.settings import MockIdpSettings

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
    MISSING_AUD = "missing_aud"
    MISSING_ISS = "missing_iss"
    NO_KID = "no_kid"
    OMIT_ID_TOKEN = "omit_id_token"


EDGE_SKEW = 300
"""Seconds just past a sane clock-skew allowance (a minute or two): the edge CB-16 and CB-18 probe."""


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
    Tamper.MISSING_AUD: "a callback whose ID token has no aud",
    Tamper.MISSING_ISS: "a callback whose ID token has no iss",
    Tamper.NO_KID: "a callback whose ID token's header has no kid",
    Tamper.OMIT_ID_TOKEN: "a callback whose token response has no id_token",
}
"""What each tampered callback is, as failure messages name it."""


@dataclass(frozen=True)
class Tampering:
    """What the mock does to a user's token responses: a fault kind and its parameters, and how to name it."""

    what: str
    kind: str = "id_token"
    params: Mapping[str, Any] = field(default_factory=dict)


def tampering(tamper: Tamper) -> Tampering:
    """The mock's fault for one of its named tampers."""
    if tamper is Tamper.OMIT_ID_TOKEN:
        return Tampering(DESCRIPTIONS[tamper], "omit_id_token")
    return Tampering(DESCRIPTIONS[tamper], params={"tamper": str(tamper)})


def claims_set(deployment: Deployment, what: str, **offsets: int) -> Tampering:
    """An ID token whose time claims are set to the IdP's clock plus ``offsets`` seconds (``exp=-300``...)."""
    now = int(deployment.control.now())
    return Tampering(what, params={"claims": {name: now + offset for name, offset in offsets.items()}})


@dataclass(frozen=True)
class TamperedLogin:
    """A whole HTTP login during which the IdP's token response was tampered with."""

    tampering: Tampering
    login: Login

    @property
    def what(self) -> str:
        """The tampered callback, for failure messages."""
        return self.tampering.what

    @property
    def nonce(self) -> str | None:
        """The ``nonce`` of the authorize request the gateway started the login with, if it sent one."""
        query = parse_qs(urlsplit(str(self.login.start.json()["login_url"])).query)
        return query.get("nonce", [None])[0]


def tampered_login(deployment: Deployment, tampered: Tampering) -> TamperedLogin:
    """Log a new user in over HTTP while the mock tampers with every token response for that user.

    The tampered answer must reach the gateway (the fault fires), or the check cannot judge.
    """
    user = deployment.make_user()
    with deployment.fault(tampered.kind, endpoint="token", user=user.email, **tampered.params):
        return TamperedLogin(tampering=tampered, login=deployment.login(user))


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


def assert_refused_with(deployment: Deployment, *tamperings: Tamper | Tampering) -> None:
    """The same login without a tamper succeeds (the positive control); with each of ``tamperings`` it is refused
    and leaves no usable session."""
    deployment.positive_control()
    for tampered in tamperings:
        shaped = tampering(tampered) if isinstance(tampered, Tamper) else tampered
        assert_no_usable_session(deployment, tampered_login(deployment, shaped))


@check(
    "CB-09",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-6",
    requirement="An ID token with a broken signature is refused.",
)
def test_id_token_with_broken_signature_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.BAD_SIGNATURE)


@check(
    "CB-10",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-7",
    requirement="An ID token with alg none is refused.",
)
def test_unsigned_id_token_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.ALG_NONE)


@check(
    "CB-11",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-8",
    requirement=(
        "An ID token HS256-signed with the client secret, or with the RSA public key as the HMAC key, is refused."
    ),
)
def test_hs256_id_token_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.HS256_CLIENT_SECRET, Tamper.HS256_PUBLIC_KEY)


@check(
    "CB-12",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-2",
    requirement="An ID token whose iss is not the issuer is refused, the issuer without its trailing slash included.",
)
def test_id_token_from_another_issuer_is_refused(deployment: Deployment) -> None:
    issuer = deployment.gateway.registration.issuer
    slashless = issuer.rstrip("/")
    assert slashless != issuer, f"the check needs an issuer with JumpCloud's trailing slash; it got {issuer}"
    near_miss = Tampering(
        f"a callback whose ID token's iss is the issuer without its trailing slash ({slashless})",
        params={"claims": {"iss": slashless}},
    )
    assert_refused_with(deployment, Tamper.WRONG_ISS, near_miss)


@check(
    "CB-13",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-3",
    requirement="An ID token whose aud is another client is refused.",
)
def test_id_token_for_another_client_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.WRONG_AUD)


@check(
    "CB-14",
    level=SHOULD,
    ref="OIDC Core 1.0 §3.1.3.7-3",
    requirement="An ID token whose aud holds the client and an untrusted extra audience is refused.",
)
def test_id_token_with_untrusted_extra_audience_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.EXTRA_AUD)


@check(
    "CB-15",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-5",
    requirement="An ID token whose azp is present and not the client is refused.",
)
def test_id_token_authorized_for_another_party_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.WRONG_AZP)


@check(
    "CB-16",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-9",
    requirement="An expired ID token is refused: one expired an hour ago, and one expired five minutes ago (past any "
    "sane clock-skew allowance).",
)
def test_expired_id_token_is_refused(deployment: Deployment) -> None:
    just_expired = claims_set(
        deployment,
        f"a callback whose ID token expired {EDGE_SKEW // 60} minutes ago",
        iat=-EDGE_SKEW - 600,
        exp=-EDGE_SKEW,
    )
    assert_refused_with(deployment, Tamper.EXPIRED, just_expired)


@check(
    "CB-17",
    level=MUST,
    ref="OIDC Core 1.0 §2",
    requirement="An ID token without exp is refused.",
)
def test_id_token_without_expiry_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.MISSING_EXP)


@check(
    "CB-18",
    level=SHOULD,
    ref="OIDC Core 1.0 §2, §3.1.3.7-10",
    requirement="An ID token without iat, or with iat in the future (a day, or five minutes: past any sane "
    "clock-skew allowance), is refused.",
)
def test_id_token_without_or_with_future_issue_time_is_refused(deployment: Deployment) -> None:
    soon = claims_set(
        deployment,
        f"a callback whose ID token was issued {EDGE_SKEW // 60} minutes in the future (iat)",
        iat=EDGE_SKEW,
        exp=EDGE_SKEW + 3600,
    )
    assert_refused_with(deployment, Tamper.MISSING_IAT, Tamper.IAT_FUTURE, soon)


@check(
    "CB-19",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-11",
    requirement="When the gateway sent a nonce, an ID token carrying another nonce is refused.",
)
def test_id_token_with_another_nonce_is_refused(deployment: Deployment) -> None:
    deployment.positive_control()
    tampered = tampered_login(deployment, tampering(Tamper.WRONG_NONCE))
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
    assert_refused_with(deployment, Tamper.OMIT_ID_TOKEN)


@check(
    "CB-32",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-3",
    requirement="An ID token without an aud claim is refused.",
)
def test_id_token_without_audience_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.MISSING_AUD)


@check(
    "CB-33",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-2",
    requirement="An ID token without an iss claim is refused.",
)
def test_id_token_without_issuer_is_refused(deployment: Deployment) -> None:
    assert_refused_with(deployment, Tamper.MISSING_ISS)


@check(
    "CB-34",
    level=SHOULD,
    ref="OIDC Core 1.0 §10.1",
    requirement="An ID token whose header has no kid is accepted while the IdP's JWKS holds exactly one signing key "
    "(a kid is required only when there are several).",
)
@gateway(idp_settings=MockIdpSettings(key_count=1))
def test_id_token_without_kid_from_a_one_key_idp_is_accepted(deployment: Deployment) -> None:
    # A mock of its own: the shared mock publishes several keys, and the JWKS cannot be changed for one check.
    with precondition("the IdP's JWKS holding exactly one key"):
        keys = deployment.idp.jwks().get("keys")
        assert isinstance(keys, list) and len(keys) == 1, f"it holds {len(keys) if isinstance(keys, list) else keys}"
    user = deployment.make_user()
    with deployment.fault("id_token", endpoint="token", user=user.email, tamper=str(Tamper.NO_KID)):
        login = deployment.login(user)
    assert login.succeeded and login.token, (
        f"{DESCRIPTIONS[Tamper.NO_KID]}, signed by the IdP's only key, must be accepted; the callback answered "
        f"{describe(login.answer)}"
    )
    shown = deployment.me(login.token).get("email")
    assert shown == user.email, f"the session of the login without kid shows {shown!r}, not {user.email}"
