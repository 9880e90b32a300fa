"""TLS: the IdP over HTTPS. Real JumpCloud is HTTPS only, and a client MUST validate the authorization server's
certificate (RFC 6749 §10.9).

Each check starts gateways of its own against mocks of their own serving HTTPS (``hoop_conformance.tls``), each
gateway given its mock's trusted CA as ``SSL_CERT_FILE``. A certificate the gateway must not trust may be refused at
start (the gateway exits, its log naming the certificate) or at login (the login fails cleanly); either way the
gateway sends that IdP nothing. The same login over HTTPS with the trusted certificate is the positive control.
The whole suite over HTTPS is ``--idp-tls``.
"""

from __future__ import annotations

import pytest

from hoop_conformance.catalogue import MUST, check
from hoop_conformance.logins import assert_signs_in
from hoop_conformance.tls import TlsTrials, assert_certificate_refused
from mock_idp.settings import TlsMode

REFUSED_CERTIFICATES = [
    pytest.param(
        "untrusted-ca",
        marks=check("TLS-01", level=MUST, ref="RFC 6749 §10.9",
                    requirement="An IdP certificate signed by a CA the gateway was not given is refused: the gateway "
                    "sends that IdP nothing (no token request, no client secret), and either refuses to start, its log "
                    "naming the certificate, or fails the login cleanly."),
        id="TLS-01-unknown-ca",
    ),
    pytest.param(
        "wrong-host",
        marks=check("TLS-02", level=MUST, ref="RFC 6125 §6",
                    requirement="An IdP certificate from the trusted CA for another host name is refused: the gateway "
                    "sends that IdP nothing (no token request, no client secret), and either refuses to start, its log "
                    "naming the certificate, or fails the login cleanly."),
        id="TLS-02-another-host",
    ),
]  # fmt: skip
"""The certificates a gateway must refuse: the mock's TLS modes that serve them."""


@pytest.mark.parametrize("tls_mode", REFUSED_CERTIFICATES)
def test_idp_certificate_not_to_trust_is_refused(tls_trial: TlsTrials, tls_mode: TlsMode, time_budget: float) -> None:
    with tls_trial("good") as trusted:
        trusted.positive_control()
    with tls_trial(tls_mode) as refused:
        assert_certificate_refused(refused, limit=time_budget)


@check(
    "TLS-03",
    level=MUST,
    ref="RFC 6749 §10.9",
    requirement="Given the IdP's CA as SSL_CERT_FILE, the gateway starts against the IdP over HTTPS and a full login "
    "and an API call work (the whole suite over HTTPS: --idp-tls).",
)
def test_login_over_https_with_the_ca_given(tls_trial: TlsTrials) -> None:
    with tls_trial("good") as trial:
        deployment = trial.started()
        assert deployment.idp.issuer.startswith("https://"), f"the IdP is not over HTTPS: {deployment.idp.issuer}"
        for attempt in ("a first login", "a second login"):  # a gateway that works only once does not "work"
            assert_signs_in(deployment, deployment.make_user(), f"{attempt} over HTTPS, the IdP's CA given")
