"""Groups sync: array / string / absent / empty / non-string / duplicates, at the IdP and in the parser."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hoop_conformance.launchers.mock import RunningMockIdp
from reference_gateway.groups import claimed_groups, role_of, synced_groups
from reference_gateway.settings import Settings
from tests.reference_gateway.harness import Harness, harness

CLAIM = "https://app.hoop.dev/groups"
SETTINGS = Settings(api_url="http://127.0.0.1:8009", port=8009, issuer="http://idp/", client_id="c", client_secret="s")


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({CLAIM: ["a", "b"]}, ["a", "b"]),
        ({CLAIM: "a"}, ["a"]),
        ({CLAIM: ""}, []),
        ({CLAIM: []}, []),
        ({}, None),
        ({CLAIM: None}, None),
        ({CLAIM: {"a": 1}}, None),
        ({CLAIM: 7}, None),
        ({CLAIM: ["a", 1, "", None, "a", "b", ["c"], "A"]}, ["a", "b", "A"]),
        ({CLAIM: ["Ops Team", "équipe", "x" * 255]}, ["Ops Team", "équipe", "x" * 255]),
        ({"groups": ["a"]}, None),
    ],
)
def test_claimed_groups(claims: dict[str, Any], expected: list[str] | None) -> None:
    assert claimed_groups(claims, SETTINGS) == expected


def test_synced_groups_replace_or_keep() -> None:
    assert synced_groups(["admin", "a"], ["b"], SETTINGS) == ["b"]
    assert synced_groups(["admin", "a"], None, SETTINGS) == ["admin", "a"]
    assert synced_groups(["a"], [], SETTINGS) == []


def test_roles() -> None:
    assert role_of(["x", "admin"], SETTINGS) == "admin"
    assert role_of(["auditor"], SETTINGS) == "auditor"
    assert role_of(["Admin", "AUDITOR"], SETTINGS) == "standard"


@pytest.mark.parametrize(
    ("groups", "role"),
    [(["Admin"], "admin"), ([" admin "], "admin"), (["ADMIN"], "admin"), ([" Auditor"], "auditor")],
)
def test_admin_group_lookalikes_mutant_grants_roles_to_lookalikes(groups: list[str], role: str) -> None:
    assert role_of(groups, SETTINGS) == "standard"
    assert role_of(groups, replace(SETTINGS, mutants=frozenset({"admin_group_lookalikes"}))) == role


def test_admin_group_lookalikes_mutant_still_needs_the_name() -> None:
    settings = replace(SETTINGS, mutants=frozenset({"admin_group_lookalikes"}))
    assert role_of(["administrators", "admins", "ad min"], settings) == "standard"
    assert role_of(["admin"], settings) == "admin"


def groups_after_login(gw: Harness, user: Any, **fault: Any) -> list[str]:
    """The user's gateway groups after a login (with an ``id_token`` fault when given)."""
    if fault:
        gw.idp.control.add_fault("id_token", user=user.email, **fault)
    return list(gw.me(gw.sign_in(user))["groups"])


def test_array_and_string_claims(gw: Harness) -> None:
    assert groups_after_login(gw, gw.user("g-a", "g-b")) == ["g-a", "g-b"]
    assert groups_after_login(gw, gw.user("g-a")) == ["g-a"]


def test_group_added_then_removed_at_the_idp(gw: Harness) -> None:
    user = gw.user("g-a")
    assert groups_after_login(gw, user) == ["g-a"]
    gw.idp.admin.add_member(gw.group("g-b"), user.id)
    assert sorted(groups_after_login(gw, user)) == ["g-a", "g-b"]
    gw.idp.admin.remove_member(gw.group("g-a"), user.id)
    assert groups_after_login(gw, user) == ["g-b"]


def test_empty_array_clears_and_absent_claim_keeps(gw: Harness) -> None:
    user = gw.user("g-a", "g-b")
    assert groups_after_login(gw, user) == ["g-a", "g-b"]
    assert groups_after_login(gw, user, remove=[CLAIM]) == ["g-a", "g-b"]
    assert groups_after_login(gw, user, claims={CLAIM: {"not": "a list"}}) == ["g-a", "g-b"]
    assert groups_after_login(gw, user, claims={CLAIM: []}) == []


def test_junk_entries_are_dropped_and_names_kept_exactly(gw: Harness) -> None:
    user = gw.user()
    junk = ["a", 1, "", None, "a", "B", "b", {"x": 1}, "Ops Team", "ünïcode", "x" * 255]
    assert groups_after_login(gw, user, claims={CLAIM: junk}) == ["a", "B", "b", "Ops Team", "ünïcode", "x" * 255]


def test_groups_claim_name_is_configurable(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, extra_env={"IDP_GROUPS_CLAIM": "memberOf"}, groups_claim="memberOf") as gw:
        user = gw.user("g-x", "g-y")
        assert groups_after_login(gw, user) == ["g-x", "g-y"]
        assert groups_after_login(gw, user, claims={CLAIM: ["ignored"]}) == ["g-x", "g-y"]
