"""A folder only this user may write into, for a file a library opens by its name (`private`).

SQLite and pyreadstat open the file they are given by its name and follow a link. A file made
under a known name in a folder others may write to (a shared drive, the export folder of a
site) can be swapped for a link between its creation and that open: the library then writes
into whatever the link points to (another study's database, any file of the user's). So the
program builds such a file inside a new folder of its own beside its destination: made by
``tempfile.mkdtemp`` (mode 0700, a name nobody can guess), so nobody else can put anything in
it, and the finished file is renamed out of it (a rename replaces a link at the new name rather
than writing through it).

While it is in use the folder is held (`private`: an exclusive ``flock`` on it, released by the
kernel when the process dies), so that a later run can tell a folder left by a process that was
killed (a power cut, SIGKILL: no ``finally`` ran) from one still being filled, and remove only
the first (`remove_abandoned`): such a leftover holds a half-written copy of patient data.

On Windows a folder takes its parent's access rules (mode 0700 means nothing there) and has no
``flock``: the folder still keeps the file's name unguessable, and leftovers are not removed
(a folder another process has open cannot be removed there anyway).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["new_folder", "private", "remove_abandoned"]

if sys.platform != "win32":
    import fcntl

# A folder younger than this is never taken for a leftover: it may be one another process has
# just made and not yet locked (between ``mkdtemp`` and the ``flock``).
_YOUNG_S = 60.0


def new_folder(directory: Path, prefix: str, suffix: str = "") -> Path:
    """A new folder in `directory` named `prefix` + random letters + `suffix`, that only this
    user may write into (see the module); the caller removes it (`private` does)."""
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=directory))


@contextlib.contextmanager
def private(directory: Path, prefix: str, suffix: str = "") -> Iterator[Path]:
    """A `new_folder`, held while the block runs (`remove_abandoned` leaves it alone), then
    removed with whatever is left in it, whatever happens."""
    folder = new_folder(directory, prefix, suffix)
    held = _hold(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if held is not None:
            os.close(held)


def _hold(folder: Path) -> int | None:
    if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
        return None
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # just made: nobody else holds it
    return fd


def remove_abandoned(directory: Path, prefix: str, suffix: str = "") -> int:
    """Remove the folders `private` left in `directory` under `prefix` ... `suffix` when the
    process filling them was killed: a folder (not a link) of this user's, at least a minute
    old, that no process holds. Returns how many it removed; anything else is left alone, and
    a folder it cannot read or remove is left for a later run."""
    if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
        return 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        if len(name) <= len(prefix) + len(suffix):
            continue
        if _abandoned(Path(entry.path)):
            removed += 1
    return removed


def _abandoned(folder: Path) -> bool:
    """Remove `folder` if it is a leftover (see `remove_abandoned`); whether it did."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # a link, a file, gone meanwhile, unreadable
        return False
    try:
        found = os.fstat(fd)
        if (
            not stat.S_ISDIR(found.st_mode)
            or found.st_uid != os.geteuid()
            or not time.time() - found.st_mtime >= _YOUNG_S
        ):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a process is filling it
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return not os.path.lexists(folder)
    finally:
        os.close(fd)
