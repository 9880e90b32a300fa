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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``mutation(first=True)`` (whole-suite runs on two workers of their own) go first: under
    ``--dist worksteal`` (``./run mutation``) the short mutant runs then fill the end, and no long run is left alone."""
    items.sort(key=lambda item: not any(mark.kwargs.get("first") for mark in item.iter_markers("mutation")))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The mutation test's matrix: each mutant and the checks that failed against it."""
    rows = []
    for status in ("passed", "failed"):
        for report in terminalreporter.getreports(status):
            properties = dict(report.user_properties)
            if "mutant_failing" in properties:
                rows.append((report.nodeid.rpartition("[")[2].rstrip("]"), status, str(properties["mutant_failing"])))
    if rows:
        terminalreporter.section("mutants -> failing checks")
        width = max(len(name) for name, _, _ in rows)
        for name, status, failing in sorted(rows):
            terminalreporter.write_line(
                f"{name:<{width}}  {'killed  ' if status == 'passed' else 'SURVIVED'}  {failing}"
            )
