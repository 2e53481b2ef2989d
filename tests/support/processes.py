"""Waiting for processes that are not this process's children (an export's workers), on the
kernel's event rather than by polling."""

from __future__ import annotations

import os
import select


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
