"""``runner.toxenv``: tox.ini's commands read through ``tox config``, ``--`` passed only with arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runner.toxenv import Command, config_argv, parse_config
from tests.runner.place import REPO, RUN_PYTHON

SAMPLE = """[testenv:lint]
commands =
  ruff check 'a b' mock_idp
  - mypy --strict
  -ruff format --check
set_env =
  PYTHONHASHSEED=42
  VIRTUAL_ENV=/repo/.tox/lint
change_dir = /repo
env_bin_dir = /repo/.tox/lint/bin
"""


def test_parse_config_reads_multi_line_commands_and_variables() -> None:
    plan = parse_config(SAMPLE)
    assert plan.commands == (
        Command(("ruff", "check", "a b", "mock_idp")),
        Command(("mypy", "--strict"), ignore_errors=True),
        Command(("ruff", "format", "--check"), ignore_errors=True),
    )
    assert plan.set_env == {"PYTHONHASHSEED": "42", "VIRTUAL_ENV": "/repo/.tox/lint"}
    assert plan.change_dir == "/repo" and plan.bin_dir == "/repo/.tox/lint/bin"
    env = plan.environment({"PATH": "/usr/bin", "TOX_ENV_NAME": "py", "HOME": "/root"})
    assert env["PATH"] == "/repo/.tox/lint/bin:/usr/bin"
    assert "TOX_ENV_NAME" not in env and env["HOME"] == "/root"


def test_parse_config_reads_a_one_line_command() -> None:
    text = "[testenv:mock]\ncommands = python -m mock_idp --port 0\nset_env =\nchange_dir = /r\nenv_bin_dir = /r/b\n"
    assert parse_config(text).commands == (Command(("python", "-m", "mock_idp", "--port", "0")),)


def test_double_dash_only_with_arguments() -> None:
    assert "--" not in config_argv(["tox"], "py", [])
    assert config_argv(["tox"], "py", ["-k", "x"])[-3:] == ["--", "-k", "x"]


def test_tox_keeps_the_default_posargs_without_arguments(run_ready: Path) -> None:
    """Against the real tox.ini: ``./run tests`` runs ``tests``, ``./run tests X`` runs ``X`` instead."""

    def commands(*args: str) -> tuple[Command, ...]:
        argv = config_argv([str(RUN_PYTHON), "-m", "tox"], "py", list(args))
        result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
        return parse_config(result.stdout).commands

    assert commands()[0].argv[-1] == "tests"
    assert commands("tests/mock_idp/test_cli.py", "-k", "a b")[0].argv[-4:] == (
        "2",
        "tests/mock_idp/test_cli.py",
        "-k",
        "a b",
    )
