"""GROUP: how the IdP's groups claim becomes the gateway's groups and roles.

Memberships are changed at the IdP through the admin API (as on a real tenant); the claim shapes the admin API
cannot produce (an empty array, junk entries, no claim at all) come from the mock's ``id_token`` fault, mirrored at
userinfo so that a gateway reading either source sees the same claim. The gateway's view is read from
``GET /api/userinfo``, and roles are judged by the contract's admin-only and admin-or-auditor probe routes.
"""

from __future__ import annotations

import uuid
from typing import Any

from hoop_conformance.assertions import assert_status, describe
from hoop_conformance.catalogue import CONTRACT, MUST, SHOULD, check
from hoop_conformance.contract import ADMIN_GROUP, ADMIN_ONLY_PROBE, AUDITOR_GROUP, AUDITOR_PROBE, DEFAULT_GROUPS_CLAIM
from hoop_conformance.deployment import Deployment
from hoop_conformance.gateways import gateway
from hoop_conformance.groups import assert_groups, groups_claim
from hoop_conformance.idp.control import MockControl
from hoop_conformance.judging import cannot_judge
from hoop_conformance.users import unique_group as fresh_group

CONFIGURED_CLAIM = "https://conformance.example/teams"
"""GROUP-13's groups claim, configured at the gateway and at its app."""
ADMIN_LOOKALIKES = ("Admin", "ADMIN", "admins")
"""Groups that only look like the admin group: another case, a longer word (none is privileged)."""


@check(
    "GROUP-01",
    level=MUST,
    ref="contract",
    requirement="A user in groups a and b (an array claim) has exactly groups {a, b} at the gateway.",
    staging=True,
)
def test_array_claim_gives_every_group(deployment: Deployment) -> None:
    groups = (fresh_group("alpha"), fresh_group("beta"))
    user = deployment.make_user(groups=groups)
    assert_groups(deployment, deployment.sign_in(user), groups, "a user in two groups (an array claim)")


@check(
    "GROUP-02",
    level=MUST,
    ref="contract",
    requirement="A user in one group (JumpCloud sends a JSON string, not an array) has exactly that group.",
    staging=True,
)
def test_single_group_string_claim_gives_that_group(deployment: Deployment) -> None:
    group = fresh_group("solo")
    user = deployment.make_user(groups=(group,))
    assert_groups(deployment, deployment.sign_in(user), [group], "a user in one group (a string claim)")


@check(
    "GROUP-03",
    level=MUST,
    ref="contract",
    requirement="A group added at the IdP appears at the gateway after the user's next login.",
    staging=True,
)
def test_group_added_at_the_idp_appears_on_next_login(deployment: Deployment) -> None:
    first, added = fresh_group("kept"), fresh_group("added")
    user = deployment.make_user(groups=(first,))
    assert_groups(deployment, deployment.sign_in(user), [first], "before the change at the IdP")
    deployment.idp.admin.add_member(deployment.idp.admin.bound_group(added, deployment.app_id), user.id)
    assert_groups(deployment, deployment.sign_in(user), [first, added], "after a group was added at the IdP")


@check(
    "GROUP-04",
    level=MUST,
    ref="contract",
    requirement="A group removed at the IdP disappears at the gateway after the user's next login.",
    staging=True,
)
def test_group_removed_at_the_idp_disappears_on_next_login(deployment: Deployment) -> None:
    kept, removed = fresh_group("kept"), fresh_group("removed")
    user = deployment.make_user(groups=(kept, removed))
    assert_groups(deployment, deployment.sign_in(user), [kept, removed], "before the change at the IdP")
    deployment.idp.admin.remove_member(deployment.idp.admin.bound_group(removed, deployment.app_id), user.id)
    assert_groups(deployment, deployment.sign_in(user), [kept], "after a group was removed at the IdP")


@check(
    "GROUP-05",
    level=MUST,
    ref="contract",
    requirement="A groups claim that is an empty array clears the user's groups.",
)
def test_empty_array_claim_clears_groups(deployment: Deployment, control: MockControl) -> None:
    groups = (fresh_group("alpha"), fresh_group("beta"))
    user = deployment.make_user(groups=groups)
    assert_groups(deployment, deployment.sign_in(user), groups, "before the empty claim")
    with groups_claim(deployment, user, claim=deployment.gateway.registration.groups_claim, value=[]):
        token = deployment.sign_in(user)
    assert_groups(deployment, token, [], "after a login whose groups claim is []")


@check(
    "GROUP-06",
    level=CONTRACT,
    ref="contract",
    requirement="A login without the groups claim leaves the user's groups unchanged.",
)
def test_absent_claim_leaves_groups_unchanged(deployment: Deployment, control: MockControl) -> None:
    groups = (fresh_group("alpha"), fresh_group("beta"))
    user = deployment.make_user(groups=groups)
    assert_groups(deployment, deployment.sign_in(user), groups, "before the login without the claim")
    with groups_claim(deployment, user, claim=deployment.gateway.registration.groups_claim, absent=True):
        token = deployment.sign_in(user)
    assert_groups(deployment, token, groups, "after a login without the groups claim")


@check(
    "GROUP-07",
    level=MUST,
    ref="contract",
    requirement="Non-string and empty entries of the groups claim are ignored and duplicates collapsed.",
)
def test_junk_and_duplicate_entries_are_ignored(deployment: Deployment, control: MockControl) -> None:
    alpha, beta = fresh_group("alpha"), fresh_group("beta")
    user = deployment.make_user(groups=(alpha,))
    junk: list[Any] = [alpha, "", 7, None, True, 1.5, {"name": beta}, [beta], alpha, beta, beta]
    with groups_claim(deployment, user, claim=deployment.gateway.registration.groups_claim, value=junk):
        token = deployment.sign_in(user)
    assert_groups(deployment, token, [alpha, beta], f"a groups claim of {junk!r}")


@check(
    "GROUP-08",
    level=MUST,
    ref="contract",
    requirement="Group names with spaces, non-ASCII characters, 255 characters or differing only in case "
    "are kept exactly as the IdP sends them, and the user in them can sign in.",
    staging=True,
)
def test_unusual_group_names_are_kept_exactly(deployment: Deployment) -> None:
    tag = uuid.uuid4().hex[:10]
    groups = (
        f"Site Reliability Team {tag}",
        f"Équipe Données 数据库 {tag}",
        f"{tag}-" + "L" * (254 - len(tag)),
        f"Ops-{tag}",
        f"ops-{tag}",
    )
    assert len(groups[2]) == 255
    deployment.positive_control(what="a user in ordinary groups signs in")
    user = deployment.make_user(groups=groups)
    login = deployment.login(user)
    assert login.succeeded and login.token, (
        f"a user in groups with spaces, unicode, 255 characters and case-only differences could not sign in: the "
        f"callback answered {describe(login.answer)}"
    )
    assert_groups(deployment, login.token, groups, "group names with spaces, unicode, 255 characters, case")


@check(
    "GROUP-09",
    level=MUST,
    ref="contract",
    requirement="A user in the IdP group admin passes the admin-only route.",
    staging=True,
)
def test_idp_admin_group_grants_admin_routes(deployment: Deployment) -> None:
    deployment.idp.admin.bound_group(ADMIN_GROUP, deployment.app_id)
    token = deployment.sign_in(deployment.make_user(groups=(fresh_group("staff"), ADMIN_GROUP)))
    assert_status(deployment.gateway.api(ADMIN_ONLY_PROBE, token), 200, "a member of admin on the admin-only route")


@check(
    "GROUP-10",
    level=SHOULD,
    ref="least privilege",
    requirement="After admin is removed at the IdP and the user logs in again, the admin-only route answers 403.",
    staging=True,
)
def test_admin_removed_at_the_idp_loses_admin_routes(deployment: Deployment) -> None:
    admin_group = deployment.idp.admin.bound_group(ADMIN_GROUP, deployment.app_id)
    user = deployment.make_user(groups=(fresh_group("staff"), ADMIN_GROUP))
    token = deployment.sign_in(user)
    assert_status(deployment.gateway.api(ADMIN_ONLY_PROBE, token), 200, "a member of admin, before the change")
    deployment.idp.admin.remove_member(admin_group, user.id)
    token = deployment.sign_in(user)
    assert_status(
        deployment.gateway.api(ADMIN_ONLY_PROBE, token), 403, "admin-only route after admin was removed at the IdP"
    )


@check(
    "GROUP-11",
    level=CONTRACT,
    ref="contract",
    requirement="A user in auditor passes the auditor route and gets 403 on the admin-only route.",
    staging=True,
)
def test_auditor_group_grants_auditor_routes_only(deployment: Deployment) -> None:
    deployment.idp.admin.bound_group(AUDITOR_GROUP, deployment.app_id)
    token = deployment.sign_in(deployment.make_user(groups=(fresh_group("staff"), AUDITOR_GROUP)))
    assert_status(deployment.gateway.api(AUDITOR_PROBE, token), 200, "a member of auditor on the auditor route")
    assert_status(deployment.gateway.api(ADMIN_ONLY_PROBE, token), 403, "a member of auditor on the admin-only route")


@check(
    "GROUP-12",
    level=MUST,
    ref="contract",
    requirement="A user in no privileged group gets 403 on the admin-only route, also when its groups only look like "
    "the admin group (another case, a longer word).",
    staging=True,
)
def test_unprivileged_user_is_kept_off_admin_routes(deployment: Deployment) -> None:
    admin = deployment.gateway.api(ADMIN_ONLY_PROBE, deployment.admin_token())
    if admin.status_code != 200:
        raise cannot_judge(f"the positive control (an admin on the admin-only route) got {describe(admin)}")
    token = deployment.sign_in(deployment.make_user(groups=(fresh_group("staff"),)))
    assert_status(deployment.gateway.api(ADMIN_ONLY_PROBE, token), 403, "a user in no privileged group")
    lookalike = deployment.sign_in(deployment.make_user(groups=ADMIN_LOOKALIKES))
    assert_status(
        deployment.gateway.api(ADMIN_ONLY_PROBE, lookalike),
        403,
        f"a user in groups that only look like {ADMIN_GROUP} ({', '.join(ADMIN_LOOKALIKES)})",
    )


@check(
    "GROUP-13",
    level=CONTRACT,
    ref="contract",
    requirement="With IDP_GROUPS_CLAIM naming another claim, the groups come from that claim and the default "
    "claim is ignored.",
)
@gateway(own_idp=False, env={"IDP_GROUPS_CLAIM": CONFIGURED_CLAIM}, app={"groups_claim": CONFIGURED_CLAIM})
def test_configured_groups_claim_is_used(deployment: Deployment, control: MockControl) -> None:
    claim = CONFIGURED_CLAIM
    groups = (fresh_group("alpha"), fresh_group("beta"))
    user = deployment.make_user(groups=groups)
    with groups_claim(deployment, user, claim=DEFAULT_GROUPS_CLAIM, value=[fresh_group("decoy")]):
        token = deployment.sign_in(user)
    assert_groups(deployment, token, groups, f"groups claim {claim} configured, {DEFAULT_GROUPS_CLAIM} a decoy")


@check(
    "GROUP-14",
    level=CONTRACT,
    ref="contract",
    requirement="The very first user to log in to a fresh gateway becomes admin.",
)
@gateway(own_idp=False, warm_up=False)
def test_first_user_of_a_fresh_gateway_becomes_admin(deployment: Deployment) -> None:
    token = deployment.sign_in(deployment.make_user(groups=(fresh_group("staff"),)))
    assert_status(deployment.gateway.api(ADMIN_ONLY_PROBE, token), 200, "the first user of a fresh gateway")
