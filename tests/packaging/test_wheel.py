"""The suite as a gateway's CI gets it: a wheel, installed in a fresh virtual environment outside the repository,
run with ``hoop-conformance`` from a temporary directory, writing its three reports there.

The wheel is installed without its dependencies, which the new environment reaches through a ``.pth`` line naming
this environment's site-packages (no network; that environment's own ``.pth`` hooks, the development install among
them, are not run from there). The test asserts that the suite, the plugin, the mock and the reference gateway are
imported from the wheel, never from the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKS = "CB-01,GROUP-01"


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """A command with the repository out of the environment (no PYTHONPATH), its output kept."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def said(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout[-3000:] + result.stderr[-3000:]
    return f"$ {' '.join(map(str, result.args))}\nexit status {result.returncode}\n{output}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel built from this tree; its ``bin`` folder."""
    where = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(where),
                 str(REPO_ROOT)], where)  # fmt: skip
    assert built.returncode == 0, said(built)
    (wheel,) = where.glob("hoop_oidc_conformance-*.whl")
    venv = where / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], where)
    assert made.returncode == 0, said(made)
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], where)
    site = Path(purelib.stdout.strip())
    installing = run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                      "--no-compile", str(wheel)], where)  # fmt: skip
    assert installing.returncode == 0, said(installing)
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def test_the_wheel_carries_the_whole_suite(installed: Path, tmp_path: Path) -> None:
    venv = installed.parent
    imports = (
        "import hoop_conformance as h, mock_idp as m, reference_gateway as r; print(h.__file__, m.__file__, r.__file__)"
    )
    where = run([str(installed / "python"), "-c", imports], tmp_path)
    assert where.returncode == 0, said(where)
    for module in where.stdout.split():
        assert Path(module).is_relative_to(venv), f"{module} is not the wheel's: the test would prove nothing"
    package = Path(where.stdout.split()[0]).parent
    for carried in ("suites/test_callback.py", "suites/checks.txt", "spec/checks.md", "known_results/hoop.toml",
                    "pytest.ini", "reporting/conformance.schema.json"):  # fmt: skip
        assert (package / carried).is_file(), f"the wheel does not carry {carried}"
    sources = REPO_ROOT / "fixtures"
    for init in sources.rglob("__init__.py"):
        folder = init.parent.relative_to(sources)
        assert (package / folder / "__init__.py").is_file(), f"the wheel lacks the plugin's package {folder}"


def test_version_names_the_suite_and_its_catalogue(installed: Path, tmp_path: Path) -> None:
    result = run([str(installed / "hoop-conformance"), "--version"], tmp_path)
    assert result.returncode == 0, said(result)
    assert result.stdout.startswith("hoop-conformance ") and "catalogue:" in result.stdout, said(result)


def test_a_run_from_any_directory_writes_its_three_reports_there(installed: Path, tmp_path: Path) -> None:
    result = run([str(installed / "hoop-conformance"), "--checks", CHECKS, "-p", "no:randomly"], tmp_path)
    assert result.returncode == 0, said(result)
    for report in ("conformance.json", "report.html", "junit.xml"):
        assert (tmp_path / "reports" / report).is_file(), f"no reports/{report} in the run's directory\n{said(result)}"
    assert "2 passed" in result.stdout, said(result)


def test_a_reports_place_that_cannot_be_made_is_one_line(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = run([str(installed / "hoop-conformance"), "--reports", "a-file/reports"], tmp_path)
    assert result.returncode == 4, said(result)
    assert result.stderr.strip().startswith("ERROR: --reports a-file/reports: cannot be made"), said(result)
    assert "Traceback" not in result.stdout + result.stderr, said(result)
