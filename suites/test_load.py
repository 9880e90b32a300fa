"""LOAD: many logins and API calls at once, userinfo failing under load, and what a login leaves behind.

HTTP-driven logins run in a thread pool, each with its own cookie jar, in two phases: every login is started
(``/api/login``) before any is completed, so that all of them are pending at the gateway at once. Browser logins
share one Chromium (one context each); Playwright's sync API is single-threaded, so their steps are interleaved
page by page, and the browser follows each page's redirects while the next page is driven.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Request

from hoop_conformance.assertions import describe, redact_text
from hoop_conformance.catalogue import INFO, MUST, SHOULD, check
from hoop_conformance.check_fixtures import Figures
from hoop_conformance.contract import LOGIN, SESSION_COOKIE, USERINFO
from hoop_conformance.deployment import Deployment
from hoop_conformance.drivers.browser_login import LOGIN_BUTTON, PASSWORD_ENTRY
from hoop_conformance.gateway_api import Gateway
from hoop_conformance.gateways import gateway
from hoop_conformance.idp.control import MockControl
from hoop_conformance.judging import cannot_judge
from hoop_conformance.logins import Login
from hoop_conformance.users import IdpUser

NewContext = Callable[..., BrowserContext]

LOGIN_WORKERS = 10
"""Threads driving HTTP logins; all logins are pending at once whatever the pool's size (two phases)."""
BROWSER_TIMEOUT_MS = 30_000

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
GATEWAY_ENDPOINTS = ("discovery", "jwks", "token", "userinfo", "revoke")
"""IdP endpoints only the gateway (not the browser) calls."""

LEAK_LOGINS = 1000
LEAK_USERS = 25
LEAK_WORKERS = 8
LEAK_LIMIT = 4096
"""Bytes of resident memory a login may leave behind, at most, over the second thousand logins."""


# sessions


@dataclass
class Session:
    """One user's login under load: the group only this user is in, and the session token (or why there is none)."""

    user: IdpUser
    group: str
    token: str | None = None
    failure: str = ""


def make_sessions(deployment: Deployment, count: int, pool: ThreadPoolExecutor) -> list[Session]:
    """``count`` new users, each in a group of its own (bound to the gateway's app)."""
    tag = uuid.uuid4().hex[:8]

    def one(index: int) -> Session:
        group = f"load-{tag}-{index:04d}"
        return Session(deployment.make_user(groups=(group,)), group)

    return list(pool.map(one, range(count)))


@dataclass
class Pending:
    """A login started at the gateway (``/api/login`` answered) but not yet completed."""

    session: Session
    client: httpx.Client
    start: httpx.Response


def start_login(deployment: Deployment, session: Session, client: httpx.Client) -> Pending:
    """``GET /api/login`` in a fresh cookie jar."""
    return Pending(session, client, deployment.start_login(client, deployment.gateway.landing_url))


def finish_login(deployment: Deployment, pending: Pending) -> Session:
    """The IdP's login form, then the callback; the session's token or failure is filled in."""
    session = pending.session
    try:
        if pending.start.status_code != 200:
            raise AssertionError(f"GET /api/login: {describe(pending.start)}")
        callback_url = deployment.complete_at_idp(pending.client, pending.start.json()["login_url"], session.user)
        answer = pending.client.get(callback_url)
        login = Login(client=pending.client, start=pending.start, callback_url=callback_url, answer=answer)
        if login.succeeded:
            session.token = login.token
        else:
            session.failure = f"callback: {describe(answer)}"
    except (httpx.HTTPError, AssertionError) as error:
        session.failure = f"{type(error).__name__}: {error}"
    return session


class Jars:
    """Cookie jars ("browsers") for HTTP-driven logins, closed together."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._clients: list[httpx.Client] = []

    def new(self) -> httpx.Client:
        """A fresh cookie jar."""
        client = self._gateway.client()
        self._clients.append(client)
        return client

    def __enter__(self) -> Jars:
        return self

    def __exit__(self, *_: object) -> None:
        for client in self._clients:
            client.close()


def log_in_all(
    deployment: Deployment, sessions: Sequence[Session], pool: ThreadPoolExecutor, jars: Jars
) -> list[Session]:
    """Start every login, then complete them all (in the pool)."""
    pending = list(pool.map(lambda s: start_login(deployment, s, jars.new()), sessions))
    return list(pool.map(lambda p: finish_login(deployment, p), pending))


def session_mismatch(deployment: Deployment, session: Session) -> str:
    """'' when the session's token is the session's user with its own group at the gateway, else what is wrong."""
    if session.token is None:
        return session.failure or "no session token"
    answer = deployment.gateway.api(USERINFO, session.token)
    if answer.status_code != 200:
        return f"its session answers {describe(answer)}"
    me = answer.json()
    if me.get("email") != session.user.email or me.get("groups") != [session.group]:
        return f"its session is {me.get('email')} in {me.get('groups')}, not {session.user.email} in [{session.group}]"
    return ""


def assert_sessions_are_their_own(
    deployment: Deployment, groups: Mapping[str, Sequence[Session]], pool: ThreadPoolExecutor
) -> None:
    """Every session of every group ("concurrent HTTP logins": sessions) logged in, and maps to its own user and
    that user's groups; the message counts each group's failures and shows the first few of each."""
    counts, shown = [], []
    for what, sessions in groups.items():
        mismatches = pool.map(lambda s: session_mismatch(deployment, s), sessions)
        problems = [f"{s.user.email}: {problem}" for s, problem in zip(sessions, mismatches, strict=True) if problem]
        if problems:
            counts.append(f"{len(problems)} of {len(sessions)} {what}")
            shown += problems[:3]
    assert not counts, " and ".join(counts) + " went wrong; the first: " + "; ".join(shown)
    for what, sessions in groups.items():
        tokens = [s.token for s in sessions]
        assert len(set(tokens)) == len(tokens), f"two {what} got the same session token"


# browser logins, interleaved


class BrowserLogins:
    """One browser login per session (a context each), driven step by step across all pages."""

    def __init__(self, deployment: Deployment, new_context: NewContext, sessions: Sequence[Session]) -> None:
        self.deployment = deployment
        self.sessions = sessions
        self.pages: list[Page] = []
        self.failed_requests: list[list[str]] = [[] for _ in sessions]
        """Each browser's requests that got no answer: method, URL (redacted), server, the browser's error."""
        for failed in self.failed_requests:
            context = new_context()
            context.set_default_timeout(BROWSER_TIMEOUT_MS)
            page = context.new_page()
            page.on("requestfailed", self._recorder(failed))
            self.pages.append(page)
        self.login_urls: list[str] = []

    def _recorder(self, failed: list[str]) -> Callable[[Request], None]:
        def record(request: Request) -> None:
            server = "gateway" if request.url.startswith(self.deployment.gateway.url + "/") else "IdP"
            failed.append(f"{request.method} {redact_text(request.url)} at the {server}: {request.failure}")

        return record

    def start(self) -> None:
        """``/api/login`` in every browser: all the logins are pending at the gateway."""
        gateway = self.deployment.gateway
        for page in self.pages:
            answer = page.request.get(gateway.url + LOGIN, params={"redirect": gateway.landing_url})
            assert answer.status == 200, f"GET /api/login answered {answer.status} to a browser"
            self.login_urls.append(answer.json()["login_url"])

    def finish(self) -> None:
        """Each step of the IdP's login page in every browser, then the landing; each session's token is its cookie."""
        pairs = list(zip(self.pages, self.sessions, strict=True))
        for page, url in zip(self.pages, self.login_urls, strict=True):
            page.goto(url, wait_until="commit")
        for page, session in pairs:
            page.get_by_label("User Email Address").fill(session.user.email)
            page.locator(LOGIN_BUTTON).click(no_wait_after=True)
        for page, session in pairs:
            page.locator(PASSWORD_ENTRY).wait_for()
            page.get_by_label("User Password").fill(session.user.password)
            page.locator(LOGIN_BUTTON).click(no_wait_after=True)
        idp_origin = self.deployment.idp.base_url.rstrip("/") + "/"
        cookie_url = self.deployment.gateway.url + USERINFO
        for page, session in pairs:
            page.wait_for_url(lambda url: not url.startswith(idp_origin) and LOGIN not in url, wait_until="commit")
            jar = page.context.cookies(cookie_url)
            session.token = next((c.get("value") for c in jar if c.get("name") == SESSION_COOKIE), None)
            failed = self.failed_requests[self.pages.index(page)]
            ended = f"; the browser ended at {redact_text(page.url)}" + (f" after {failed[-1]}" if failed else "")
            session.failure = "" if session.token else f"no session cookie{ended}"


@dataclass(frozen=True)
class LoadSize:
    """How many browser and HTTP-driven logins LOAD-01 runs at once."""

    browsers: int
    http: int

    def __str__(self) -> str:
        return f"{self.browsers}-browsers-{self.http}-http"


SMALL_LOAD = LoadSize(browsers=5, http=50)
"""The default size: the full one takes minutes on a busy two-core machine."""
FULL_LOAD = LoadSize(browsers=20, http=200)
"""The catalogue's size, run as a second parameter with ``--heavy``."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """LOAD-01 runs at the small size, and with ``--heavy`` at the catalogue's full size too."""
    if "load_size" in metafunc.fixturenames:
        sizes = [SMALL_LOAD, FULL_LOAD] if metafunc.config.getoption("heavy") else [SMALL_LOAD]
        metafunc.parametrize("load_size", sizes, ids=str)


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
        pending = list(pool.map(lambda s: start_login(deployment, s, jars.new()), http_sessions))
        browsers.start()
        finishing = [pool.submit(finish_login, deployment, p) for p in pending]
        browsers.finish()
        http_done = [f.result() for f in finishing]
        assert_sessions_are_their_own(
            deployment, {"concurrent HTTP logins": http_done, "concurrent browser logins": browser_sessions}, pool
        )


# API calls while userinfo fails


@dataclass(frozen=True)
class Call:
    """One API call: when it was sent and answered (wall clock, as the mock's journal), and the answer."""

    started: float
    ended: float
    status: int
    shown: str


def call_api(deployment: Deployment, session: Session, fail_at: int, failure: dict[str, Any]) -> list[Call]:
    """The session's calls to ``/api/userinfo``, one after another; userinfo fails once, at call ``fail_at``."""
    assert session.token is not None
    calls = []
    for index in range(CALLS_PER_SESSION):
        with ExitStack() as once:
            if index == fail_at:  # a fault that fired or not: LOAD-02 counts the failures the gateway met
                once.enter_context(
                    deployment.fault(
                        "respond", endpoint="userinfo", user=session.user.email, times=1, must_fire=False, **failure
                    )
                )
            started = time.time()
            answer = deployment.gateway.api(USERINFO, session.token)
            calls.append(Call(started, time.time(), answer.status_code, describe(answer)))
    return calls


@check(
    "LOAD-02",
    level=MUST,
    ref="robustness",
    requirement="Over 500 API calls on 50 sessions while userinfo fails 10% of the time, no call answers 200 "
    "for a failed check and none answers 5xx.",
)
def test_failing_userinfo_under_load_never_lets_a_call_through(deployment: Deployment, control: MockControl) -> None:
    with ThreadPoolExecutor(LOGIN_WORKERS) as pool, Jars(deployment.gateway) as jars:
        sessions = log_in_all(deployment, make_sessions(deployment, API_SESSIONS, pool), pool, jars)
        not_in = [f"{s.user.email}: {s.failure}" for s in sessions if s.token is None]
        assert not not_in, f"{len(not_in)} of {API_SESSIONS} logins before the API calls failed: {not_in[:3]}"
        plan = random.Random(API_SESSIONS)
        cursor = control.journal_cursor()
        runs = [
            pool.submit(
                call_api,
                deployment,
                session,
                plan.randrange(CALLS_PER_SESSION),
                USERINFO_FAILURES[index % len(USERINFO_FAILURES)],
            )
            for index, session in enumerate(sessions)
        ]
        calls = {session.user.email: run.result() for session, run in zip(sessions, runs, strict=True)}
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
            if call.status >= 500:
                server_errors.append(call.shown)
    if met_failure < API_SESSIONS // 2:
        raise cannot_judge(
            f"only {met_failure} API calls met a failing userinfo answer (one per session was planned): the "
            "userinfo failures never reached the gateway on the other calls"
        )
    assert not let_through, (
        f"{len(let_through)} calls answered 200 although their userinfo check failed: {let_through[:3]}"
    )
    assert not server_errors, f"{len(server_errors)} calls answered 5xx: {server_errors[:3]}"


# figures


def timed_login(deployment: Deployment, session: Session, jars: Jars) -> float:
    """One whole HTTP-driven login; its duration in seconds (the session's token or failure filled in)."""
    started = time.monotonic()
    finish_login(deployment, start_login(deployment, session, jars.new()))
    return time.monotonic() - started


def timed_call(deployment: Deployment, session: Session) -> tuple[float, int]:
    """One ``GET /api/userinfo``: its latency in seconds and its status."""
    started = time.monotonic()
    answer = deployment.gateway.api(USERINFO, session.token)
    return time.monotonic() - started, answer.status_code


def gateway_requests(control: MockControl | None, deployment: Deployment, since: int | None) -> Counter[str] | None:
    """The requests the gateway sent the IdP since the cursor, by endpoint (None without the mock's journal)."""
    if control is None or since is None:
        return None
    return Counter(
        e["endpoint"]
        for e in control.journal(since=since)
        if e["endpoint"] in GATEWAY_ENDPOINTS and e["app_id"] in (None, deployment.app_id)
    )


def record_requests(figures: Figures, name: str, requests: Counter[str] | None, per: int) -> None:
    """``name`` = IdP requests per ``per`` (login, call), with the split by endpoint."""
    if requests is None:
        return
    figures.record(name, sum(requests.values()) / per)
    figures.record(f"{name}_by_endpoint", ", ".join(f"{k}={v / per:.2f}" for k, v in sorted(requests.items())))


def p95(values: Sequence[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[18]


@check(
    "LOAD-03",
    level=INFO,
    ref="-",
    requirement="Login time, API latency and IdP calls per login under concurrent load are reported.",
    staging=True,
)
def test_login_and_api_figures_under_load(deployment: Deployment, figures: Figures) -> None:
    control = deployment.idp.control
    with ThreadPoolExecutor(FIGURE_WORKERS) as pool, Jars(deployment.gateway) as jars:
        sessions = make_sessions(deployment, FIGURE_LOGINS, pool)
        cursor = control.journal_cursor() if control else None
        login_times = list(pool.map(lambda s: timed_login(deployment, s, jars), sessions))
        login_requests = gateway_requests(control, deployment, cursor)
        failed = [f"{s.user.email}: {s.failure}" for s in sessions if s.token is None]
        assert not failed, f"{len(failed)} of {FIGURE_LOGINS} logins failed, so no figure: {failed[:3]}"
        cursor = control.journal_cursor() if control else None
        calls = list(pool.map(lambda i: timed_call(deployment, sessions[i % FIGURE_LOGINS]), range(FIGURE_CALLS)))
        call_requests = gateway_requests(control, deployment, cursor)
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


def resident_memory(gateway: Gateway) -> int:
    """Bytes of resident memory of the gateway's process group (a shell wrapper and its children included)."""
    assert gateway.process is not None, "the gateway's memory can only be read when the suite started it"
    group = gateway.process.pid  # the suite starts every gateway as the leader of a session of its own
    total = 0
    for process in Path("/proc").iterdir():
        try:
            if not process.name.isdigit() or os.getpgid(int(process.name)) != group:
                continue
            status = (process / "status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    assert total, f"no process of the gateway at {gateway.url} was found under /proc"
    return total


def one_login(deployment: Deployment, user: IdpUser) -> str:
    """An HTTP-driven login in a cookie jar of its own, closed afterwards; '' when it succeeded, else why not."""
    with deployment.gateway.client() as client:
        session = finish_login(deployment, start_login(deployment, Session(user, group=""), client))
    return session.failure if session.token is None else ""


def log_in_many(deployment: Deployment, users: Sequence[IdpUser], count: int) -> None:
    """``count`` HTTP-driven logins of ``users`` in turn (each user's first login alone); all must succeed."""
    with ThreadPoolExecutor(LEAK_WORKERS) as pool:
        order = [users[i % len(users)] for i in range(count)]
        failures = list(pool.map(lambda u: one_login(deployment, u), order[: len(users)]))
        failures += pool.map(lambda u: one_login(deployment, u), order[len(users) :])
    failed = [f for f in failures if f]
    assert not failed, f"{len(failed)} of {count} logins failed: {failed[:3]}"


def leak_users(deployment: Deployment) -> list[IdpUser]:
    """The users whose logins are repeated (the check's own gateway and mock: memory and IdP requests are its alone)."""
    with ThreadPoolExecutor(LEAK_WORKERS) as pool:
        return list(pool.map(lambda _: deployment.make_user(), range(LEAK_USERS)))


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
    users = leak_users(deployment)
    control = deployment.control
    before, cursor = resident_memory(deployment.gateway), control.journal_cursor()
    log_in_many(deployment, users, LEAK_LOGINS)
    after, requests = resident_memory(deployment.gateway), gateway_requests(control, deployment, cursor)
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
    users = leak_users(deployment)
    log_in_many(deployment, users, LEAK_LOGINS)
    settled = resident_memory(deployment.gateway)
    log_in_many(deployment, users, LEAK_LOGINS)
    grown = resident_memory(deployment.gateway) - settled
    figures.record("rss_growth_per_login", grown / LEAK_LOGINS, " B")
    assert grown < LEAK_LIMIT * LEAK_LOGINS, (
        f"the gateway's resident memory grew by {grown / 2**20:.1f} MiB over the second {LEAK_LOGINS} logins: "
        f"{grown / LEAK_LOGINS:.0f} bytes per login (the limit is {LEAK_LIMIT})"
    )
