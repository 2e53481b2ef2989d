"""Processes in tests: a child holding something until it is killed (`held_child`), and waiting
for processes that are not this process's children (an export's workers), on the kernel's event
rather than by polling."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.storage import ROOT, env


@contextmanager
def held_child(code: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -c code args`` in the project, and the first line it prints (without its line
    end), once it has printed it; killed (SIGKILL) and waited for after the block. `code` holds
    what it must, prints, then waits on its input, which is never closed before the kill."""
    with subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            yield child, child.stdout.readline().rstrip("\n")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)


def process_ended(pid: int, within: float) -> bool:
    """Wait for the end of `pid` (any process, not only a child of ours) via a pidfd: whether it
    ended within `within` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True  # already gone
    try:
        readable, _, _ = select.select([fd], [], [], within)
        return bool(readable)
    finally:
        os.close(fd)
