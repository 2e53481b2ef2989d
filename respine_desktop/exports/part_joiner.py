"""The parts of an export's files joined, each file's as they grow (`PartJoiner`).

An export written in runs (`subject_parts`) has each output file in parts, one a run: the first
run's is the final file's ``.partial``, the others' are appended to it in order. A part can be
appended once every part before it is complete, and it need not be complete itself: its worker
only ever appends to it, so what it holds is final. So the caller appends, while the workers
still write, what the next part holds so far (`PartJoiner.step`, called as the workers report),
and once every run is done only what came last (`PartJoiner.finish`); the file's disk writes
start as it grows (`write_behind`), so its fsync then has little left to wait for. At 10,000
subjects (a 235 MB part to append) the join after the last worker took 0.3 s; most of it is now
done while the others still write.

Each part is opened without following a link and must still be a file of this user's with one
name (`_own_part`): in an export folder others may write to (a shared drive), a link or a file
put under a part's name after its worker wrote it would otherwise have been copied into the
export (any file the user may read: another study's data). Failures raise `ExportError`; the
caller removes every part and partial file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from respine_desktop.exports.errors import ExportError
from respine_desktop.write_behind import writing_behind

__all__ = ["PartJoiner"]

_NO_LINK = getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 20


class PartJoiner:
    """Joins `parts` (``parts[run][file]``: each run's part of each file, run 0's the files'
    ``.partial``) as the runs complete them: `written(run)` when a run's parts are complete,
    `step` to append what can be appended now, `finish` once every run is done (the files then
    complete and fsynced), `close` on failure (nothing synced)."""

    def __init__(self, parts: Sequence[Sequence[Path]]) -> None:
        self.parts = parts
        self.complete = [False] * len(parts)
        self.next = 1  # the run whose parts are appended now, all before it appended whole
        self.outs: list[BinaryIO] = []  # each file's run-0 part, open at its end
        self.sources: list[int] = []  # the descriptors of run `next`'s parts, once opened
        self.copied: list[int] = []  # how much of each of them is appended
        self.behind = contextlib.ExitStack()

    def written(self, run: int) -> None:
        """Run `run`'s parts are complete (its worker closed them)."""
        self.complete[run] = True

    def step(self) -> None:
        """Append what the runs complete so far allow: the parts of each run whose runs before
        it are complete, whole if it is complete too, else what they hold now."""
        while self.next < len(self.parts) and all(self.complete[: self.next]):
            if not self.outs:
                self._open_outs()
            whole = self.complete[self.next]  # (read first: then what the parts hold is all)
            if not self.sources and not self._open_sources(whole):
                return  # (its worker has not made them yet)
            for k, source in enumerate(self.sources):
                part = self.parts[self.next][k]
                found = os.fstat(source)
                if whole:
                    _same_file(part, found)
                if found.st_size < self.copied[k]:  # (its worker only appends)
                    raise ExportError(f"{part}: {_NOT_OURS} (cut short)")
                _copy(source, self.outs[k], self.copied[k], found.st_size, part)
                self.copied[k] = found.st_size
            if not whole:
                return
            self._close_sources()
            self.next += 1

    def finish(self) -> None:
        """Every run done: append what is left, then make each file durable."""
        self.complete = [True] * len(self.parts)
        self.step()
        if not self.outs:
            self._open_outs()  # (one run: nothing to append, its parts to sync)
        self.behind.close()  # the syncs as the files grew stop (a failure of theirs raised)
        for out in self.outs:
            out.flush()
            os.fsync(out.fileno())
        self.close()

    def close(self) -> None:
        """Close every file (once finished, or when the export failed: then nothing synced)."""
        with contextlib.suppress(OSError):  # (a failed export: a sync's failure does not matter)
            self.behind.close()
        self._close_sources()
        for out in self.outs:
            with contextlib.suppress(OSError):
                out.close()
        self.outs = []

    def _open_outs(self) -> None:
        # as "ab" would open them, without O_APPEND, which copy_file_range refuses
        for part in self.parts[0]:
            out = open(_own_part(part, os.O_WRONLY | os.O_CREAT | _NO_LINK), "wb")  # noqa: SIM115
            out.seek(0, os.SEEK_END)
            self.outs.append(out)
        self.behind.enter_context(writing_behind(*self.outs))

    def _open_sources(self, whole: bool) -> bool:
        """Open run `next`'s parts; False if one is not there yet (its worker is still to make
        it: the caller removed every part's name before the workers started), unless the run is
        complete (then a part missing is named: `FileNotFoundError`)."""
        try:
            for part in self.parts[self.next]:
                self.sources.append(_own_part(part, os.O_RDONLY | _NO_LINK))
        except FileNotFoundError:
            self._close_sources()
            if whole:
                raise
            return False
        self.copied = [0] * len(self.sources)
        return True

    def _close_sources(self) -> None:
        for source in self.sources:
            os.close(source)
        self.sources = []


def _own_part(part: Path, flags: int) -> int:
    """`part` opened with `flags` (no link followed), as a descriptor: a regular file of one
    name, owned by this user (where files have owners), else `ExportError`."""
    try:
        fd = os.open(part, flags | getattr(os, "O_BINARY", 0), 0o666)
    except FileNotFoundError:
        raise  # a writer that wrote no such part: named as it is (`write_parts`)
    except OSError as exc:  # (ELOOP: a link, which O_NOFOLLOW does not open)
        raise ExportError(f"{part}: {_NOT_OURS} ({exc.strerror})") from None
    found = os.fstat(fd)
    owner = getattr(os, "geteuid", None)
    if (
        not stat.S_ISREG(found.st_mode)
        or found.st_nlink != 1
        or (owner is not None and found.st_uid != owner())
    ):
        os.close(fd)
        raise ExportError(f"{part}: {_NOT_OURS}")
    return fd


def _same_file(part: Path, opened: os.stat_result) -> None:
    """`ExportError` unless the part file opened (`opened`, its status) is still the file of
    that name, and its only name: opened while its worker wrote it, it must be the file the
    worker completed, not one it replaced or that was put under that name meanwhile."""
    try:
        named = os.lstat(part)
    except OSError:
        named = None
    if (
        named is None
        or opened.st_nlink != 1
        or (named.st_dev, named.st_ino) != (opened.st_dev, opened.st_ino)
    ):
        raise ExportError(f"{part}: {_NOT_OURS}")


_NOT_OURS = (
    "is not the part this export wrote (a link or a file put under its name meanwhile): "
    "nothing was written; export again into a folder only you may write to"
)


def _copy(source: int, out: BinaryIO, start: int, end: int, part: Path) -> None:
    """Append bytes `start`..`end` of the descriptor `source` to `out`: by ``copy_file_range``
    inside the kernel where the system offers it (the parts of a 10,000-subject CSV export are
    hundreds of MB), else through a buffer. `ExportError` if the part holds less than that (cut
    short meanwhile)."""
    copy_range = getattr(os, "copy_file_range", None)
    out.flush()
    while start < end:
        copied = 0
        if copy_range is not None:
            try:
                copied = copy_range(source, out.fileno(), min(end - start, 1 << 30), start)
            except OSError:  # not supported here (another file system, an old kernel)
                copy_range = None
                continue
        else:
            os.lseek(source, start, os.SEEK_SET)
            data = os.read(source, min(end - start, _CHUNK))
            out.write(data)
            out.flush()
            copied = len(data)
        if copied == 0:
            raise ExportError(f"{part}: {_NOT_OURS} (cut short)")
        start += copied
