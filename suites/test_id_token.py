"""CB-09..CB-20, CB-32..CB-34: ID token validation at the callback (OIDC Core 1.0 §3.1.3.7).

Each check logs a new user in over HTTP while the mock tampers with the ID token of that user's token response
(``hoop_conformance.id_tokens``). The gateway must refuse the callback (a 4xx, or a redirect carrying ``error=``) and
leave no usable session: a token it handed over anyway must not work on ``/api/userinfo``. Nothing passes for want
of a login: the tampered answer must reach the gateway (the fault fired), and the same login without the tamper must
succeed on the same gateway (the positive control); otherwise the check cannot judge (ERROR).

Rules with an allowance are probed at its edge, not one value far away: an ID token expired five minutes ago (past
any sane clock-skew allowance of a minute or two) beside one expired an hour ago; an ``iat`` five minutes ahead
beside one a day ahead; the issuer without its trailing slash beside a foreign issuer.
"""

from __future__ import annotations

import pytest

from hoop_conformance.assertions import describe
from hoop_conformance.catalogue import MUST, SHOULD, check
from hoop_conformance.deployment import Deployment
from hoop_conformance.gateways import gateway
from hoop_conformance.id_tokens import (
    DESCRIPTIONS,
    Recipe,
    Tamper,
    assert_no_usable_session,
    assert_refused_with,
    clock_offsets,
    issuer_without_slash,
    tampered_login,
)
from hoop_conformance.judging import precondition
from mock_idp.settings import MockIdpSettings

pytestmark = pytest.mark.usefixtures("control")
"""Every check injects a fault: skipped cleanly without the mock's control API."""

EDGE_SKEW = 300
"""Seconds just past a sane clock-skew allowance (a minute or two): the edge CB-16 and CB-18 probe."""

REFUSED_TAMPERS = [
    pytest.param(
        (Tamper.BAD_SIGNATURE,),
        marks=check("CB-09", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-6",
                    requirement="An ID token with a broken signature is refused."),
        id="CB-09-broken-signature",
    ),
    pytest.param(
        (Tamper.ALG_NONE,),
        marks=check("CB-10", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-7",
                    requirement="An ID token with alg none is refused."),
        id="CB-10-alg-none",
    ),
    pytest.param(
        (Tamper.HS256_CLIENT_SECRET, Tamper.HS256_PUBLIC_KEY),
        marks=check("CB-11", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-8",
                    requirement="An ID token HS256-signed with the client secret, or with the RSA public key as the "
                    "HMAC key, is refused."),
        id="CB-11-hs256",
    ),
    pytest.param(
        (Tamper.WRONG_ISS, issuer_without_slash),
        marks=check("CB-12", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-2",
                    requirement="An ID token whose iss is not the issuer is refused, the issuer without its trailing "
                    "slash included."),
        id="CB-12-another-issuer",
    ),
    pytest.param(
        (Tamper.WRONG_AUD,),
        marks=check("CB-13", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-3",
                    requirement="An ID token whose aud is another client is refused."),
        id="CB-13-another-audience",
    ),
    pytest.param(
        (Tamper.EXTRA_AUD,),
        marks=check("CB-14", level=SHOULD, ref="OIDC Core 1.0 §3.1.3.7-3",
                    requirement="An ID token whose aud holds the client and an untrusted extra audience is refused."),
        id="CB-14-extra-audience",
    ),
    pytest.param(
        (Tamper.WRONG_AZP,),
        marks=check("CB-15", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-5",
                    requirement="An ID token whose azp is present and not the client is refused."),
        id="CB-15-another-azp",
    ),
    pytest.param(
        (Tamper.EXPIRED, clock_offsets(f"a callback whose ID token expired {EDGE_SKEW // 60} minutes ago",
                                       iat=-EDGE_SKEW - 600, exp=-EDGE_SKEW)),
        marks=check("CB-16", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-9",
                    requirement="An expired ID token is refused: one expired an hour ago, and one expired five "
                    "minutes ago (past any sane clock-skew allowance)."),
        id="CB-16-expired",
    ),
    pytest.param(
        (Tamper.MISSING_EXP,),
        marks=check("CB-17", level=MUST, ref="OIDC Core 1.0 §2", requirement="An ID token without exp is refused."),
        id="CB-17-no-exp",
    ),
    pytest.param(
        (Tamper.MISSING_IAT, Tamper.IAT_FUTURE,
         clock_offsets(f"a callback whose ID token was issued {EDGE_SKEW // 60} minutes in the future (iat)",
                       iat=EDGE_SKEW, exp=EDGE_SKEW + 3600)),
        marks=check("CB-18", level=SHOULD, ref="OIDC Core 1.0 §2, §3.1.3.7-10",
                    requirement="An ID token without iat, or with iat in the future (a day, or five minutes: past "
                    "any sane clock-skew allowance), is refused."),
        id="CB-18-no-or-future-iat",
    ),
    pytest.param(
        (Tamper.OMIT_ID_TOKEN,),
        marks=check("CB-20", level=MUST, ref="OIDC Core 1.0 §3.1.3.3",
                    requirement="A token response without an id_token is refused."),
        id="CB-20-no-id-token",
    ),
    pytest.param(
        (Tamper.MISSING_AUD,),
        marks=check("CB-32", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-3",
                    requirement="An ID token without an aud claim is refused."),
        id="CB-32-no-aud",
    ),
    pytest.param(
        (Tamper.MISSING_ISS,),
        marks=check("CB-33", level=MUST, ref="OIDC Core 1.0 §3.1.3.7-2",
                    requirement="An ID token without an iss claim is refused."),
        id="CB-33-no-iss",
    ),
]  # fmt: skip
"""The checks that differ only in how the ID token is tampered with: each refused, with no usable session."""


@pytest.mark.parametrize("recipes", REFUSED_TAMPERS)
def test_tampered_id_token_is_refused(deployment: Deployment, recipes: tuple[Recipe, ...]) -> None:
    assert_refused_with(deployment, *recipes)


@check(
    "CB-19",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-11",
    requirement="When the gateway sent a nonce, an ID token carrying another nonce is refused.",
)
def test_id_token_with_another_nonce_is_refused(deployment: Deployment) -> None:
    deployment.positive_control()
    tampered = tampered_login(deployment, Tamper.WRONG_NONCE)
    if tampered.nonce is None:
        pytest.skip("not applicable: the gateway sent no nonce in its authorize request (LOGIN-05 judges that)")
    assert_no_usable_session(deployment, tampered)


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
