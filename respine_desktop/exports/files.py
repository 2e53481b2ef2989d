"""Writing export files safely: to ``<name>.partial`` first, renamed into place when complete.

A failed or interrupted export never leaves a truncated file under the final name, and an
existing file of that name is replaced only by a complete one, and only if it is a regular file
(`respine_desktop.files.check_target`: a device such as ``/dev/full`` or a named pipe is refused,
never replaced); every rename is followed by an fsync of the folder. A file's disk writes start
while it is written (`write_behind`), so that its last fsync does not wait for all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from respine_desktop import files, json_text
from respine_desktop.exports.errors import ExportError
from respine_desktop.write_behind import writing_behind

if sys.platform != "win32":
    import fcntl
else:  # pragma: no cover - no flock on Windows: folders used unheld
    fcntl = None


def partial_path(path: Path) -> Path:
    """The temporary name `path` is written under."""
    return path.with_name(path.name + ".partial")


@contextlib.contextmanager
def atomic_binary(path: Path, *, readable: bool = False) -> Iterator[IO[bytes]]:
    """A binary file for `path`: written as ``.partial``, fsynced and renamed on success.

    With `readable` the file is opened ``w+b``, so the writer can read back what it wrote.
    """
    tmp = partial_path(path)
    try:
        with files.open_new(tmp, "w+b" if readable else "wb") as f:
            with writing_behind(f):
                yield f
            f.flush()
            os.fsync(f.fileno())
        files.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_text(path: Path, *, newline: str = "") -> Iterator[IO[str]]:
    """A UTF-8 text file for `path` (no BOM), written like `atomic_binary`."""
    tmp = partial_path(path)
    try:
        with partial_text(path, newline=newline) as f:
            yield f
        files.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def partial_text(path: Path, *, newline: str = "") -> Iterator[IO[str]]:
    """`path`'s ``.partial`` as a UTF-8 text file, fsynced once written (removed if the writer
    fails): for a caller that renames several files into place together."""
    tmp = partial_path(path)
    try:
        with files.open_new(tmp, "w", encoding="utf-8", newline=newline) as f:
            with writing_behind(f):
                yield f
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def partial_texts(paths: Sequence[Path], *, newline: str = "") -> Iterator[list[IO[str]]]:
    """`partial_text` for several files written together: if one fails (a disk that fills
    as the last is flushed), none of their ``.partial`` files stays, not even those already
    complete."""
    try:
        with contextlib.ExitStack() as stack:
            yield [stack.enter_context(partial_text(p, newline=newline)) for p in paths]
    except BaseException:
        for path in paths:
            partial_path(path).unlink(missing_ok=True)
        raise


def output_dir(path: Path) -> Path:
    """`path` as an output directory: created if missing (its parent must exist)."""
    with _named(path):
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path}: exists and is not a directory")
        if not path.parent.is_dir():
            raise FileNotFoundError(files.no_folder(path.parent))
        path.mkdir(exist_ok=True)
    return path


@contextlib.contextmanager
def _named(path: Path) -> Iterator[None]:
    """A system error about `path` (a name too long, a read-only file system) as one line
    naming it: ``PATH: File name too long``, not ``[Errno 36] File name too long: 'PATH'``."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None or not exc.strerror:
            raise  # one of ours, already one line
        raise type(exc)(f"{path}: {exc.strerror}") from None


@contextlib.contextmanager
def output_folder(path: Path) -> Iterator[Path]:
    """`output_dir` for the block of an export that writes into it: `ExportError` if it cannot
    be made; removed again when this call made it and the block fails (an export refused
    leaves nothing behind: it is empty by then, each export removing its own parts).

    The folder is held for the block (`_held`): a second export into it meanwhile from this
    computer (the console and the command line, two consoles) is refused in one line, nothing
    written, rather than the two writing each other's parts and files into a mix of both; a
    folder this call made is then left to the export that holds it."""
    made = False
    try:
        with _named(path):
            if not os.path.lexists(path) and path.parent.is_dir():
                with contextlib.suppress(FileExistsError):  # (made meanwhile: not ours)
                    path.mkdir()
                    made = True
        directory = output_dir(path)
    except OSError as exc:
        raise ExportError(str(exc)) from None
    with _held(directory):
        try:
            yield directory
        except BaseException:
            if made:
                with contextlib.suppress(OSError):  # not empty, or gone: left as it is
                    directory.rmdir()
            raise


@contextlib.contextmanager
def _held(directory: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the folder itself (no file made in it) for the block;
    `ExportError` if another process holds it. Where the lock cannot be asked (Windows, a file
    system without ``flock``) the folder is used unheld; on a network drive (NFS, SMB) the
    lock holds between the programs of one computer only, not between computers."""
    try:
        fd = None if fcntl is None else os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # (a folder this user may not read)
        fd = None
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ExportError(
                    f"{directory}: another export is writing into this folder: wait for it to "
                    "end, or export into another folder; nothing was written"
                ) from None
            except OSError:  # (ENOLCK, EOPNOTSUPP: no lock on this file system) unheld
                pass
        yield
    finally:
        if fd is not None:
            os.close(fd)  # (releases the lock)


def output_file(path: Path) -> Path:
    """`path` as an output file: its directory must exist and it must be neither a directory nor
    a device, pipe or socket (`files.NotARegularFile`)."""
    files.check_target(path)
    with _named(path):
        if path.is_dir():
            raise IsADirectoryError(f"{path}: is a directory")
        if not path.parent.is_dir():
            raise FileNotFoundError(files.no_folder(path.parent))
    return path


def read_json_file(path: Path, kind: str, file_format: str) -> dict[str, Any]:
    """The JSON object of a small file of ours whose ``format`` is `file_format` (a key file,
    a device file); `ExportError` naming the file if it cannot be read or is not "a RESPINE
    `kind`"."""
    return read_json_bytes(path, kind, file_format)[0]


def read_json_bytes(path: Path, kind: str, file_format: str) -> tuple[dict[str, Any], bytes]:
    """`read_json_file`'s object and the bytes it was read from (one read of the file: what an
    audit entry says of the file, its digest, is of the very bytes used)."""
    files.check_input(path, kind)
    try:
        raw = path.read_bytes()
        data = json_text.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ExportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ExportError(f"{path}: not a RESPINE {kind}") from None
    if not isinstance(data, dict) or data.get("format") != file_format:
        raise ExportError(f"{path}: not a RESPINE {kind}")
    return data, raw
