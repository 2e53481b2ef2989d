"""A folder only this user may write into, for a file a library opens by its name (`private`).

SQLite and pyreadstat open the file they are given by its name and follow a link. A file made
under a known name in a folder others may write to (a shared drive, the export folder of a
site) can be swapped for a link between its creation and that open: the library then writes
into whatever the link points to (another study's database, any file of the user's). So the
program builds such a file inside a new folder of its own beside its destination: made by
``tempfile.mkdtemp`` (mode 0700, a name nobody can guess), so nobody else can put anything in
it, and the finished file is renamed out of it (a rename replaces a link at the new name rather
than writing through it).

While it is in use the folder is held: an exclusive ``flock`` on a marker file inside it
(`MARKER`, opened for writing, as a lock on a network file system asks), released by the kernel
when the process dies. A later run so tells a folder left by a process that was killed (a power
cut, SIGKILL: no ``finally`` ran), which holds a half-written copy of patient data, from one
still being filled, and removes only the first (`remove_abandoned`). It takes for a leftover
only what `private` makes: a folder (not a link) of this user's, mode 0700, named by the prefix,
``mkdtemp``'s 8 random characters and the suffix, holding the marker, not held, and older than
`ABANDONED_AFTER_S` (a lock another machine holds on a shared drive may not be seen here, and a
folder is made a moment before it is held). It empties it through the descriptor it checked and
then removes the folder by name, which fails, leaving everything, if the name was swapped for
another folder meanwhile (only an empty one could go). A folder whose lock cannot be asked here
(a file system without ``flock``) is used unheld and never taken for a leftover.

On Windows a folder takes its parent's access rules (mode 0700 means nothing there) and has no
``flock``: the folder still keeps the file's name unguessable, and leftovers are not removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ABANDONED_AFTER_S", "MARKER", "new_folder", "private", "remove_abandoned"]

if sys.platform != "win32":
    import fcntl

MARKER = ".respine-in-use"
# A folder younger than this is never taken for a leftover (see the module).
ABANDONED_AFTER_S = 3600.0
# ``mkdtemp``'s random part: 8 of these characters (`tempfile._RandomNameSequence`)
_RANDOM = "[a-z0-9_]{8}"


def new_folder(directory: Path, prefix: str, suffix: str = "") -> Path:
    """A new folder in `directory` named `prefix` + random letters + `suffix`, that only this
    user may write into (see the module); the caller removes it (`private` does)."""
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=directory))


@contextlib.contextmanager
def private(directory: Path, prefix: str, suffix: str = "") -> Iterator[Path]:
    """A `new_folder`, held while the block runs (`remove_abandoned` leaves it alone), then
    emptied and removed, whatever happens. It is emptied through a descriptor opened when it
    was made, so a folder someone swapped in under its name meanwhile is never emptied (only
    an empty one could go: `_removed`)."""
    folder = new_folder(directory, prefix, suffix)
    if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    held: int | None = None
    try:
        held = _hold(fd)
        yield folder
    finally:
        if held is not None:
            os.close(held)  # (before its file goes: NFS keeps the name of a file open)
        _clear(fd)
        os.close(fd)
        _removed(folder)


def _hold(fd: int) -> int | None:
    """The marker made in the folder open as `fd`, locked: its descriptor (closing it releases
    the lock), or None where the lock cannot be asked (a file system without ``flock``)."""
    marker = os.open(MARKER, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
    try:
        fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)  # just made: nobody else holds it
    except OSError:  # (ENOLCK, EBADF, EOPNOTSUPP: no lock here) used unheld, never removed
        os.close(marker)
        return None
    return marker


def _clear(fd: int) -> None:
    """Everything in the folder open as `fd` removed through it (files, and folders a library
    may have made in it), whatever its name names now; what cannot be removed is left."""
    with contextlib.suppress(OSError):
        for entry in list(os.scandir(fd)):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.name, ignore_errors=True, dir_fd=fd)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=fd)


def remove_abandoned(directory: Path, prefix: str, suffix: str = "") -> int:
    """Remove the folders `private` left in `directory` under `prefix` ... `suffix` when the
    process filling them was killed (see the module for what is taken for one); how many it
    removed. Anything else is left alone, and so is a folder it cannot read or remove."""
    if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
        return 0
    name = re.compile(re.escape(prefix) + _RANDOM + re.escape(suffix))
    try:
        entries = [e.name for e in os.scandir(directory) if name.fullmatch(e.name)]
    except OSError:
        return 0
    return sum(_abandoned(directory / entry) for entry in entries)


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
            or stat.S_IMODE(found.st_mode) != 0o700
            or found.st_uid != os.geteuid()
            or not time.time() - found.st_mtime >= ABANDONED_AFTER_S
        ):
            return False
        marker = os.open(MARKER, os.O_RDWR | os.O_NOFOLLOW, dir_fd=fd)
        try:
            if not stat.S_ISREG(os.fstat(marker).st_mode):
                return False
            fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError: held, or no lock here
        finally:
            os.close(marker)  # (before its file goes: NFS keeps the name of a file open)
        return _emptied(fd) and _removed(folder)
    except OSError:  # no marker, held, a lock not asked here, a file that went meanwhile
        return False
    finally:
        os.close(fd)


def _emptied(fd: int) -> bool:
    """The leftover open as `fd` emptied through it (`_clear`); False, removing nothing, if it
    holds a folder (what `private` leaves holds only files: the library's, and the marker)."""
    with os.scandir(fd) as entries:
        if any(e.is_dir(follow_symlinks=False) for e in entries):
            return False
    _clear(fd)
    return True


def _removed(folder: Path) -> bool:
    """The emptied folder removed by name: only if it is still that folder, empty (a folder
    swapped in under its name meanwhile holds something: ENOTEMPTY, left as it is)."""
    try:
        os.rmdir(folder)
    except OSError:
        return False
    return True
