"""What a tox environment runs, read from ``tox config``, so that ``./run`` can run it without tox in between.

tox.ini stays the one place that says what each job runs; ``./run`` asks tox to prepare the environment
(``--notest``) and to print its resolved commands, then runs them itself: the command is then the process
that gets Ctrl-C and the terminal, and tox's own chatter stays out of the way.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

KEYS = ("commands", "set_env", "change_dir", "env_bin_dir")
"""The settings ``tox config`` is asked for."""
TOX_SET = ("VIRTUAL_ENV", "TOX_ENV_NAME", "TOX_ENV_DIR", "TOX_WORK_DIR", "TOX_PACKAGE", "PYTHONHOME")
"""Variables a tox environment sets: a ``./run`` started inside one (a test of ``./run``) must not inherit them."""
_KEY_LINE = re.compile(r"^(?P<key>[a-z_]+) =(?: (?P<value>.*))?$")


class ToxConfigError(Exception):
    """``tox config`` printed something this module cannot read."""


@dataclass(frozen=True)
class Command:
    """One of an environment's commands; ``ignore_errors`` for tox's ``- command``."""

    argv: tuple[str, ...]
    ignore_errors: bool = False


@dataclass(frozen=True)
class EnvPlan:
    """What running a tox environment's commands needs."""

    commands: tuple[Command, ...]
    set_env: dict[str, str]
    change_dir: str
    bin_dir: str

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with the environment's variables, and its ``bin`` first on ``PATH``."""
        env = {**without_tox(base), **self.set_env}
        env["PATH"] = os.pathsep.join([self.bin_dir, base.get("PATH", os.defpath)])
        return env


def without_tox(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` less the variables an enclosing tox environment set."""
    return {key: value for key, value in env.items() if key not in TOX_SET}


def prepare_argv(tox: Sequence[str], env_name: str) -> list[str]:
    """Create or update the environment, run nothing."""
    return [*tox, "-e", env_name, "--notest"]


def config_argv(tox: Sequence[str], env_name: str, args: Sequence[str]) -> list[str]:
    """Print the environment's settings, ``{posargs}`` resolved; ``--`` only when there are arguments.

    Without arguments the commands keep tox.ini's ``{posargs:default}``; with an empty ``--`` they would not.
    """
    argv = [*tox, "-qq", "config", "-e", env_name, "-k", *KEYS]
    return [*argv, "--", *args] if args else argv


def parse_config(text: str) -> EnvPlan:
    """Read ``tox config -e ENV -k ...`` output: ``key = value`` lines, continued by indented lines."""
    values: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("["):
            continue
        match = _KEY_LINE.match(line)
        if match:
            current = match["key"]
            values[current] = [match["value"]] if match["value"] else []
        elif line.startswith((" ", "\t")) and current is not None:
            values[current].append(line.strip())
    missing = [key for key in KEYS if key not in values]
    if missing:
        raise ToxConfigError(f"tox config printed no {', '.join(missing)}")
    return EnvPlan(
        commands=tuple(_command(line) for line in values["commands"]),
        set_env=dict(_assignment(line) for line in values["set_env"]),
        change_dir="".join(values["change_dir"]),
        bin_dir="".join(values["env_bin_dir"]),
    )


def _command(line: str) -> Command:
    argv = shlex.split(line)
    if argv and argv[0] == "-":
        return Command(tuple(argv[1:]), ignore_errors=True)
    if argv and argv[0].startswith("-") and len(argv[0]) > 1:
        return Command((argv[0][1:], *argv[1:]), ignore_errors=True)
    if not argv:
        raise ToxConfigError(f"an empty command in tox config: {line!r}")
    return Command(tuple(argv))


def _assignment(line: str) -> tuple[str, str]:
    key, equals, value = line.partition("=")
    if not equals:
        raise ToxConfigError(f"not a KEY=VALUE line in set_env: {line!r}")
    return key.strip(), value.strip()
