"""LOAD: many logins and API calls at once, userinfo failing under load, and what a login leaves behind.

How the logins are driven (HTTP-driven ones by Locust in a subprocess, the same users as ``./run load``; browser
logins interleaved page by page): ``hoop_conformance.load``.
"""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hoop_conformance.catalogue import INFO, MUST, SHOULD, check
from hoop_conformance.check_fixtures import Figures
from hoop_conformance.deployment import Deployment
from hoop_conformance.gateways import gateway
from hoop_conformance.idp.control import MockControl
from hoop_conformance.judging import cannot_judge
from hoop_conformance.load import (
    BrowserLogins,
    Jars,
    LoadSize,
    LocustLogins,
    NewContext,
    Script,
    assert_sessions_are_their_own,
    calls_of,
    finish_login,
    gateway_requests,
    leak_users,
    log_in_many,
    make_sessions,
    p95,
    record_requests,
    resident_memory,
    start_login,
    timed_call,
    timed_login,
)

LOGIN_WORKERS = 10
"""Threads making users; and how many of LOAD-01's and LOAD-02's pending logins are completed at a time."""

API_SESSIONS = 50
CALLS_PER_SESSION = 10
USERINFO_FAILURES: tuple[dict[str, Any], ...] = (
    {"status": 500, "content_type": "text/html", "body": "<html><body>Internal Server Error</body></html>"},
    {"status": 502},
    {"status": 503},
    {"status": 429},
    {"status": 504},
)
"""How userinfo fails, session by session in turn (the mock's ``respond`` fault)."""

FIGURE_LOGINS = 30
FIGURE_CALLS = 300
FIGURE_WORKERS = 20

LEAK_LOGINS = 1000
LEAK_USERS = 25
LEAK_LIMIT = 4096
"""Bytes of resident memory a login may leave behind, at most, over the second thousand logins."""


SMALL_LOAD = LoadSize(browsers=5, http=50)
"""The default size: the full one takes minutes on a busy two-core machine."""
FULL_LOAD = LoadSize(browsers=20, http=200)
"""The catalogue's size, run as a second parameter with ``--heavy``."""
LOAD_SIZES = (SMALL_LOAD, pytest.param(FULL_LOAD, marks=pytest.mark.heavy))
"""LOAD-01's sizes: the small one always, the full one (marked ``heavy``) only with ``--heavy``."""


@pytest.mark.parametrize("load_size", LOAD_SIZES, ids=str)
@check(
    "LOAD-01",
    level=MUST,
    ref="robustness",
    requirement="20 concurrent browser logins and 200 concurrent HTTP-driven logins of distinct users all "
    "succeed, and every session maps to its own user and groups.",
    staging=True,
)
def test_concurrent_logins_each_get_their_own_session(
    deployment: Deployment, new_context: NewContext, load_size: LoadSize
) -> None:
    with ThreadPoolExecutor(LOGIN_WORKERS) as pool, Jars(deployment.gateway) as jars:
        browser_sessions = make_sessions(deployment, load_size.browsers, pool)
        http_sessions = make_sessions(deployment, load_size.http, pool)
        browsers = BrowserLogins(deployment, new_context, browser_sessions)
        # Every HTTP login pending at the gateway, then the browsers', then all completed, the HTTP ones
        # LOGIN_WORKERS at a time: that burst at the IdP is not what is judged, and it saturates the mock on a busy
        # machine (the gateway's requests to it time out).
        if deployment.idp.browser_login is None:  # by Locust
            locust = LocustLogins(deployment, http_sessions, Script(together=True, at_once=LOGIN_WORKERS))
            locust.wait_pending()
            browsers.start()
            browsers.finish()
            locust.result()
        else:  # a real organization's login page takes Chromium (drivers.idp_browser): from threads
            pending = list(pool.map(lambda s: start_login(deployment, s, jars.new()), http_sessions))
            browsers.start()
            finishing = [pool.submit(finish_login, deployment, p) for p in pending]
            browsers.finish()
            for future in finishing:
                future.result()  # what was not the gateway's (an ERROR) is raised
        assert_sessions_are_their_own(
            deployment, {"concurrent HTTP logins": http_sessions, "concurrent browser logins": browser_sessions}, pool
        )


# API calls while userinfo fails


@check(
    "LOAD-02",
    level=MUST,
    ref="robustness",
    requirement="Over 500 API calls on 50 sessions while userinfo fails 10% of the time, no call answers 200 "
    "for a failed check and none answers 5xx.",
)
def test_failing_userinfo_under_load_never_lets_a_call_through(deployment: Deployment, control: MockControl) -> None:
    with ThreadPoolExecutor(LOGIN_WORKERS) as pool:
        sessions = make_sessions(deployment, API_SESSIONS, pool)
    # Each session: a login (all pending at once), then its calls one after another; one call, at a random index,
    # meets a failing userinfo (the mock's respond fault, once, scoped to the user; USERINFO_FAILURES in turn).
    cursor = control.journal_cursor()
    script = Script(calls=CALLS_PER_SESSION, fail_call=True, together=True, at_once=LOGIN_WORKERS, verify=False)
    records = LocustLogins(deployment, sessions, script, faults=USERINFO_FAILURES).result()
    not_in = [f"{s.user.email}: {s.failure}" for s, r in zip(sessions, records, strict=True) if not r.get("logins")]
    assert not not_in, f"{len(not_in)} of {API_SESSIONS} logins before the API calls failed: {not_in[:3]}"
    calls = {session.user.email: calls_of(record) for session, record in zip(sessions, records, strict=True)}
    unplanned = [f"{s.user.email}: {s.failure}" for s in sessions if s.failure]
    if unplanned:
        raise cannot_judge(f"{len(unplanned)} sessions could not make their planned calls: {unplanned[:3]}")
    checks: dict[str, list[dict[str, Any]]] = {}
    for entry in deployment.journal.entries("userinfo", since=cursor):
        checks.setdefault(str(entry["user_email"]).lower(), []).append(entry)
    met_failure, let_through, server_errors = 0, [], []
    for email, made in calls.items():
        for call in made:
            # The userinfo requests of this call (the session's calls are sequential); a retry that succeeded
            # makes the check a success, so only the last answer decides.
            during = [e for e in checks.get(email, []) if call.started <= e["time"] <= call.ended]
            met_failure += any(e["status"] != 200 for e in during)
            if during and during[-1]["status"] != 200 and call.status == 200:
                let_through.append(f"{call.shown} after userinfo answered {during[-1]['status']}")
            if call.status >= 500 or call.status == 0:  # 0: no answer at all
                server_errors.append(call.shown)
    if met_failure < API_SESSIONS // 2:
        raise cannot_judge(
            f"only {met_failure} API calls met a failing userinfo answer (one per session was planned): the "
            "userinfo failures never reached the gateway on the other calls"
        )
    assert not let_through, (
        f"{len(let_through)} calls answered 200 although their userinfo check failed: {let_through[:3]}"
    )
    assert not server_errors, f"{len(server_errors)} calls answered 5xx or not at all: {server_errors[:3]}"


# figures


@check(
    "LOAD-03",
    level=INFO,
    ref="-",
    requirement="Login time, API latency and IdP calls per login under concurrent load are reported.",
    staging=True,
)
def test_login_and_api_figures_under_load(deployment: Deployment, figures: Figures) -> None:
    with ThreadPoolExecutor(FIGURE_WORKERS) as pool, Jars(deployment.gateway) as jars:
        sessions = make_sessions(deployment, FIGURE_LOGINS, pool)
        cursor = deployment.journal_cursor()
        login_times = list(pool.map(lambda s: timed_login(deployment, s, jars), sessions))
        login_requests = gateway_requests(deployment, cursor)
        failed = [f"{s.user.email}: {s.failure}" for s in sessions if s.token is None]
        assert not failed, f"{len(failed)} of {FIGURE_LOGINS} logins failed, so no figure: {failed[:3]}"
        cursor = deployment.journal_cursor()
        calls = list(pool.map(lambda i: timed_call(deployment, sessions[i % FIGURE_LOGINS]), range(FIGURE_CALLS)))
        call_requests = gateway_requests(deployment, cursor)
    latencies = [latency for latency, _ in calls]
    figures.record("concurrency", FIGURE_WORKERS)
    figures.record("login_time_median", statistics.median(login_times), " s")
    figures.record("login_time_p95", p95(login_times), " s")
    figures.record("api_latency_median", statistics.median(latencies) * 1000, " ms")
    figures.record("api_latency_p95", p95(latencies) * 1000, " ms")
    figures.record("api_calls_not_200", sum(status != 200 for _, status in calls))
    record_requests(figures, "idp_requests_per_login", login_requests, FIGURE_LOGINS)
    record_requests(figures, "idp_requests_per_api_call", call_requests, FIGURE_CALLS)


# memory


@check(
    "LOAD-04",
    level=INFO,
    ref="-",
    requirement="The gateway's resident memory and IdP requests before and after 1,000 HTTP-driven logins "
    "are reported, with the growth per login.",
    heavy=True,
)
@gateway()
def test_memory_and_idp_requests_over_a_thousand_logins(deployment: Deployment, figures: Figures) -> None:
    users = leak_users(deployment, LEAK_USERS)
    before, cursor = resident_memory(deployment.gateway), deployment.journal_cursor()
    log_in_many(deployment, users, LEAK_LOGINS)
    after, requests = resident_memory(deployment.gateway), gateway_requests(deployment, cursor)
    figures.record("rss_before", before / 2**20, " MiB")
    figures.record("rss_after", after / 2**20, " MiB")
    figures.record("rss_growth_per_login", (after - before) / LEAK_LOGINS, " B")
    record_requests(figures, "idp_requests_per_login", requests, LEAK_LOGINS)


@check(
    "LOAD-05",
    level=SHOULD,
    ref="robustness",
    requirement="Over a second thousand HTTP-driven logins the gateway's resident memory grows by under 4 KB "
    "per login: nothing is left behind per login.",
    heavy=True,
)
@gateway()
def test_logins_leave_no_memory_behind(deployment: Deployment, figures: Figures) -> None:
    users = leak_users(deployment, LEAK_USERS)
    log_in_many(deployment, users, LEAK_LOGINS)
    settled = resident_memory(deployment.gateway)
    log_in_many(deployment, users, LEAK_LOGINS)
    grown = resident_memory(deployment.gateway) - settled
    figures.record("rss_growth_per_login", grown / LEAK_LOGINS, " B")
    assert grown < LEAK_LIMIT * LEAK_LOGINS, (
        f"the gateway's resident memory grew by {grown / 2**20:.1f} MiB over the second {LEAK_LOGINS} logins: "
        f"{grown / LEAK_LOGINS:.0f} bytes per login (the limit is {LEAK_LIMIT})"
    )
