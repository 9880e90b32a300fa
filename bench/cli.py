"""Measure both providers in one run with the same client code and concurrency, then print the comparison.

Both run at once but are measured in turns: each endpoint's requests are split into rounds that
alternate between the providers, so that a busy or throttled machine slows both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.capacity import capacity_rows
from bench.load import Endpoint, ResponseError, Run, drive
from bench.providers import REDIRECT_URI, Target, mock_jumpcloud, oidc_provider_mock
from bench.startup import startup_rows, timed_starts
from bench.suite import suite_rows
from hoop_conformance.idp.client_auth import basic_authorization

TARGETS = {"token": 10.0, "userinfo": 2.0}
"""The throughput ratio (ours / theirs) each endpoint should reach."""

Requests = tuple[Endpoint, list[tuple[bytes, str]]]
Check = Callable[[int, bytes, str], str]


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(
        prog="python -m bench",
        description="Token and userinfo throughput and latency: the mock JumpCloud against oidc-provider-mock.",
    )
    cli.add_argument(
        "--requests", type=int, default=400, help="measured token exchanges per provider (default %(default)s)"
    )
    cli.add_argument(
        "--userinfo-requests", type=int, help="measured userinfo requests per provider (default: 10 x --requests)"
    )
    cli.add_argument("--concurrency", type=int, default=6, help="requests in flight (default %(default)s)")
    cli.add_argument(
        "--warmup", type=int, default=20, help="unmeasured requests before each measurement (default %(default)s)"
    )
    cli.add_argument(
        "--rounds", type=int, default=5, help="turns the providers take per endpoint (default %(default)s)"
    )
    cli.add_argument(
        "--time-limit",
        type=float,
        default=40.0,
        help="seconds one provider may spend on one endpoint (default %(default)s)",
    )
    cli.add_argument(
        "--starts", type=int, default=5, help="timed starts of the mock and the reference gateway (default %(default)s)"
    )
    cli.add_argument("--server-logs", type=Path, help="keep the providers' logs in this directory")
    cli.add_argument(
        "--browser-logins", type=int, default=10, help="timed browser logins through the gateway (default %(default)s)"
    )
    cli.add_argument(
        "--no-capacity", action="store_true", help="skip the capacity of the reference gateway and the mock (Locust)"
    )
    cli.add_argument("--no-suite", action="store_true", help="skip timing the conformance suite and the mutation job")
    cli.add_argument(
        "--no-mutation",
        action="store_true",
        help="skip timing the mutation job (./run mutation: every mutant, random orders; minutes)",
    )
    cli.add_argument(
        "--soak-runs",
        type=int,
        default=3,
        help="random-order runs of the suite for its flake rate, 0 for none (default %(default)s; ./run soak for more)",
    )
    return cli


def mint_codes(target: Target, count: int) -> list[str]:
    """Authorization codes for the token phase (not measured)."""
    with httpx.Client(timeout=30) as client:
        return [target.mint_code(client) for _ in range(count)]


def json_field(status: int, body: bytes, name: str) -> str:
    """``name`` from a 200 JSON answer, or ``ResponseError``."""
    if status != 200:
        raise ResponseError(f"status {status}: {body[:200]!r}")
    try:
        return str(json.loads(body)[name])
    except (ValueError, KeyError, TypeError):
        raise ResponseError(f"no {name} in {body[:200]!r}") from None


def access_token(status: int, body: bytes, code: str) -> str:
    """The access token of a token answer."""
    return json_field(status, body, "access_token")


def subject(status: int, body: bytes, token: str) -> str:
    """The ``sub`` of a userinfo answer."""
    return json_field(status, body, "sub")


def token_requests(target: Target, codes: list[str]) -> Requests:
    """Code exchanges with client_secret_basic (RFC 6749 2.3.1: form-encoded, then base64)."""
    endpoint = Endpoint.parse(target.token_url)
    headers = {
        "Authorization": basic_authorization(target.client_id, target.client_secret),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    requests = []
    for code in codes:
        body = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}).encode()
        requests.append((endpoint.request("POST", headers, body), code))
    return endpoint, requests


def userinfo_requests(target: Target, tokens: list[str], count: int) -> Requests:
    """``count`` userinfo GETs, cycling through ``tokens``."""
    endpoint = Endpoint.parse(target.userinfo_url)
    chosen = itertools.islice(itertools.cycle(tokens), count)
    return endpoint, [
        (endpoint.request("GET", {"Accept": "application/json", "Authorization": f"Bearer {token}"}), token)
        for token in chosen
    ]


async def in_rounds(
    jobs: dict[str, Requests], check: Check, args: argparse.Namespace
) -> dict[str, tuple[Run[str], Run[str]]]:
    """Per provider: warm up, then measure in rounds that alternate between providers; (warm-up, measured) runs."""
    warm: dict[str, Run[str]] = {}
    measured: dict[str, Run[str]] = {name: Run() for name in jobs}
    for name, (endpoint, requests) in jobs.items():
        warm[name] = await drive(
            endpoint, requests[: args.warmup], check, concurrency=args.concurrency, time_limit=args.time_limit
        )
    names = list(jobs)
    for round_no in range(args.rounds):
        for name in names if round_no % 2 == 0 else names[::-1]:
            endpoint, requests = jobs[name]
            run = measured[name]
            rest = requests[args.warmup :]
            chunk = rest[round_no * len(rest) // args.rounds : (round_no + 1) * len(rest) // args.rounds]
            if run.timed_out or not chunk:
                continue
            run.add(
                await drive(
                    endpoint, chunk, check, concurrency=args.concurrency, time_limit=args.time_limit - run.elapsed
                )
            )
    return {name: (warm[name], measured[name]) for name in names}


async def measure(
    targets: list[Target], codes: dict[str, list[str]], args: argparse.Namespace
) -> dict[tuple[str, str], Run[str]]:
    """The token endpoint, then userinfo with the access tokens it gave; runs by (endpoint, provider)."""
    results: dict[tuple[str, str], Run[str]] = {}
    token_runs = await in_rounds({t.name: token_requests(t, codes[t.name]) for t in targets}, access_token, args)
    tokens: dict[str, list[str]] = {}
    for name, (warm, run) in token_runs.items():
        results["token", name] = run
        tokens[name] = warm.results + run.results
    jobs = {
        t.name: userinfo_requests(t, tokens[t.name], args.warmup + args.userinfo_requests)
        for t in targets
        if tokens[t.name]
    }
    for name, (_, run) in (await in_rounds(jobs, subject, args)).items():
        results["userinfo", name] = run
    return results


def event_loop_runner() -> asyncio.Runner:
    """An asyncio runner on uvloop when it is installed (it is with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def rows(results: dict[tuple[str, str], Run[str]], ours: str, theirs: str) -> Iterator[str]:
    """The table of measurements, one verdict per endpoint, then a few of any errors."""
    yield f"{'endpoint':<9} {'provider':<20} {'ok':>5} {'errors':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    for (endpoint, provider), run in results.items():
        yield (
            f"{endpoint:<9} {provider:<20} {len(run.latencies):>5} {len(run.errors):>6} {run.rate:>9.1f} "
            f"{run.percentile_ms(0.50):>8.2f} {run.percentile_ms(0.99):>8.2f}"
            + ("  (stopped at the time limit)" if run.timed_out else "")
        )
    yield ""
    for endpoint, target in TARGETS.items():
        mine, other = results.get((endpoint, ours)), results.get((endpoint, theirs))
        if mine is None or other is None or not mine.rate or not other.rate:
            yield f"{endpoint:<9} ratio ours/theirs: not measured (see the errors); target >= {target:g}x: NOT MET"
            continue
        ratio = mine.rate / other.rate
        faster = other.percentile_ms(0.5) / mine.percentile_ms(0.5)
        verdict = f"target >= {target:g}x: {'MET' if ratio >= target else 'NOT MET'}"
        yield f"{endpoint:<9} ratio ours/theirs: {ratio:6.1f}x req/s, p50 {faster:.1f}x lower; {verdict}"
    for (endpoint, provider), run in results.items():
        for error in sorted(set(run.errors))[:3]:
            yield f"  error: {endpoint} {provider}: {error}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report; exits 0 whatever it finds (it reports, it does not judge)."""
    cli = parser()
    args = cli.parse_args(argv)
    if args.userinfo_requests is None:
        args.userinfo_requests = 10 * args.requests
    if (
        min(args.requests, args.userinfo_requests, args.concurrency, args.rounds, args.starts, args.browser_logins) < 1
        or args.warmup < 0
    ):
        cli.error("request counts, --concurrency, --rounds and --starts must be positive, --warmup not negative")
    if args.time_limit <= 0:
        cli.error("--time-limit must be positive")
    print(
        f"bench: per provider {args.requests} token and {args.userinfo_requests} userinfo requests in {args.rounds} "
        f"alternating rounds, after {args.warmup} warm-up each; {args.concurrency} in flight on keep-alive "
        "loopback connections",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch, ExitStack() as stack, event_loop_runner() as runner:
        logs = args.server_logs or Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)
        targets = [stack.enter_context(start(logs)) for start in (mock_jumpcloud, oidc_provider_mock)]
        codes = {}
        for target in targets:
            began = time.perf_counter()
            codes[target.name] = mint_codes(target, args.warmup + args.requests)
            print(
                f"  {target.name}: {args.warmup + args.requests} codes in {time.perf_counter() - began:.1f} s",
                flush=True,
            )
        results = runner.run(measure(targets, codes, args))
        stack.close()
        starts = timed_starts(args.starts, logs)
    print()
    for line in rows(results, targets[0].name, targets[1].name):
        print(line)
    print()
    for line in startup_rows(*starts):
        print(line)
    if not args.no_capacity:
        print()
        for line in capacity_rows():
            print(line, flush=True)
    if not args.no_suite:
        for line in suite_rows(args.browser_logins, mutation=not args.no_mutation, soak_runs=args.soak_runs):
            print(line, flush=True)
    return 0
