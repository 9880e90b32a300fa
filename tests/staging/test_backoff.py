"""The admin client's rate-limit handling: 429 and 503 retried after ``Retry-After`` (seconds or a date), exponential
backoff without one, a bounded number of tries, and a bounded rate. The waits are recorded, not slept."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from hoop_conformance.idp.backoff import Backoff, RetryPolicy, retry_after


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the transport asks for, instead of sleeping them."""
    asked: list[float] = []
    monkeypatch.setattr("hoop_conformance.idp.backoff.time.sleep", asked.append)
    return asked


def answers(*statuses: tuple[int, dict[str, str]]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    sent: list[httpx.Request] = []
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        status, headers = queue.pop(0) if queue else (200, {})
        return httpx.Response(status, headers=headers, json={"message": str(status)})

    return httpx.MockTransport(handler), sent


def test_429_is_retried_after_the_wait_it_names(waits: list[float]) -> None:
    transport, sent = answers((429, {"Retry-After": "3"}), (503, {"Retry-After": "1"}))
    wrapped = Backoff(transport, RetryPolicy())
    with httpx.Client(transport=wrapped, base_url="http://idp.test") as client:
        answer = client.post("/systemusers", json={"email": "a@example.test"})
    assert answer.status_code == 200
    assert waits == [3.0, 1.0]
    assert [request.content for request in sent] == [sent[0].content] * 3  # the same body each time
    assert (wrapped.figures.retried, wrapped.figures.waited) == (2, 4.0)


def test_without_retry_after_the_waits_grow_and_the_tries_end(waits: list[float]) -> None:
    transport, sent = answers(*[(429, {})] * 10)
    with httpx.Client(transport=Backoff(transport, RetryPolicy(attempts=4, first_wait=0.5)), base_url="http://i") as c:
        answer = c.get("/systemusers")
    assert answer.status_code == 429 and len(sent) == 4  # the last answer is the caller's
    assert len(waits) == 3 and all(later > earlier for earlier, later in itertools.pairwise(waits))
    assert 0.5 <= waits[0] <= 0.75


def test_a_long_retry_after_is_capped(waits: list[float]) -> None:
    transport, _ = answers((429, {"Retry-After": "3600"}))
    with httpx.Client(transport=Backoff(transport, RetryPolicy(longest_wait=30)), base_url="http://i") as client:
        assert client.get("/").status_code == 200
    assert waits == [30.0]


def test_other_errors_are_not_retried(waits: list[float]) -> None:
    transport, sent = answers((500, {}), (401, {}))
    with httpx.Client(transport=Backoff(transport, RetryPolicy()), base_url="http://i") as client:
        assert client.get("/").status_code == 500
    assert len(sent) == 1 and waits == []


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert retry_after(httpx.Response(429, headers={"Retry-After": later}), now=now.timestamp()) == 42.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after(httpx.Response(429)) is None


def test_calls_are_paced(waits: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hoop_conformance.idp.backoff.time.monotonic", lambda: 100.0)  # three calls at once
    transport, _ = answers()
    with httpx.Client(transport=Backoff(transport, RetryPolicy(min_interval=0.25)), base_url="http://i") as client:
        for _ in range(3):
            client.get("/")
    assert waits == [0.25, 0.5]  # the second and third calls start a quarter of a second apart
