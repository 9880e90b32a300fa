"""Concurrent logins and API calls: every session maps to its own user, no call ever answers 5xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.reference_gateway.harness import Harness


def test_concurrent_logins_map_each_session_to_its_user(gw: Harness) -> None:
    users = [gw.user(f"team-{n % 3}") for n in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        tokens = list(pool.map(gw.signed_in, users))
        answers = list(pool.map(gw.me, tokens))
    for user, answer in zip(users, answers, strict=True):
        assert answer["email"] == user.email
    assert len({answer["id"] for answer in answers}) == len(users)


def test_api_calls_while_userinfo_fails_now_and_then(gw: Harness) -> None:
    users = [gw.user() for _ in range(6)]
    tokens = [gw.signed_in(user) for user in users]
    for user in users:
        gw.idp.control.add_fault("respond", endpoint="userinfo", user=user.email, status=503, times=3)
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda token: gw.api("/api/userinfo", token).status_code, tokens * 8))
    assert statuses.count(401) == 3 * len(users)
    assert statuses.count(200) == len(statuses) - 3 * len(users)
