"""``./run soak``'s bookkeeping: the table, the flake rate, and what a run with an unexpected result keeps."""

from __future__ import annotations

import json
from pathlib import Path

from bench.soak import SoakRun, Unexpected, flake_rate, keep_reports, parser, table, unexpected_results


def test_a_run_with_an_unexpected_result_keeps_its_reports_artifacts_and_output(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    (scratch / "reports").mkdir(parents=True)
    (scratch / "reports" / "conformance.json").write_text("{}")
    (scratch / "artifacts" / "check").mkdir(parents=True)
    (scratch / "artifacts" / "check" / "trace.zip").write_bytes(b"PK")
    place = keep_reports(scratch, tmp_path / "kept" / "run-3-seed-7", "1 failed")
    assert sorted(str(p.relative_to(place)) for p in place.rglob("*") if p.is_file()) == [
        "artifacts/check/trace.zip",
        "output.txt",
        "reports/conformance.json",
    ]
    assert (place / "output.txt").read_text() == "1 failed"
    # kept again (a repeated soak): the place holds the new run only
    (scratch / "artifacts" / "check" / "trace.zip").unlink()
    keep_reports(scratch, place, "")
    assert not (place / "artifacts" / "check" / "trace.zip").exists()


def test_unexpected_results_are_read_from_the_report(tmp_path: Path) -> None:
    report = tmp_path / "conformance.json"
    checks = [
        {"id": "CB-01", "status": "PASS", "unexpected": False},
        {"id": "LOAD-01", "status": "FAIL", "unexpected": True, "message": "x" * 500},
    ]
    report.write_text(json.dumps({"checks": checks}))
    [found] = unexpected_results(report, 2, 99)
    assert (found.run, found.seed, found.check, found.status, len(found.message)) == (2, 99, "LOAD-01", "FAIL", 160)
    [missing] = unexpected_results(tmp_path / "none.json", 2, 99)
    assert missing.status == "NO REPORT"


def test_the_table_and_the_flake_rate() -> None:
    runs = [SoakRun(1, 5), SoakRun(2, 6, unexpected=[Unexpected(2, 6, "CB-01", "ERROR", "why")])]
    assert flake_rate(runs) == 0.5
    assert table(runs).splitlines()[1].split() == ["2", "6", "CB-01", "ERROR", "why"]


def test_keep_defaults_under_reports() -> None:
    options, extra = parser().parse_known_args(["3", "--hog", "--checks", "CB"])
    assert (options.runs, options.hog, options.keep, extra) == (3, True, Path("reports/soak"), ["--checks", "CB"])
