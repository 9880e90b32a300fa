"""The mutant registry covers every MUST and SHOULD check, and each mutant is wired into the code."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from hoop_conformance.launchers.mock import RunningMockIdp
from reference_gateway.mutants import MUTANTS, covered_checks
from tests.reference_gateway.harness import harness, set_cookies

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKS_MD = REPO_ROOT / "spec" / "checks.md"
SHARED_CHECKS_MD = REPO_ROOT.parent / "shared" / "spec" / "checks.md"
PACKAGE = REPO_ROOT / "reference_gateway"
ROW = re.compile(r"^\|\s*([A-Z]+-\d+)\s*\|(?:[^|]*\|){3}\s*([A-Z/]+)\s*\|", re.MULTILINE)
FULL_ROW = re.compile(r"^\|\s*([A-Z]+-\d+)\s*\|.*$", re.MULTILINE)


def catalogue() -> dict[str, str]:
    """Check id -> level, from the committed check catalogue."""
    return dict(ROW.findall(CHECKS_MD.read_text()))


def catalogue_rows(text: str) -> dict[str, str]:
    """Check id -> its whole row (spaces around cells ignored)."""
    return {
        match.group(1): "|".join(cell.strip() for cell in match.group(0).split("|"))
        for match in FULL_ROW.finditer(text)
    }


@pytest.mark.skipif(not SHARED_CHECKS_MD.exists(), reason="no shared/spec beside this checkout")
def test_committed_catalogue_is_the_specs() -> None:
    ours, shared = catalogue_rows(CHECKS_MD.read_text()), catalogue_rows(SHARED_CHECKS_MD.read_text())
    missing = sorted(shared.keys() - ours.keys())
    differing = {
        check: (ours[check], shared[check]) for check in shared.keys() & ours.keys() if ours[check] != shared[check]
    }
    assert missing == [], "rows of ../shared/spec/checks.md missing from spec/checks.md: copy them"
    assert differing == {}, "rows that differ from ../shared/spec/checks.md (ours, shared): copy them"
    extra = sorted(ours.keys() - shared.keys(), key=lambda check: list(ours).index(check))
    if extra:
        warnings.warn(
            f"spec/checks.md has rows ../shared/spec/checks.md does not have yet: {', '.join(extra)}", stacklevel=1
        )


def test_every_must_and_should_check_has_a_mutant() -> None:
    levels = catalogue()
    required = {check for check, level in levels.items() if "MUST" in level or "SHOULD" in level}
    assert len(required) > 60
    assert sorted(required - covered_checks()) == []


def test_mutants_name_only_known_checks() -> None:
    assert sorted(covered_checks() - catalogue().keys()) == []


def test_every_mutant_is_used_by_the_code() -> None:
    source = "\n".join(path.read_text() for path in PACKAGE.glob("*.py") if path.name != "mutants.py")
    used = set(re.findall(r"mutant\(\"([a-z0-9_]+)\"\)", source))
    assert sorted(MUTANTS.keys() - used) == []
    assert sorted(used - MUTANTS.keys()) == []


@pytest.mark.parametrize(
    ("mutant", "env"),
    [("no_pkce", {}), ("no_nonce", {}), ("ignore_custom_scopes", {"IDP_CUSTOM_SCOPES": "groups"})],
)
def test_authorize_request_mutants_change_only_their_parameter(
    mock_idp: RunningMockIdp, mutant: str, env: dict[str, str]
) -> None:
    with harness(mock_idp, mutant=mutant, extra_env=env, warm_up=False) as gw:
        url = gw.start_login(gw.client(), f"{gw.url}/callback").json()["login_url"]
        missing = {"no_pkce": "code_challenge=", "no_nonce": "nonce=", "ignore_custom_scopes": "groups"}[mutant]
        assert missing not in url
        assert gw.me(gw.sign_in(gw.user()))["status"] == "active"  # everything else still works


def test_mutants_break_their_rule(mock_idp: RunningMockIdp) -> None:
    mutants = "cookie_not_httponly,state_reusable,keep_admin,accept_query_token"
    with harness(mock_idp, mutant=mutants) as gw:
        user = gw.user("admin", "ops")
        login = gw.login(user)
        assert not any("HttpOnly" in c for c in set_cookies(login))
        assert (
            login.client.get(gw.complete_at_idp(login.client, login.start.json()["login_url"], user)).status_code == 307
        )
        gw.idp.admin.remove_member(gw.group("admin"), user.id)
        token = gw.sign_in(user)
        assert gw.gateway.api(f"/api/api-keys?access_token={token}", None).status_code == 200


def test_id_token_and_role_mutants_break_their_rule_end_to_end(mock_idp: RunningMockIdp) -> None:
    mutants = (
        "allow_missing_aud,allow_missing_iss,iss_ignores_trailing_slash,exp_leeway_30min,iat_future_leeway_hour,"
        "admin_group_lookalikes"
    )
    with harness(mock_idp, mutant=mutants) as gw:
        now = int(gw.idp.control.now())
        accepted = [
            {"tamper": "missing_aud"},
            {"tamper": "missing_iss"},
            {"claims": {"iss": gw.idp.issuer.rstrip("/")}},
            {"claims": {"exp": now - 1500}},
            {"claims": {"iat": now + 3000}},
        ]
        refused = [{"tamper": name} for name in ("wrong_aud", "wrong_iss", "expired", "iat_future", "missing_iat")]
        for fault in accepted + refused:
            user = gw.user()
            gw.idp.control.add_fault("id_token", user=user.email, **fault)
            assert gw.login(user).succeeded is (fault in accepted), fault
        user = gw.user()
        gw.idp.control.add_fault("id_token", user=user.email, claims={"https://app.hoop.dev/groups": [" Admin "]})
        assert gw.gateway.api("/api/api-keys", gw.sign_in(user)).status_code == 200
