"""The ``<out>.partial`` file a backup is made in, claimed by the process making it.

A backup killed half-way (power cut, SIGKILL) leaves its ``.partial`` (and maybe the key file
it wrote for ``<out>``) behind: never a backup, since only a verified copy is renamed to
``<out>``. A later run removes such a leftover, but must never remove the ``.partial`` another
process is still making (two upgrades of one database started together, two ``backup`` commands
given the same ``--out``). So the maker holds the file from its creation until it is renamed or
removed: on POSIX an exclusive ``flock`` on it (independent of the ``fcntl`` locks SQLite takes
on the same file, and released by the kernel when the process dies); a file whose lock can be
taken has no maker left. On Windows, where a file another process holds open cannot be removed,
the removal itself fails for a copy being made.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")

if sys.platform != "win32":
    import fcntl


def out_of(partial: Path) -> Path:
    """The file a backup made in `partial` is renamed to once verified."""
    return partial.with_name(partial.name.removesuffix(".partial"))


def claim(partial: Path) -> int:
    """A descriptor of `partial`, created empty and held by this process until it is closed
    (after the file is renamed or removed). `FileExistsError` if another process made it since
    `remove_abandoned` found it gone."""
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
    if sys.platform != "win32":
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # just created: no one else holds it
    return fd


def remove_abandoned(partial: Path) -> bool:
    """Remove `partial` if it is a leftover no process is making any more, with SQLite's side
    files and the key file written for its unfinished backup (when that backup is not there):
    True if it removed one, False if there was none; `BlockingIOError` if a process is still
    making it."""
    try:
        if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
            try:
                partial.unlink()
            except PermissionError:  # open in another process: being made
                raise BlockingIOError(f"{partial}: in use") from None
        else:
            fd = os.open(partial, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: being made
                partial.unlink()  # FileNotFoundError: renamed to its backup meanwhile
            finally:
                os.close(fd)
    except FileNotFoundError:
        return False
    for suffix in SQLITE_SIDE_FILES:
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    out = out_of(partial)
    if not os.path.lexists(out):  # written just before the rename that never came
        with contextlib.suppress(FileNotFoundError):
            Path(f"{out}.key").unlink()
    return True
