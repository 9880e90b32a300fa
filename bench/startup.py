"""How long the servers take from spawn to ready: the reference gateway's one-second target."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from hoop_conformance.launchers.mock import start_mock_idp
from hoop_conformance.launchers.reference import start_reference_gateway

GATEWAY_TARGET_S = 1.0


def timed_starts(starts: int, logs: Path) -> tuple[list[float], list[float]]:
    """Seconds to ready for ``starts`` mock IdPs and ``starts`` reference gateways (against one mock)."""
    mock_times, gateway_times = [], []
    for _ in range(starts):
        began = time.perf_counter()
        with start_mock_idp(log_dir=logs):
            mock_times.append(time.perf_counter() - began)
    with start_mock_idp(log_dir=logs) as idp:
        for _ in range(starts):
            began = time.perf_counter()
            with start_reference_gateway(
                issuer=idp.issuer,
                client_id=idp.app["client_id"],
                client_secret=idp.app["client_secret"],
                log_path=logs / "reference-gateway.log",
            ):
                gateway_times.append(time.perf_counter() - began)
    return mock_times, gateway_times


def startup_rows(mock_times: list[float], gateway_times: list[float]) -> Iterator[str]:
    """Median and worst start per server, with the gateway's verdict."""
    for name, times in (("mock IdP", mock_times), ("reference gateway", gateway_times)):
        median, worst = statistics.median(times), max(times)
        yield f"start     {name:<20} median {median:.2f} s, worst {worst:.2f} s ({len(times)} starts)"
    median = statistics.median(gateway_times)
    verdict = "MET" if median < GATEWAY_TARGET_S else "NOT MET"
    yield f"start     reference gateway ready in under {GATEWAY_TARGET_S:g} s (median): {verdict}"
