"""Fixtures for the project's own tests: a mock of the session's own, and users at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faker import Faker

from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from hoop_conformance.users import MakeUser, UserFactory


@pytest.fixture(scope="session")
def mock_idp(pytestconfig: pytest.Config) -> Iterator[RunningMockIdp]:
    """The mock JumpCloud, one process per test session (per xdist worker)."""
    with start_mock_idp(log_dir=pytestconfig.getoption("server_logs")) as running:
        yield running


@pytest.fixture
def make_user(mock_idp: RunningMockIdp, fake: Faker) -> MakeUser:
    """Users at the session's mock, in groups bound to its first app unless told otherwise."""
    return UserFactory(mock_idp.admin, mock_idp.control, fake, mock_idp.app["app_id"])
