"""`write_behind`: a file's disk writes started while it is written, by a thread that syncs it;
a sync that fails there raised when the writing ends (never lost to the writer's own fsync), and
an export whose sync failed renames nothing into place."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from respine_desktop import write_behind
from respine_desktop.exports.files import atomic_binary, partial_path
from respine_desktop.write_behind import writing_behind

WAIT_S = 30  # a bound on waiting for the thread on a busy machine, never a pause


def _thread_ended() -> bool:
    return not any(t.name == "write-behind" for t in threading.enumerate())


def _wait_ended() -> None:
    for t in threading.enumerate():
        if t.name == "write-behind":
            t.join(WAIT_S)
    assert _thread_ended()


def test_the_file_is_synced_while_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    seen = threading.Event()
    real = write_behind._datasync

    def recorded(fd: int) -> None:
        real(fd)  # the system's own sync of the file
        synced.append(fd)
        seen.set()

    monkeypatch.setattr(write_behind, "_datasync", recorded)
    path = tmp_path / "answers_long.csv"
    with open(path, "wb") as f, writing_behind(f, interval_s=0.01):
        f.write(b"x" * (1 << 20))
        f.flush()
        assert seen.wait(WAIT_S), "no sync while the file was written"
        assert set(synced) == {f.fileno()}
        f.write(b"y")
    assert _thread_ended()  # stopped and joined when the block ended, before the file closed
    assert path.stat().st_size == (1 << 20) + 1


def test_a_sync_that_fails_in_the_thread_is_raised_when_the_block_ends() -> None:
    read, written = os.pipe()
    os.close(read)
    # a real error: a pipe cannot be synced (EINVAL)
    with (
        os.fdopen(written, "wb") as pipe,
        pytest.raises(OSError) as raised,
        writing_behind(pipe, interval_s=0.01),
    ):
        _wait_ended()  # (the thread ends at its first failing sync)
    assert raised.value.errno == errno.EINVAL


def test_the_block_s_own_error_comes_first() -> None:
    read, written = os.pipe()
    os.close(read)
    with (
        os.fdopen(written, "wb") as pipe,
        pytest.raises(ValueError, match="the writer's"),
        writing_behind(pipe, interval_s=0.01),
    ):
        _wait_ended()
        raise ValueError("the writer's")


def test_an_output_whose_sync_failed_is_never_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that failed a write of the file (EIO, reported to the thread's sync only): the
    export fails, its partial file is removed, the earlier file stays as it was."""
    failed = threading.Event()

    def failing(fd: int) -> None:
        failed.set()
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(write_behind, "_datasync", failing)
    monkeypatch.setattr(write_behind, "INTERVAL_S", 0.01)
    final = tmp_path / "study.xml"
    final.write_bytes(b"the earlier export")
    with pytest.raises(OSError) as raised, atomic_binary(final) as f:
        f.write(b"<ODM/>")
        assert failed.wait(WAIT_S)
        _wait_ended()
    assert raised.value.errno == errno.EIO
    assert final.read_bytes() == b"the earlier export"
    assert not partial_path(final).exists()
