"""``python -m runner ENV [ARGS...]``: prepare tox environment ENV, then run its commands, supervised.

Quiet by design: tox's output goes to a log shown only when it fails, so the last line on screen is the
command's own (a user's error included). Ctrl-C or SIGTERM stops the command and all it started (exit
status 130 or 143); a bad tox environment is the log's tail and one line saying where the log is.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from runner.supervise import CommandNotFound, Supervisor
from runner.toxenv import ToxConfigError, config_argv, parse_config, prepare_argv, without_tox

LOG_DIR = Path(".run-venv") / "logs"
STAMP_DIR = Path(".run-venv") / "stamps"
LOCK_DIR = Path(".run-venv") / "locks"
LOCK_POLL = 0.2
"""Seconds between tries at a lock another ``./run`` holds."""
INPUTS = ("tox.ini", "pyproject.toml")
"""What a tox environment is made from: while they are unchanged, a prepared environment is reused as it is
(the project is installed in develop mode, so its source is live)."""
TAIL = 25
"""Lines of a failed tox step's log shown."""


def say(message: str) -> None:
    """One line from ``./run`` itself."""
    print(f"run: {message}", file=sys.stderr, flush=True)


def show_failure(log: Path, what: str, status: int) -> None:
    """The log's tail, then one line: what failed and where its whole log is."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines[-TAIL:]:
        print(line, file=sys.stderr)
    say(f"{what} failed (exit status {status}); the whole log: {log}")


def stamp(env_name: str) -> str:
    """What ``env_name`` was last prepared from: the inputs' digest and the interpreter."""
    digest = hashlib.sha256(f"{env_name}\0{sys.version}\0{sys.executable}".encode())
    for name in INPUTS:
        try:
            digest.update(Path(name).read_bytes())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()


def prepared(env_name: str) -> bool:
    """Whether ``env_name`` exists and was prepared from the current inputs."""
    try:
        return (STAMP_DIR / env_name).read_text() == stamp(env_name) and Path(".tox", env_name, "bin").is_dir()
    except OSError:
        return False


@contextlib.contextmanager
def locked(supervisor: Supervisor, name: str) -> Iterator[bool]:
    """Hold ``name``'s lock file (another ``./run`` preparing the same environment waits); ``False`` if stopped."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_DIR / f"{name}.lock", "w") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if supervisor.pause(LOCK_POLL):
                    yield False
                    return
        yield True


def prepare(supervisor: Supervisor, env_name: str, tox: list[str], base: dict[str, str]) -> int:
    """Create or update the environment unless it is up to date; tox's output goes to a log."""
    if prepared(env_name):
        return 0
    with locked(supervisor, env_name) as held:
        return _prepare(supervisor, env_name, tox, base) if held else supervisor.exit_status(1)


def _prepare(supervisor: Supervisor, env_name: str, tox: list[str], base: dict[str, str]) -> int:
    if prepared(env_name):  # another ./run did it meanwhile
        return 0
    if not Path(".tox", env_name).exists():
        say(f"creating the tox environment {env_name!r} (the first time takes a few minutes)")
    log = LOG_DIR / f"{env_name}-prepare.log"
    (STAMP_DIR / env_name).unlink(missing_ok=True)
    status = supervisor.run(prepare_argv(tox, env_name), env=base, output=log)
    if status == 0 and not supervisor.stopped:
        STAMP_DIR.mkdir(parents=True, exist_ok=True)
        (STAMP_DIR / env_name).write_text(stamp(env_name))
    elif not supervisor.stopped:
        show_failure(log, f"preparing the tox environment {env_name!r}", status)
    return status


def run_env(supervisor: Supervisor, env_name: str, args: list[str]) -> int:
    """Prepare ``env_name`` and run its commands with ``args``; the exit status of the last one run."""
    tox = [sys.executable, "-m", "tox"]
    base = without_tox(os.environ)
    status = prepare(supervisor, env_name, tox, base)
    if supervisor.stopped or status != 0:
        return status
    config_log = LOG_DIR / f"{env_name}-config-{os.getpid()}.log"  # one per ./run: several may run at once
    status = supervisor.run(config_argv(tox, env_name, args), env=base, output=config_log)
    if supervisor.stopped:
        config_log.unlink(missing_ok=True)
        return status
    try:
        if status != 0:
            raise ToxConfigError(f"exit status {status}")
        plan = parse_config(config_log.read_text())
    except (ToxConfigError, OSError) as error:
        show_failure(config_log, f"reading the commands of the tox environment {env_name!r} ({error})", status or 1)
        return status or 1
    config_log.unlink()
    os.chdir(plan.change_dir)
    environment = plan.environment(base)
    for command in plan.commands:
        status = supervisor.run(command.argv, env=environment)
        if supervisor.stopped or (status != 0 and not command.ignore_errors):
            return status
    return status


def main(argv: list[str] | None = None) -> int:
    """Run tox environment ``argv[0]`` with the arguments that follow; the exit status ``./run`` ends with."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        say("usage: python -m runner ENV [ARGS...]")
        return 2
    with Supervisor() as supervisor:
        try:
            status = run_env(supervisor, args[0], args[1:])
        except CommandNotFound as error:
            say(f"{error}: command not found in the tox environment {args[0]!r}")
            status = 127
        return supervisor.exit_status(status)


if __name__ == "__main__":
    sys.exit(main())
