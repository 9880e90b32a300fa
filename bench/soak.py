"""``./run soak [N]``: the whole suite N times in random orders on two workers, optionally beside a CPU hog, and a
table of every unexpected result with its run and seed (empty when the gate never cried wolf).

Each run is a child ``pytest suites -n 2 -p randomly --randomly-seed SEED`` against the bundled reference gateway
and mock, writing its reports to a scratch folder; a result is unexpected when ``conformance.json`` says so. The
reports of a run with an unexpected result are kept (``--keep``, default ``reports/soak/run-N-seed-SEED``): their
messages, evidence and gateway logs are what finds the cause. A run is repeated with ``./run conformance -p randomly
--randomly-seed SEED`` (the same order; which worker runs what still depends on timing).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
KEEP = Path("reports/soak")
"""Where the reports of runs with an unexpected result are kept (relative to where ``./run soak`` runs)."""
RUN_TIMEOUT = 1200
"""Seconds one run of the suite may take before it counts as a hang."""
HOG = "while True:\n    pass\n"
"""A busy loop: one core's worth of noise, as on a shared CI machine."""


@dataclass(frozen=True)
class Unexpected:
    """One unexpected result of one run."""

    run: int
    seed: int
    check: str
    status: str
    message: str


@dataclass
class SoakRun:
    """One run of the suite: its seed, exit status, time, and unexpected results."""

    number: int
    seed: int
    returncode: int = 0
    seconds: float = 0.0
    unexpected: list[Unexpected] = field(default_factory=list)
    kept: Path | None = None
    """Where its reports were kept (a run with an unexpected result)."""

    @property
    def clean(self) -> bool:
        """No unexpected result, and the gate passed."""
        return not self.unexpected and self.returncode == 0


def unexpected_results(report: Path, run: int, seed: int) -> list[Unexpected]:
    """The unexpected results in a run's ``conformance.json`` (one "no report" entry when there is none)."""
    try:
        document = json.loads(report.read_text())
    except (OSError, ValueError) as error:
        return [Unexpected(run, seed, "-", "NO REPORT", f"{type(error).__name__}: {error}")]
    return [
        Unexpected(run, seed, str(c["id"]), str(c["status"]), str(c.get("message", ""))[:160])
        for c in document["checks"]
        if c.get("unexpected")
    ]


def run_once(number: int, seed: int, pytest_args: Sequence[str], keep: Path) -> SoakRun:
    """The suite once, in the order ``seed`` gives, on two workers; its reports copied under ``keep`` when it had an
    unexpected result."""
    result = SoakRun(number, seed)
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        reports = Path(scratch) / "reports"
        command = [
            sys.executable, "-m", "pytest", "suites", "-q", "-n", "2", "-p", "randomly", "-p", "no:cacheprovider",
            "--randomly-seed", str(seed), "--reports", str(reports), "--basetemp", f"{scratch}/t",
            "--output", f"{scratch}/artifacts", *pytest_args,
        ]  # fmt: skip
        began = time.monotonic()
        try:
            done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            result.returncode = -1
            result.unexpected.append(Unexpected(number, seed, "-", "HANG", f"no end after {RUN_TIMEOUT} s"))
            return result
        result.seconds = time.monotonic() - began
        result.returncode = done.returncode
        result.unexpected += unexpected_results(reports / "conformance.json", number, seed)
        if result.returncode != 0 and not result.unexpected:
            last = (done.stdout.strip().splitlines() or [""])[-1]
            result.unexpected.append(Unexpected(number, seed, "-", f"EXIT {result.returncode}", last))
        if result.unexpected:
            result.kept = keep_reports(Path(scratch), keep / f"run-{number}-seed-{seed}", done.stdout)
    return result


def keep_reports(scratch: Path, place: Path, output: str) -> Path:
    """Copy a run's reports and artifacts, and its output (``output.txt``), to ``place``; ``place``."""
    if place.exists():
        shutil.rmtree(place)
    place.mkdir(parents=True)
    for name in ("reports", "artifacts"):
        if (scratch / name).is_dir():
            shutil.copytree(scratch / name, place / name)
    (place / "output.txt").write_text(output)
    return place


@contextmanager
def cpu_hog(enabled: bool) -> Iterator[None]:
    """A process that keeps one core busy while the block runs (nothing when not ``enabled``)."""
    if not enabled:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", HOG])
    try:
        yield
    finally:
        hog.terminate()
        hog.wait(timeout=10)


def soak(
    runs: int, *, hog: bool, pytest_args: Sequence[str] = (), seed: int | None = None, keep: Path = KEEP
) -> list[SoakRun]:
    """``runs`` runs of the suite, each in a random order of its own (seeds drawn from ``seed`` when given)."""
    seeds = random.Random(seed)
    done = []
    with cpu_hog(hog):
        for number in range(1, runs + 1):
            result = run_once(number, seeds.randrange(1, 2**31), pytest_args, keep)
            state = "clean" if result.clean else f"{len(result.unexpected)} unexpected, reports kept in {result.kept}"
            print(f"soak: run {number}/{runs} seed {result.seed}: {state} ({result.seconds:.0f} s)", flush=True)
            done.append(result)
    return done


def table(results: Sequence[SoakRun]) -> str:
    """Every unexpected result, one row each: run, seed, check, status, message."""
    rows = [u for r in results for u in r.unexpected]
    lines = [f"{'run':>4}  {'seed':>10}  {'check':<9} {'status':<10} message"]
    lines += [f"{u.run:>4}  {u.seed:>10}  {u.check:<9} {u.status:<10} {u.message}" for u in rows]
    return "\n".join(lines)


def flake_rate(results: Sequence[SoakRun]) -> float:
    """The share of runs with any unexpected result."""
    return sum(not r.clean for r in results) / len(results) if results else 0.0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(
        prog="./run soak",
        description="Run the whole suite N times in random orders on two workers and list every unexpected result.",
    )
    cli.add_argument("runs", nargs="?", type=int, default=20, help="how many runs (default %(default)s)")
    cli.add_argument("--hog", action="store_true", help="keep one core busy meanwhile, as a noisy CI machine would")
    cli.add_argument("--seed", type=int, help="draw the runs' order seeds from this seed (repeat a soak)")
    cli.add_argument(
        "--keep", type=Path, default=KEEP, help="where a run with an unexpected result keeps its reports (%(default)s)"
    )
    cli.epilog = "Any other argument goes to every run's pytest (e.g. --checks CB,TOKEN, or --time-budget 20)."
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Soak; exit status 1 when any run had an unexpected result."""
    options, extra = parser().parse_known_args(argv)
    if options.runs < 1:
        parser().error("runs must be at least 1")
    extra = [a for a in extra if a != "--"]
    results = soak(options.runs, hog=options.hog, pytest_args=extra, seed=options.seed, keep=options.keep)
    clean = sum(r.clean for r in results)
    hog = " beside a CPU hog" if options.hog else ""
    print(
        f"\nsoak: {clean} of {len(results)} runs{hog} with no unexpected result (flake rate {flake_rate(results):.0%})"
    )
    if clean < len(results):
        print(table(results))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
