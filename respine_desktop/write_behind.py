"""A large output's disk writes started while it is still being written, not all at its fsync.

A file written quickly (a CSV export writes hundreds of MB in seconds) sits in the system's
cache until its ``fsync``, which then waits for all of it to reach the disk: at 1 GB/s about
0.3 s for the 300 MB of a 10,000-subject answers_long.csv here, several seconds on a slower disk,
all of it after the work is done. `writing_behind` has a thread sync the file every
`INTERVAL_S` while the writer goes on (``fdatasync`` waits for the disk without holding Python's
lock), so that the last ``fsync`` has only the last moments' data left to write.

The thread's syncs are an addition, never the output's durability: the writer still flushes and
fsyncs the file at its end as before. A sync that fails in the thread (an I/O error, a full
disk) is raised by `writing_behind` when the block ends: the system reports a write error to
the first sync that asks after it, so the thread's sync could otherwise take the error that the
writer's own fsync would have reported, and a file the disk did not take whole would be renamed
into place as complete.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["INTERVAL_S", "writing_behind"]

INTERVAL_S = 0.25

_datasync = getattr(os, "fdatasync", os.fsync)  # (macOS and Windows have no fdatasync)


@contextlib.contextmanager
def writing_behind(*outputs: IO[Any], interval_s: float | None = None) -> Iterator[None]:
    """While the block runs, sync `outputs` (open files) every `interval_s` seconds (default
    `INTERVAL_S`) in a thread; the thread is stopped and joined when the block ends, before
    the files are closed. An error of one of its syncs is raised then (`OSError`, as a sync
    raises it), unless the block itself raised."""
    fds = [f.fileno() for f in outputs]
    every = INTERVAL_S if interval_s is None else interval_s
    stop = threading.Event()
    failed: list[OSError] = []

    def sync() -> None:
        while not stop.wait(every):
            for fd in fds:
                try:
                    _datasync(fd)
                except OSError as exc:
                    failed.append(exc)
                    return

    thread = threading.Thread(target=sync, name="write-behind", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    if failed:
        raise failed[0]
