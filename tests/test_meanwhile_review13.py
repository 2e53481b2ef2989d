"""review13: `meanwhile`'s fork taken while the command line turns SIGTERM into an interruption
(`cli.Terminated`, a KeyboardInterrupt), as it does for the whole of a command.

A SIGTERM that comes just after the fork, in each process (a service manager's stop sent to
the process group, `kill` to the command), must be raised in the caller only, with the child
killed and reaped, as a Ctrl-C there is: raised before the child is known to the caller, it
left the child unreaped, running the merge's checks with no one to read them (a child left).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux")

_TERMINATED_AT_THE_FORK = """
import os, signal
from respine_desktop import meanwhile
from respine_desktop.cli import Terminated, _terminate_as_interrupt

parent, fork = os.getpid(), os.fork


def fork_then_sigterm() -> int:
    pid = fork()
    os.kill(os.getpid(), signal.SIGTERM)  # SIGTERM just after the fork, in each process
    return pid


os.fork = fork_then_sigterm
with _terminate_as_interrupt():
    try:
        with meanwhile.start(lambda: 5, fork=True) as running:
            running.result()
        print("not interrupted", flush=True)
    except Terminated:
        print("terminated " + ("here" if os.getpid() == parent else "in the child"), flush=True)
        if os.getpid() == parent:
            try:
                print("left", os.waitpid(-1, os.WNOHANG), flush=True)
            except ChildProcessError:
                print("no child left", flush=True)
"""


def test_a_sigterm_at_the_fork_is_raised_here_only_and_leaves_no_child() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _TERMINATED_AT_THE_FORK],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # not "terminated in the child" (the child running the caller's code), nor a child left
    assert done.stdout.splitlines() == ["terminated here", "no child left"], done.stderr
