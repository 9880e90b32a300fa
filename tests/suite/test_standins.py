"""No vacuous passes: the whole suite against stand-in gateways that cannot log anyone in.

- The null gateway (healthy, refuses everything else) must get FAIL or ERROR for every check.
- The broken-login gateway (the reference gateway whose callbacks after the first are refused) may pass only the
  checks of ``MAY_PASS_WITH_BROKEN_LOGIN``: checks whose requirement is true of such a gateway.
- The retry rule both ways, on LOAD-01: a gateway that closes every reused connection passes, each request sent
  once more on a fresh connection and kept as evidence; one that drops every callback fails, the hop named.

Both run side by side on free ports (``--gateway-side-by-side``): they hold no fixed port, and the one-at-a-time
slot is another test's business (test_gateway_modes.py); serialized, the broken-login run takes ~3x as long.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx
import pytest

from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.servers import free_port
from tests import coroutines
from tests.suite.runs import REPO_ROOT, run_suite
from tests.suite.standins.null_gateway import REFUSALS
from tests.suite.standins.proxy import CallbackRefusingProxy

HANG_BUDGET = "6"
"""``--time-budget`` for the broken-login run, as in the mutation test: the hang checks are judged sooner."""
IDP_TIMEOUT = "2"
"""The reference gateway's bound on IdP calls behind the proxy (``REFGW_IDP_TIMEOUT``), below ``HANG_BUDGET``."""
START_TIMEOUT = 30.0
FAILED = ("FAIL", "ERROR")

MAY_PASS_WITH_BROKEN_LOGIN: dict[str, str] = {
    # The login's start: /api/login is the reference gateway's own, and these checks need no callback.
    "LOGIN-01": "GET /api/login answers {login_url} at the authorization endpoint before any callback",
    "LOGIN-02": "the authorize request's parameters are fixed when /api/login starts the login",
    "LOGIN-03": "the state is made when /api/login starts the login",
    "LOGIN-05": "the nonce is made when /api/login starts the login",
    "LOGIN-06": "a foreign redirect is refused by /api/login, before any callback",
    "LOGIN-07": "look-alike redirects are refused by /api/login, before any callback",
    "LOGIN-08": "redirects with another scheme or port are refused by /api/login, before any callback",
    "LOGIN-09": "IDP_CUSTOM_SCOPES appear in the authorize request /api/login makes",
    "DISC-02": "with a mismatched discovery issuer /api/login answers an error, and a late callback sets no session "
    "(this gateway sets none after its first)",
    # Properties this gateway has, whatever its callbacks do.
    "DISC-09": "answers in time: /api/login answers an error while discovery hangs, and other requests are served",
    "CB-26": "reflects nothing: a refused callback is a bare redirect to API_URL/?error=login_failed",
    "SESS-05": "redirects at once: every callback is answered with an immediate 307, no page",
    # True of this gateway's one login (the first callback of a fresh gateway goes through, and nothing else does):
    # the requirement is about how that exchange is made or what it grants, not that logins keep working.
    "CB-02": "its only token request (a fresh gateway's first login) has the right grant, redirect_uri and Basic auth",
    "DISC-07": "its one login and that session's API calls use the discovered endpoints",
    "GROUP-14": "the very first user of a fresh gateway is let through, and becomes admin",
}
"""Checks that may PASS against a gateway refusing every callback after its first, each with the reason."""


def standin(module: str, *args: str) -> str:
    """The ``--gateway-cmd`` of a stand-in: ``python -m tests.suite.standins.MODULE ARGS``."""
    return shlex.join([sys.executable, "-m", f"tests.suite.standins.{module}", *args])


def catalogue() -> set[str]:
    """Every check id of the generated catalogue (suites/checks.txt)."""
    lines = (REPO_ROOT / "suites" / "checks.txt").read_text().splitlines()
    return {line.split()[0] for line in lines if line.strip()}


def passes(junit: Path) -> dict[str, str]:
    """Check id -> one line about its passing test cases: the requirement, the test, any message."""
    found: dict[str, str] = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        if properties.get("status") != "PASS" or "check" not in properties:
            continue
        message = next((o.get("message", "") for o in case if o.tag in ("failure", "error", "skipped")), "")
        found[properties["check"]] = f"{properties.get('requirement')} ({properties.get('test')}) {message}".rstrip()
    return found


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_null_gateway_passes_no_check(tmp_path: Path, refusal: int) -> None:
    # --heavy costs ~1 s here (every login fails at once), so even LOAD-04 and LOAD-05 must fail, not skip.
    command = standin("null_gateway", "--refusal", str(refusal))
    run = run_suite(tmp_path, "-n", "2", "--gateway-cmd", command, "--gateway-side-by-side", "--heavy")
    never_ran = sorted(catalogue() - run.statuses.keys())
    assert not never_ran, f"checks that never ran against the null gateway: {never_ran}\n{run.output}"
    offending = "\n".join(
        f"  {check} {status}" for check, status in sorted(run.statuses.items()) if status not in FAILED
    )
    assert not offending, f"against a gateway that refuses everything, every check must FAIL or ERROR:\n{offending}"
    assert run.returncode == 1, run.output


def test_broken_login_gateway_passes_only_allowed_checks(tmp_path: Path) -> None:
    run = run_suite(
        tmp_path, "-n", "2", "--gateway-cmd", standin("broken_login"), "--gateway-side-by-side",
        "--time-budget", HANG_BUDGET, env={"REFGW_IDP_TIMEOUT": IDP_TIMEOUT},
    )  # fmt: skip
    never_ran = sorted(catalogue() - run.statuses.keys())
    assert not never_ran, f"checks that never ran against the broken-login gateway: {never_ran}\n{run.output}"
    missing = sorted(MAY_PASS_WITH_BROKEN_LOGIN.keys() - run.statuses.keys())
    assert not missing, f"allow-listed checks that did not run at all (renamed or removed?): {missing}"
    passing = passes(tmp_path / "junit.xml")
    unexpected = "\n".join(f"  {c} PASS: {passing[c]}" for c in sorted(passing.keys() - MAY_PASS_WITH_BROKEN_LOGIN))
    assert not unexpected, f"checks that PASS against a gateway refusing every callback after its first:\n{unexpected}"
    assert run.returncode == 1, run.output


def _load_01(tmp_path: Path, drop: str) -> tuple[str, dict[str, object]]:
    """LOAD-01 alone against the reference gateway behind the ``dropping`` proxy: its status and its report entry."""
    run = run_suite(tmp_path, "--gateway-cmd", standin("dropping", "--drop", drop), "--checks", "LOAD-01")
    report = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    [entry] = [check for check in report["checks"] if check["id"] == "LOAD-01"]
    return run.statuses.get("LOAD-01", "did not run"), entry


def test_a_gateway_closing_reused_connections_passes_load_01_with_each_request_retried_once(tmp_path: Path) -> None:
    # Every request on a kept-alive connection finds it closed, as when a server's idle timeout meets a reuse.
    status, entry = _load_01(tmp_path, "reused")
    assert status == "PASS", entry["message"]
    retried = (entry["evidence"] or {}).get("answers", [])
    assert retried and all(line.startswith("retried: ") for line in retried), retried
    assert any("reused connection" in line and "at the gateway" in line for line in retried), retried


def test_a_gateway_dropping_callbacks_under_load_fails_load_01_naming_the_hop(tmp_path: Path) -> None:
    # Every callback after the warm-up login is dropped, on a fresh connection as on a reused one.
    status, entry = _load_01(tmp_path, "callbacks")
    assert status == "FAIL", entry["message"]
    message = str(entry["message"])
    assert "GET http://127.0.0.1:" in message and "/api/callback?" in message, message
    assert "at the gateway (fresh connection" in message, message


def _serving(process: subprocess.Popen[bytes], url: str) -> None:
    """Wait until ``url`` answers its health, or fail if ``process`` exits or the deadline passes."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(url + "/api/healthz", timeout=2.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} was not healthy within {START_TIMEOUT:g} s"
        try:
            status = process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the stand-in exited with status {status} before it was healthy")


def _start(module: str, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"tests.suite.standins.{module}", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """SIGTERM, then the exit status and the output."""
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    return process.returncode, output.decode(errors="replace")


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_null_gateway_is_healthy_refuses_the_rest_and_stops_cleanly(refusal: int) -> None:
    process, url = _start("null_gateway", "--refusal", str(refusal), env={})
    try:
        _serving(process, url)
        health = httpx.get(url + "/api/healthz", trust_env=False)
        assert (health.status_code, health.json()) == (200, {"liveness": "OK"})
        for method, path in [("POST", "/api/healthz"), ("GET", "/api/login?redirect=x"), ("PROPFIND", "/")]:
            answer = httpx.request(method, url + path, content=b"a=1", trust_env=False, follow_redirects=False)
            assert (answer.status_code, answer.json()) == (refusal, REFUSALS[refusal]), (method, path)
    finally:
        status, output = _stop(process)
    assert status == 0, output


def test_broken_login_starts_the_reference_gateway_and_stops_it_on_sigterm(mock_idp: RunningMockIdp) -> None:
    env = {
        "IDP_ISSUER": mock_idp.issuer,
        "IDP_CLIENT_ID": mock_idp.app["client_id"],
        "IDP_CLIENT_SECRET": mock_idp.app["client_secret"],
    }
    process, url = _start("broken_login", env={**env, "API_URL": "http://127.0.0.1:1"})  # any public URL
    try:
        _serving(process, url)
        first = httpx.get(url + "/api/callback?code=c&state=s", trust_env=False)
        assert first.headers.get("location") != "http://127.0.0.1:1/?error=login_failed", "the first is forwarded"
        again = httpx.get(url + "/api/callback?code=c&state=s", trust_env=False)
        assert (again.status_code, again.headers["location"]) == (307, "http://127.0.0.1:1/?error=login_failed")
    finally:
        status, output = _stop(process)
    assert status == 0, output
    upstream = output.split("reference gateway at ", 1)[1].split()[0].rstrip(",")
    with pytest.raises(httpx.ConnectError):
        httpx.get(upstream + "/api/healthz", trust_env=False)


async def _through_proxy(requests: list[httpx.Request]) -> tuple[list[httpx.Request], list[httpx.Response]]:
    """Send ``requests`` through a proxy whose upstream records them and answers two cookies and a redirect."""
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = [("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2; HttpOnly"), ("location", "/next?x=1")]
        return httpx.Response(302, headers=headers, stream=httpx.ByteStream(b"upstream body"))  # as sent, unread

    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        proxy = CallbackRefusingProxy(client, "http://upstream.test", "http://public.test/?error=login_failed")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy), base_url="http://public.test") as front:
            answers = [await front.send(request) for request in requests]
    return seen, answers


def test_proxy_forwards_unchanged_and_refuses_callbacks_after_the_first() -> None:
    def request(method: str, path: str, body: bytes = b"") -> httpx.Request:
        headers = {"cookie": "hoop_access_token=t; other=o", "x-forwarded-proto": "https", "x-custom": "kept"}
        return httpx.Request(method, "http://public.test" + path, headers=headers, content=body)

    requests = [
        request("POST", "/api/users/u1?q=a%20b&r=", b"payload"),
        request("GET", "/api/callback?code=c1&state=s1"),
        request("GET", "/api/callback?code=c2&state=s2"),
    ]
    seen, answers = coroutines.run(_through_proxy(requests))
    assert [(r.method, r.url.raw_path, r.content) for r in seen] == [
        ("POST", b"/api/users/u1?q=a%20b&r=", b"payload"),
        ("GET", b"/api/callback?code=c1&state=s1", b""),
    ], "the second callback must never reach the upstream"
    forwarded = seen[0].headers
    assert forwarded["cookie"] == "hoop_access_token=t; other=o" and forwarded["x-custom"] == "kept"
    assert forwarded["host"] == "public.test" and forwarded["x-forwarded-proto"] == "https"
    for answer in answers[:2]:
        assert answer.status_code == 302 and answer.headers["location"] == "/next?x=1"
        assert answer.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
        assert answer.content == b"upstream body"
    refused = answers[2]
    assert (refused.status_code, refused.headers["location"]) == (307, "http://public.test/?error=login_failed")
    assert "set-cookie" not in refused.headers and refused.content == b""
