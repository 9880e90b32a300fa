"""Fixtures for the reference gateway's tests: a shared gateway per module, and private mocks for global faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from tests.reference_gateway.harness import Harness, harness


@pytest.fixture(scope="module")
def _module_gateway(mock_idp: RunningMockIdp) -> Iterator[Harness]:
    with harness(mock_idp) as running:
        yield running


@pytest.fixture
def gw(_module_gateway: Harness) -> Iterator[Harness]:
    """A reference gateway shared by the module (warmed up by one login), with an app of its own at the mock.

    The faults a test injects are cleared after it.
    """
    yield _module_gateway
    _module_gateway.idp.control.clear_faults()


@pytest.fixture
def own_idp() -> Iterator[RunningMockIdp]:
    """A mock of this test's own, for faults that cannot be scoped (discovery, JWKS, keys, endpoints)."""
    with start_mock_idp() as running:
        yield running
