"""`part_joiner.PartJoiner`: each file's parts appended to its first as they grow, once the
parts before them are complete; the joined files are the parts' bytes in order, fsynced; a part
not made yet is waited for, a part replaced, cut short or missing is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.part_joiner import PartJoiner


def _parts(folder: Path, runs: int, files: int = 2) -> list[list[Path]]:
    return [[folder / f"file{f}.run{r}" for f in range(files)] for r in range(runs)]


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def test_parts_are_appended_as_they_grow_and_joined_whole(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 3)
    joiner = PartJoiner(parts)
    for f in range(2):
        parts[0][f].write_bytes(b"head%d;" % f)
    joiner.step()  # run 0 not complete: nothing appended
    assert parts[0][0].read_bytes() == b"head0;"
    joiner.written(0)
    joiner.step()  # run 1 not made yet: waited for
    for f in range(2):
        _append(parts[1][f], b"one%d-a;" % f)
        _append(parts[2][f], b"two%d;" % f)  # run 2 written beside, appended only after run 1
    joiner.step()
    assert parts[0][0].read_bytes() == b"head0;one0-a;"  # appended while run 1 still writes
    for f in range(2):
        _append(parts[1][f], b"one%d-b;" % f)
    joiner.step()
    assert parts[0][1].read_bytes() == b"head1;one1-a;one1-b;"
    joiner.written(2)  # run 2 done before run 1: waits for it
    joiner.step()
    assert parts[0][1].read_bytes() == b"head1;one1-a;one1-b;"
    _append(parts[1][0], b"one0-c;")
    joiner.finish()
    assert parts[0][0].read_bytes() == b"head0;one0-a;one0-b;one0-c;two0;"
    assert parts[0][1].read_bytes() == b"head1;one1-a;one1-b;two1;"


def test_one_run_is_synced_as_it_is(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 1)
    for f in range(2):
        parts[0][f].write_bytes(b"only%d" % f)
    PartJoiner(parts).finish()
    assert [p.read_bytes() for p in parts[0]] == [b"only0", b"only1"]


def test_a_part_replaced_while_it_was_appended_is_refused(tmp_path: Path) -> None:
    """The file the join opened while its worker wrote is no longer the one under that name
    (another put there meanwhile): refused, whatever it holds."""
    parts = _parts(tmp_path, 2, files=1)
    parts[0][0].write_bytes(b"head;")
    parts[1][0].write_bytes(b"first;")
    joiner = PartJoiner(parts)
    joiner.written(0)
    joiner.step()
    parts[1][0].unlink()
    parts[1][0].write_bytes(b"first;another file;")
    joiner.written(1)
    with pytest.raises(ExportError, match="is not the part this export wrote"):
        joiner.finish()
    joiner.close()


def test_a_part_cut_short_is_refused(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    parts[0][0].write_bytes(b"head;")
    parts[1][0].write_bytes(b"first;second;")
    joiner = PartJoiner(parts)
    joiner.written(0)
    joiner.step()
    with open(parts[1][0], "r+b") as f:
        f.truncate(3)
    with pytest.raises(ExportError, match=r"cut short"):
        joiner.step()
    joiner.close()


def test_a_part_its_run_never_made_is_named(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2, files=1)
    parts[0][0].write_bytes(b"head;")
    joiner = PartJoiner(parts)
    with pytest.raises(FileNotFoundError) as missing:
        joiner.finish()
    joiner.close()
    assert missing.value.filename == str(parts[1][0])
