"""The parts of an export's files joined, each file's as they grow (`PartJoiner`).

An export written in runs (`subject_parts`) has each output file in parts, one a run: the first
run's is the final file's ``.partial``, the others' are appended to it in order. A part can be
appended once every part before it is complete, and it need not be complete itself: its worker
only ever appends to it, so what it holds is final. So the caller appends, while the workers
still write, what the next part holds so far (`PartJoiner.step`, called every tenth of a
second), and once every run is done only what came last (`PartJoiner.finish`); the file's
disk writes start as it grows (`write_behind`), so its fsync then has little left to wait for.
At 10,000 subjects (a 235 MB part to append) the join after the last worker took 0.3 s; most
of it is now done while the others still write.

Each part is opened without following a link and must be the very file its worker wrote
(`_open_part`): each run reports its parts' identities (device and inode, `identities`, taken
from the files it holds open) as soon as it has made them, and the file opened under each name
must be that one. In an export folder others may write to (a shared drive), a link, or
another of the user's files renamed onto a part's name, would otherwise have been copied into
the export (any file the user may read: another study's data), or written into in the place of
the first run's part; a part left by a killed export is never taken for the new one's. Parts
are copied inside the kernel through the page cache (``sendfile``), never by a network file
system's server-side copy (``copy_file_range`` may hand the copy to the server, which does not
see what a writer has not flushed to it yet: a part still growing, or just complete and not yet
closed). Failures raise `ExportError`; the caller removes every part and partial file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, BinaryIO

from respine_desktop.exports.errors import ExportError
from respine_desktop.write_behind import writing_behind

__all__ = ["Identity", "PartJoiner", "identities"]

Identity = tuple[int, int]
"""A file's device and inode."""


def identities(parts: Sequence[IO[Any]]) -> list[Identity]:
    """The identity of each open file of `parts` (of the file it holds open, whatever its name
    has become since)."""
    return [(found.st_dev, found.st_ino) for found in (os.fstat(f.fileno()) for f in parts)]


_NO_LINK = getattr(os, "O_NOFOLLOW", 0)
_NO_WAIT = getattr(os, "O_NONBLOCK", 0)
_CHUNK = 1 << 20


class PartJoiner:
    """Joins `parts` (``parts[run][file]``: each run's part of each file, run 0's the files'
    ``.partial``) as the runs write them: `opened(run, ids)` when a run has made its parts
    (`ids`: their `identities`), `written(run, ids)` when they are complete, `step` to append
    what can be appended now (called every tenth of a second while the workers write), `finish`
    once every run is done (the files then complete and fsynced), `close` on failure (nothing
    synced). A part is opened only once its run has said which file it is, and refused at once
    if the file under its name is another: nothing of another file is ever copied."""

    def __init__(self, parts: Sequence[Sequence[Path]]) -> None:
        self.parts = parts
        self.ids: list[list[Identity] | None] = [None] * len(parts)
        self.done = [False] * len(parts)
        self.next = 1  # the run whose parts are appended now, all before it appended whole
        self.outs: list[BinaryIO] = []  # each file's run-0 part, open at its end
        self.sources: list[list[int]] = []  # each run's parts, once opened (kept to the end)
        self.copied: list[int] = []  # how much of run `next`'s parts is appended
        self.appended: list[list[int]] = []  # how much of each run's parts, once appended whole
        self.behind = contextlib.ExitStack()

    def opened(self, run: int, ids: Sequence[Identity]) -> None:
        """Run `run` has made its parts, the files `ids` (still growing)."""
        found = [(int(d), int(i)) for d, i in ids]  # (lists, through a queue)
        if self.ids[run] not in (None, found):
            raise RuntimeError(f"run {run} said two different sets of part files")
        self.ids[run] = found

    def written(self, run: int, ids: Sequence[Identity]) -> None:
        """Run `run`'s parts are complete (its worker flushed them), and are the files `ids`."""
        self.opened(run, ids)
        self.done[run] = True

    def step(self) -> None:
        """Append what the runs complete so far allow: the parts of each run whose runs before
        it are complete, whole if it is complete too, else what they hold now."""
        while self.next < len(self.parts) and all(self.done[: self.next]):
            if not self.outs:
                self._open_outs()
            whole = self.done[self.next]  # (read first: then the parts hold all)
            if len(self.sources) < self.next and not self._open_sources(whole):
                return  # (its worker has not made them, or not said which they are, yet)
            sources = self.sources[self.next - 1]
            for k, fd in enumerate(sources):
                part = self.parts[self.next][k]
                size = os.fstat(fd).st_size
                if size < self.copied[k]:  # (its worker only appends)
                    raise ExportError(f"{part}: {_NOT_OURS} (cut short)")
                _copy(fd, self.outs[k], self.copied[k], size, part)
                self.copied[k] = size
            if not whole:
                return
            self.appended.append(self.copied)
            self.next += 1
            self.copied = []

    def finish(self) -> None:
        """Every run done: append what is left, then make each file durable. A part that grew
        after its run said it was complete is a writer's bug (`RuntimeError`)."""
        for run in range(len(self.parts)):
            if not self.done[run]:
                raise RuntimeError(f"run {run} did not say which part files it wrote")
        self.step()
        if not self.outs:
            self._open_outs()  # (one run: nothing to append, its parts to sync)
        for run, sources in enumerate(self.sources, start=1):
            for fd, part, size in zip(sources, self.parts[run], self.appended[run - 1],
                                      strict=True):  # fmt: skip
                if os.fstat(fd).st_size != size:
                    raise RuntimeError(f"{part}: written to after its run said it was complete")
        self.behind.close()  # the syncs as the files grew stop (a failure of theirs raised)
        for out in self.outs:
            out.flush()
            os.fsync(out.fileno())
        self.close()

    def close(self) -> None:
        """Close every file (once finished, or when the export failed: then nothing synced)."""
        with contextlib.suppress(OSError):  # (a failed export: a sync's failure does not matter)
            self.behind.close()
        for sources in self.sources:
            for fd in sources:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.sources = []
        for out in self.outs:
            with contextlib.suppress(OSError):
                out.close()
        self.outs = []

    def _ids(self, run: int) -> list[Identity]:
        ids = self.ids[run]
        if ids is None or len(ids) != len(self.parts[run]):
            raise RuntimeError(f"run {run} did not say which part files it wrote")
        return ids

    def _open_outs(self) -> None:
        # as "ab" would open them (never made here: the run wrote them), without O_APPEND,
        # which copy_file_range refuses
        for part, expected in zip(self.parts[0], self._ids(0), strict=True):
            out = open(_open_part(part, os.O_WRONLY, expected), "wb")  # noqa: SIM115 - `close`
            out.seek(0, os.SEEK_END)
            self.outs.append(out)
        self.behind.enter_context(writing_behind(*self.outs))

    def _open_sources(self, whole: bool) -> bool:
        """Open run `next`'s parts, each the file its run said (`ExportError` if another is
        under its name); False if the run has not said which files they are yet, or one is gone
        while the run is not complete (its worker failed and removed it: its own error comes
        next), else a part missing is named (`FileNotFoundError`)."""
        if self.ids[self.next] is None:
            return False
        opened: list[int] = []
        try:
            for part, expected in zip(self.parts[self.next], self._ids(self.next), strict=True):
                opened.append(_open_part(part, os.O_RDONLY, expected))
        except BaseException as exc:
            for fd in opened:
                os.close(fd)
            if isinstance(exc, FileNotFoundError) and not whole:
                return False
            raise
        self.sources.append(opened)
        self.copied = [0] * len(opened)
        return True


def _open_part(part: Path, flags: int, expected: Identity) -> int:
    """`part` opened with `flags` as a descriptor, if it is the file its run wrote (`expected`:
    its device and inode), else `ExportError`: never through a link, and a named pipe is opened
    at once (``O_NONBLOCK``, no effect on a file) to be refused, where a plain open waits for its
    other end for ever. A part missing raises `FileNotFoundError`, naming it."""
    try:
        fd = os.open(part, flags | _NO_LINK | getattr(os, "O_BINARY", 0) | _NO_WAIT)
    except FileNotFoundError:
        raise
    except OSError as exc:  # (ELOOP: a link, which O_NOFOLLOW does not open)
        raise ExportError(f"{part}: {_NOT_OURS} ({exc.strerror})") from None
    found = os.fstat(fd)
    if (found.st_dev, found.st_ino) != tuple(expected):
        os.close(fd)
        raise ExportError(f"{part}: {_NOT_OURS}")
    if _NO_WAIT:
        os.set_blocking(fd, True)  # (a file: as any other)
    return fd


_NOT_OURS = (
    "is not the part this export wrote (a link or a file put under its name meanwhile): "
    "nothing was written; export again into a folder only you may write to"
)


def _copy(source: int, out: BinaryIO, start: int, end: int, part: Path) -> None:
    """Append bytes `start`..`end` of the descriptor `source` to `out`: by ``sendfile`` inside
    the kernel, through the page cache (see the module), where the system offers it for files
    (Linux), else through a buffer. `ExportError` if the part holds less than that (cut short
    meanwhile)."""
    send = getattr(os, "sendfile", None) if sys.platform.startswith("linux") else None
    out.flush()
    while start < end:
        count = min(end - start, 1 << 30)
        if send is not None:
            try:
                copied = send(out.fileno(), source, start, count)
            except OSError:  # not for these files here (an old kernel, a file system)
                send = None
                continue
        else:
            os.lseek(source, start, os.SEEK_SET)
            data = os.read(source, min(count, _CHUNK))
            out.write(data)
            out.flush()
            copied = len(data)
        if copied == 0:
            raise ExportError(f"{part}: {_NOT_OURS} (cut short)")
        start += copied
