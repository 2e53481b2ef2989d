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

The copy itself is made in a folder of its own beside it (`private_folder`: only this user may
write into it), whose name the ``.partial`` holds: SQLite opens a database file by its name and
follows a link, so a link put under the ``.partial``'s name in a shared folder once it was
created would have had the whole database copied over the file it points to. A leftover's
folder is removed with it (`remove_abandoned`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import sys
from pathlib import Path

from respine_desktop import private_folders

SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
PRIVATE_PREFIX = ".respine-backup-"
_PRIVATE_NAME = re.compile(re.escape(PRIVATE_PREFIX) + r"[A-Za-z0-9_]{1,64}")

if sys.platform != "win32":
    import fcntl


def out_of(partial: Path) -> Path:
    """The file a backup made in `partial` is renamed to once verified."""
    return partial.with_name(partial.name.removesuffix(".partial"))


def private_folder(partial: Path) -> Path:
    """A new folder beside `partial` that only this user may write into
    (`private_folders.new_folder`), for the copy to be made in."""
    return private_folders.new_folder(partial.parent, PRIVATE_PREFIX)


def claim(partial: Path, private: Path | None = None) -> int:
    """A descriptor of `partial`, created holding the name of `private` (the folder the copy is
    made in) and held by this process until it is closed (after the copy is renamed or
    removed). `FileExistsError` if another process made it since `remove_abandoned` found it
    gone."""
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
    if sys.platform != "win32":
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # just created: no one else holds it
    if private is not None:
        try:
            os.write(fd, private.name.encode("ascii"))
            os.fsync(fd)
        except BaseException:  # (a full disk: no partial left behind)
            partial.unlink(missing_ok=True)
            os.close(fd)
            raise
    return fd


def remove_private(folder: Path) -> None:
    """Remove the copy's folder `folder` if it is one (its name, a folder of this user's, not a
    link); anything else under that name is left alone."""
    if _PRIVATE_NAME.fullmatch(folder.name) is None:
        return
    try:
        found = os.lstat(folder)
    except FileNotFoundError:
        return
    owner = getattr(os, "geteuid", None)
    if stat.S_ISDIR(found.st_mode) and (owner is None or found.st_uid == owner()):
        shutil.rmtree(folder, ignore_errors=True)


def _named_folder(partial: Path, content: bytes) -> Path | None:
    """The copy's folder a ``.partial`` names (None for one of an older version: the copy
    itself)."""
    try:
        name = content.decode("ascii")
    except UnicodeDecodeError:
        return None
    return partial.parent / name if _PRIVATE_NAME.fullmatch(name) else None


def remove_abandoned(partial: Path) -> bool:
    """Remove `partial` if it is a leftover no process is making any more, with SQLite's side
    files and the key file written for its unfinished backup (when that backup is not there):
    True if it removed one, False if there was none; `BlockingIOError` if a process is still
    making it."""
    try:
        if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
            try:
                content = partial.read_bytes()[:256]
                partial.unlink()
            except PermissionError:  # open in another process: being made
                raise BlockingIOError(f"{partial}: in use") from None
        else:
            fd = os.open(partial, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: being made
                content = os.read(fd, 256)
                partial.unlink()  # FileNotFoundError: renamed to its backup meanwhile
            finally:
                os.close(fd)
    except FileNotFoundError:
        return False
    folder = _named_folder(partial, content)
    if folder is not None:
        remove_private(folder)
    for suffix in SQLITE_SIDE_FILES:
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    out = out_of(partial)
    if not os.path.lexists(out):  # written just before the rename that never came
        with contextlib.suppress(FileNotFoundError):
            Path(f"{out}.key").unlink()
    return True
