"""`part_joiner.PartJoiner`: each file's parts appended to its first as they grow, once the
parts before them are complete; the joined files are the parts' bytes in order, fsynced; a part
not made yet is waited for; a file that is not the one its run wrote (another put or renamed
under its name), a part cut short or missing, a run that never said which files it wrote, are
refused in one line, before anything is appended to the first run's part."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.part_joiner import PartJoiner, identities


def _parts(folder: Path, runs: int, files: int = 2) -> list[list[Path]]:
    return [[folder / f"file{f}.run{r}" for f in range(files)] for r in range(runs)]


class _Run:
    """A run's writer: its part files held open, appended to, then said complete."""

    def __init__(self, joiner: PartJoiner, run: int, paths: list[Path]) -> None:
        self.joiner, self.run = joiner, run
        self.files: list[BinaryIO] = [open(p, "wb") for p in paths]  # noqa: SIM115
        _OPEN.extend(self.files)
        joiner.opened(run, identities(self.files))

    def write(self, *data: bytes) -> None:
        for f, d in zip(self.files, data, strict=True):
            f.write(d)
            f.flush()

    def written(self) -> None:
        self.joiner.written(self.run, identities(self.files))
        for f in self.files:
            f.close()


_OPEN: list[BinaryIO] = []  # every run's files, closed after each test


def _head(joiner: PartJoiner, parts: list[list[Path]]) -> None:
    """Run 0 writes ``head;`` into its one part and says it complete."""
    run0 = _Run(joiner, 0, parts[0])
    run0.write(b"head;")
    run0.written()


@contextlib.contextmanager
def _joiner(parts: list[list[Path]]) -> Iterator[PartJoiner]:
    joiner = PartJoiner(parts)
    try:
        yield joiner
    finally:
        joiner.close()
        for f in _OPEN:
            f.close()
        _OPEN.clear()


def test_parts_are_appended_as_they_grow_and_joined_whole(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 3)
    with _joiner(parts) as joiner:
        run0 = _Run(joiner, 0, parts[0])
        run0.write(b"head0;", b"head1;")
        joiner.step()  # run 0 not complete: nothing appended
        run0.written()
        joiner.step()  # run 1 not made yet: waited for
        run1, run2 = _Run(joiner, 1, parts[1]), _Run(joiner, 2, parts[2])
        run1.write(b"one0-a;", b"one1-a;")
        run2.write(b"two0;", b"two1;")  # written beside, appended only after run 1
        joiner.step()
        assert parts[0][0].read_bytes() == b"head0;one0-a;"  # while run 1 still writes
        run1.write(b"one0-b;", b"one1-b;")
        joiner.step()
        assert parts[0][1].read_bytes() == b"head1;one1-a;one1-b;"
        run2.written()  # run 2 done before run 1: waits for it
        joiner.step()
        assert parts[0][1].read_bytes() == b"head1;one1-a;one1-b;"
        run1.write(b"one0-c;", b"")
        run1.written()
        joiner.finish()
    assert parts[0][0].read_bytes() == b"head0;one0-a;one0-b;one0-c;two0;"
    assert parts[0][1].read_bytes() == b"head1;one1-a;one1-b;two1;"


def test_one_run_is_synced_as_it_is(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 1)
    with _joiner(parts) as joiner:
        run0 = _Run(joiner, 0, parts[0])
        run0.write(b"only0", b"only1")
        run0.written()
        joiner.finish()
    assert [p.read_bytes() for p in parts[0]] == [b"only0", b"only1"]


def test_a_file_renamed_onto_a_growing_part_is_refused(tmp_path: Path) -> None:
    """Another of the user's files (another study's export) renamed onto a part's name before
    the join opened it: not the file its run made, refused before anything of it is copied."""
    parts = _parts(tmp_path, 2, files=1)
    secret = tmp_path / "another-study.csv"
    secret.write_bytes(b"SECRET,another study's data\r\n")
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        run1 = _Run(joiner, 1, parts[1])
        run1.write(b"first;")
        os.replace(secret, parts[1][0])
        with pytest.raises(ExportError, match="is not the part this export wrote"):
            joiner.step()
    assert parts[0][0].read_bytes() == b"head;"


def test_a_run_s_parts_are_appended_only_once_it_said_which_files_they_are(
    tmp_path: Path,
) -> None:
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        parts[1][0].write_bytes(b"first;")  # (made, not said yet)
        joiner.step()
        assert parts[0][0].read_bytes() == b"head;"
        with open(parts[1][0], "ab") as f:
            joiner.opened(1, identities([f]))
            joiner.step()
            assert parts[0][0].read_bytes() == b"head;first;"
            joiner.written(1, identities([f]))
        joiner.finish()
    assert parts[0][0].read_bytes() == b"head;first;"


@pytest.mark.parametrize("which", [0, 1])
def test_a_named_pipe_under_a_part_s_name_is_refused_not_waited_on(
    tmp_path: Path, which: int
) -> None:
    """(Opened without waiting for its other end: the join, and with it a Cancel, never hang.)"""
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        _Run(joiner, 1, parts[1])
        parts[which][0].unlink()
        os.mkfifo(parts[which][0])
        with pytest.raises(ExportError, match="is not the part this export wrote"):
            joiner.step()


def test_a_file_renamed_onto_the_first_part_is_refused_never_written_into(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    secret = tmp_path / "another-study.csv"
    secret.write_bytes(b"SECRET,another study's data\r\n")
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        os.replace(secret, parts[0][0])
        run1 = _Run(joiner, 1, parts[1])
        run1.write(b"first;")
        with pytest.raises(ExportError, match="is not the part this export wrote"):
            joiner.step()
    assert parts[0][0].read_bytes() == b"SECRET,another study's data\r\n"  # not appended to


def test_a_first_part_gone_is_not_made_again(tmp_path: Path) -> None:
    """(Opened to append, never created: an empty file would have been joined as the output.)"""
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        parts[0][0].unlink()
        with pytest.raises(FileNotFoundError):
            joiner.step()
    assert not parts[0][0].exists()


def test_a_part_cut_short_is_refused(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        run1 = _Run(joiner, 1, parts[1])
        run1.write(b"first;second;")
        joiner.step()
        with open(parts[1][0], "r+b") as f:
            f.truncate(3)
        with pytest.raises(ExportError, match=r"cut short"):
            joiner.step()


def test_a_part_its_run_never_made_is_named(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        joiner.written(1, [(0, 0)])  # (said complete, its file gone)
        with pytest.raises(FileNotFoundError) as missing:
            joiner.finish()
    assert missing.value.filename == str(parts[1][0])


def test_a_run_that_never_said_which_files_it_wrote_is_a_bug(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        parts[1][0].write_bytes(b"first;")
        with pytest.raises(RuntimeError, match="run 1 did not say which part files it wrote"):
            joiner.finish()


def test_a_part_written_to_after_it_was_said_complete_is_a_bug(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    with _joiner(parts) as joiner:
        _head(joiner, parts)
        run1 = _Run(joiner, 1, parts[1])
        run1.write(b"first;")
        joiner.written(1, identities(run1.files))  # (its file still open: written to below)
        joiner.step()
        run1.write(b"late;")
        with pytest.raises(RuntimeError, match="written to after its run said it was complete"):
            joiner.finish()
