"""Output files: only a regular file is ever replaced, and every rename is made durable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from respine_desktop.errors import RespineError

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


class NotARegularFile(RespineError):
    """An output path names a device (``/dev/null``), a named pipe or a socket: left as it was."""


def check_target(path: Path) -> Path:
    """`path` if an output may be written there: nothing yet, a regular file (replaced) or a
    folder (the caller says what it expects); a device, pipe or socket is `NotARegularFile`,
    since renaming a file over it would replace the node itself (a link is followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing (or unreadable: the write itself will say why)
        return path
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return path
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise NotARegularFile(f"{path}: is {kind}, not a file; give the name of a file to write")


def replace(temp: Path, final: Path) -> None:
    """Rename the complete file `temp` to `final` (checked again: `check_target`), then fsync
    the folder so that the new name survives a power cut."""
    check_target(final)
    os.replace(temp, final)
    sync_directory(final.parent)


def sync_directory(folder: Path) -> None:
    """fsync `folder`, so that a name just created or renamed in it survives a power cut."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - a platform that cannot open a folder (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - a file system that refuses fsync on a folder
        pass
    finally:
        os.close(fd)
