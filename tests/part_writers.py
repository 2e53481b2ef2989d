"""Part writers for the tests of `respine_desktop.exports.subject_parts` (workers import them by
name), and, run as a script, an export process for a test to kill:
``python part_writers.py DIR`` writes DIR/out.txt with two workers that never finish."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from respine_desktop.exports.subject_parts import PartJob, Tick, part_files, write_parts
from respine_desktop.schedule import today
from respine_desktop.study import load_study


def stalling_writer(job: PartJob, tick: Tick) -> tuple[int, ...]:
    """Writes half its file, reports once (its process id as the code), then hangs until
    killed."""
    job.files[0].write_bytes(b"half a part")
    tick(1, str(os.getpid()))
    time.sleep(120)
    return (1,)


def first_file_writer(job: PartJob, tick: Tick) -> tuple[int, ...]:
    """Writes its first part file only (as a run whose second file was lost)."""
    job.files[0].write_bytes(f"run {job.index}\r\n".encode())
    tick(1, "RSP-01-001")
    return (1,)


def two_file_writer(job: PartJob, tick: Tick) -> tuple[int, ...]:
    """Writes both part files: a line naming its run in each."""
    for k, path in enumerate(job.files):
        path.write_bytes(f"file {k} run {job.index}\r\n".encode())
    tick(1, "RSP-01-001")
    return (1,)


def buggy_writer(job: PartJob, tick: Tick) -> tuple[int, ...]:
    """Fails as a bug would (not a storage, export or file error)."""
    return ({"a": 1}["missing key"],)


def endless_writer(job: PartJob, tick: Tick) -> tuple[int, ...]:
    """Writes and reports a subject every 10 ms, for ever."""
    with open(job.files[0], "w", encoding="utf-8") as f:
        for n in range(1, 10**9):
            f.write(f"RSP-01-{n:03d}\r\n")
            f.flush()
            tick(n * 20, f"RSP-01-{n:03d}")  # every call reaches the parent
            time.sleep(0.01)
    return (0,)


def jobs(directory: Path, final: Path, runs: int) -> list[PartJob]:
    return [
        PartJob(k, directory / "none.db", load_study(), today(), "", None, files)
        for k, files in enumerate(part_files([final], runs))
    ]


if __name__ == "__main__":
    out = Path(sys.argv[1])
    write_parts(endless_writer, jobs(out, out / "out.txt", 2), [out / "out.txt"], print, "test")
