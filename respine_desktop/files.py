"""Output files: only a regular file that is not read-only is ever replaced, and every rename is
made durable."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import IO, Any

from respine_desktop.errors import RespineError

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


class NotARegularFile(RespineError):
    """An output path names a device (``/dev/null``), a named pipe or a socket: left as it was."""


class ReadOnlyFile(RespineError):
    """An output path names a file someone made read-only: left as it was."""


def check_target(path: Path) -> Path:
    """`path` if an output may be written there: nothing yet, a regular file (replaced) or a
    folder (the caller says what it expects); a device, pipe or socket is `NotARegularFile`,
    since renaming a file over it would replace the node itself (a link is followed). A file
    that is read-only (its owner's write permission off, as ``chmod 444`` or the read-only
    attribute of Windows leave it, or no write permission for this process) is `ReadOnlyFile`:
    a rename over it asks only the folder's permission (and root is asked none), so it would
    replace a file someone protected."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing (or unreadable: the write itself will say why)
        return path
    if stat.S_ISREG(mode) and (not mode & stat.S_IWUSR or not os.access(path, os.W_OK)):
        raise ReadOnlyFile(
            f"{path}: is read-only, not replaced; make it writable or give another name"
        )
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return path
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise NotARegularFile(f"{path}: is {kind}, not a file; give the name of a file to write")


def check_input(path: Path, what: str) -> Path:
    """`path` if it may be opened to read a `what` (``key file``): a regular file, or nothing
    (the open says so); a folder, device, named pipe or socket is `NotARegularFile`, since
    opening a pipe waits for a writer forever and a device such as ``/dev/zero`` never ends."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path
    if not stat.S_ISREG(mode):
        raise NotARegularFile(not_a_file(path, what))
    return path


def not_a_file(path: Path, what: str) -> str:
    """Why `path`, which is not a regular file, cannot be read as a `what` (``database file``),
    in one line: missing, or what it is instead (a folder, a device, a named pipe)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"{path}: no such {what}"
    except OSError as exc:
        return f"{path}: cannot read the {what} ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return f"{path}: is a folder, not a {what}"
    return f"{path}: is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a {what}"


def no_folder(folder: Path) -> str:
    """Why `folder`, which is not a folder, cannot hold an output, in one line: missing
    (``FOLDER: no such directory``), or a name under a file (ENOTDIR), which names that file:
    ``notes.txt: is a file, not a folder``."""
    for path in (folder, *folder.parents):
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # missing, or under a file: the nearest name that exists says which
        except OSError as exc:  # a folder that cannot be searched
            return f"{path}: {exc.strerror}"
        if stat.S_ISDIR(mode):
            break
        kind = "a file" if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "a special file")
        return f"{path}: is {kind}, not a folder"
    return f"{folder}: no such directory"


def open_new(path: Path, mode: str = "wb", **options: Any) -> IO[Any]:
    """`path` opened for writing (`mode`: ``wb``, ``w+b`` or a text ``w`` with `options`) as a
    file this process creates: whatever is at that name first removed (a file a killed run left;
    a symbolic or hard link planted in a shared folder, which ``open`` would write through into
    the file it points to, anywhere the user may write), then created exclusively (``O_EXCL``:
    a link planted again in between is refused, never followed). For every temporary name an
    output is written under before its rename (``.partial``, a journal)."""
    flags = os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_RDWR if "+" in mode else os.O_WRONLY
    if os.path.isdir(path) and not os.path.islink(path):
        raise IsADirectoryError(f"{path}: is a directory")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # (the link itself, never what it points to)
    fd = os.open(path, flags, 0o666)
    try:
        return open(fd, mode, **options)
    except BaseException:  # pragma: no cover - a mode `open` refuses: the caller's error
        os.close(fd)
        raise


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


def check_writable(path: Path, what: str) -> Path:
    """`path` if a file may be written there (checked before any work, so that a refusal writes
    nothing): not a folder, device, pipe or socket (`check_target`), in an existing folder this
    process may write to; `RespineError` in one line naming `what` otherwise."""
    check_target(path)
    if path.is_dir():
        raise RespineError(f"{path}: is a folder; give the name of the {what} file to write")
    folder = path.parent
    if not folder.is_dir():
        raise RespineError(f"{path}: cannot write the {what} there ({no_folder(folder)})")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise RespineError(f"{path}: cannot write the {what} there (permission denied)")
    return path


def write_json(path: Path, data: Any, what: str, *, ascii_only: bool = True) -> None:
    """`data` as indented JSON in `path`, atomically: written to a temporary file beside it,
    fsynced, then renamed over it (`replace`); `RespineError` in one line naming `what` if
    it cannot be written (the temporary file removed). Without `ascii_only`, texts keep their
    characters (UTF-8) instead of ``\\u`` escapes: for a file people edit."""
    check_target(path)
    temp = path.with_name(f".{path.name}.writing")
    try:
        with open_new(temp, "w", encoding="utf-8") as out:
            out.write(json.dumps(data, indent=2, ensure_ascii=ascii_only) + "\n")
            out.flush()
            os.fsync(out.fileno())
        replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # (not ours to remove if it is a folder)
            temp.unlink(missing_ok=True)
        raise RespineError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None
