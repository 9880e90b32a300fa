"""Fixtures of the staging tests: a mock organization of each test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .org import Organization, organization


@pytest.fixture
def org(pytestconfig: pytest.Config) -> Iterator[Organization]:
    """A mock JumpCloud organization of the test's own."""
    with organization(pytestconfig.getoption("server_logs")) as running:
        yield running
