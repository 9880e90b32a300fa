"""Finding a Chromium: CHROMIUM_PATH, then Playwright's own, then the system's; else a clear hint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hoop_conformance.drivers.chromium import INSTALL_HINT, BrowserNotFound, find_chromium, launch_args


def fake_binary(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_chromium_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = fake_binary(tmp_path, "my-chromium")
    monkeypatch.setenv("CHROMIUM_PATH", str(chosen))
    assert find_chromium(str(fake_binary(tmp_path, "playwright-chrome"))) == str(chosen)


def test_a_bad_chromium_path_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", "/nowhere/chromium")
    with pytest.raises(BrowserNotFound, match="CHROMIUM_PATH=/nowhere/chromium is not a file"):
        find_chromium(None)


def test_playwrights_own_browser_is_launched_as_usual(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    assert find_chromium(str(fake_binary(tmp_path, "chrome"))) is None


def test_system_chromium_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    system = fake_binary(tmp_path, "chromium-browser")
    assert find_chromium(str(tmp_path / "not-downloaded" / "chrome")) == str(system)


def test_no_chromium_at_all_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserNotFound) as raised:
        find_chromium(None)
    assert str(raised.value) == INSTALL_HINT
    assert "apt-get install chromium" in INSTALL_HINT and "playwright install chromium" in INSTALL_HINT


def test_launch_flags_keep_chromium_off_the_network() -> None:
    flags = launch_args()
    for flag in ("--disable-background-networking", "--disable-component-update", "--no-first-run"):
        assert flag in flags
    assert ("--no-sandbox" in flags) == (os.geteuid() == 0)


def test_a_browser_test_without_chromium_fails_with_one_clear_line(tmp_path: Path) -> None:
    """The plugin turns a missing browser into a failure that names what to install, not a traceback."""
    test_file = tmp_path / "test_needs_browser.py"
    test_file.write_text("def test_page(page):\n    page.goto('about:blank')\n")
    env = {
        **os.environ,
        "CHROMIUM_PATH": str(tmp_path / "missing-chromium"),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "hoop_conformance.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            str(test_file),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "is not a file. No usable Chromium was found. Install one: `hoop-conformance" in result.stdout
    assert "Traceback" not in result.stdout
