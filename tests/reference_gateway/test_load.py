"""Concurrent logins and API calls: every session maps to its own user, no call ever answers 5xx, no leak."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hoop_conformance.launchers.mock import RunningMockIdp
from tests.reference_gateway.harness import Harness, harness

MEASURED_LOGINS = 300
GROWTH_PER_LOGIN = 4096
"""LOAD-05's bound on resident memory growth, in bytes per login."""


def test_concurrent_logins_map_each_session_to_its_user(gw: Harness) -> None:
    users = [gw.user(f"team-{n % 3}") for n in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        tokens = list(pool.map(gw.sign_in, users))
        answers = list(pool.map(gw.me, tokens))
    for user, answer in zip(users, answers, strict=True):
        assert answer["email"] == user.email
    assert len({answer["id"] for answer in answers}) == len(users)


def test_api_calls_while_userinfo_fails_now_and_then(gw: Harness) -> None:
    users = [gw.user() for _ in range(6)]
    tokens = [gw.sign_in(user) for user in users]
    for user in users:
        gw.idp.control.add_fault("respond", endpoint="userinfo", user=user.email, status=503, times=3)
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda token: gw.gateway.api("/api/userinfo", token).status_code, tokens * 8))
    assert statuses.count(401) == 3 * len(users)
    assert statuses.count(200) == len(statuses) - 3 * len(users)


def test_resident_memory_does_not_grow_per_login(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp) as gw, ThreadPoolExecutor(max_workers=4) as pool:
        regulars = [gw.user() for _ in range(10)]

        def log_in(n: int) -> None:
            gw.sign_in(regulars[n % len(regulars)] if n % 2 else gw.user())  # half re-logins, half new users

        list(pool.map(log_in, range(MEASURED_LOGINS // 2)))  # warm-up
        before = gw.gateway_rss()
        list(pool.map(log_in, range(MEASURED_LOGINS)))
        growth = gw.gateway_rss() - before
    assert growth < GROWTH_PER_LOGIN * MEASURED_LOGINS, f"{growth / MEASURED_LOGINS:.0f} bytes per login"
