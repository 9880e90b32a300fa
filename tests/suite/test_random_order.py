"""Results do not depend on order or on which worker runs a check: two runs in random orders, two workers each.

``./run mutation`` runs this module (marker ``mutation``), not ``./run tests``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.suite.runs import run_suite

pytestmark = pytest.mark.mutation

AREAS = "SESS,TOKEN,GROUP"


@pytest.mark.mutation(first=True)
def test_two_random_orders_give_the_same_results(tmp_path: Path) -> None:
    runs = [
        run_suite(tmp_path / f"{seed}", "-p", "randomly", f"--randomly-seed={seed}", "-n", "2", "--checks", AREAS)
        for seed in (1, 2)
    ]
    assert runs[0].statuses == runs[1].statuses, [run.output for run in runs]
    assert set(runs[0].statuses.values()) == {"PASS"} and len(runs[0].statuses) == 32, runs[0].output
