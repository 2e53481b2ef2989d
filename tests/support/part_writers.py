"""Part writers for the tests of `respine_desktop.exports.subject_parts` (workers import them by
name), and, run as a script, an export process for a test to kill:
``python part_writers.py DIR`` writes DIR/out.txt with two workers that never finish, printing
``<run>:<process id>`` once a run's worker has reported."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import signal
import sys
from pathlib import Path

from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.subject_parts import (
    PartJob,
    Tick,
    Written,
    part_files,
    write_parts,
)
from respine_desktop.schedule import today
from respine_desktop.study import load_study


def stalling_writer(job: PartJob, tick: Tick, _written: Written) -> tuple[int, ...]:
    """Writes half its file, reports once (its process id as the code), then waits for a signal
    (the parent's terminate or a test's kill) that ends it."""
    job.files[0].write_bytes(b"half a part")
    tick(1, str(os.getpid()))
    signal.pause()
    return (1,)


def first_file_writer(job: PartJob, tick: Tick, written: Written) -> tuple[int, ...]:
    """Writes both part files; a run after the first loses its second one's name before it
    says they are complete (as a part removed by someone else)."""
    return two_file_writer(job, tick, written, lose_second=job.index > 0)


def two_file_writer(
    job: PartJob, tick: Tick, written: Written, *, lose_second: bool = False
) -> tuple[int, ...]:
    """Writes both part files: a line naming its run in each."""
    with contextlib.ExitStack() as stack:
        parts = [stack.enter_context(open(path, "wb")) for path in job.files]
        for k, f in enumerate(parts):
            f.write(f"file {k} run {job.index}\r\n".encode())
            f.flush()
        tick(1, "RSP-01-001")
        if lose_second:
            job.files[1].unlink()
        written(*parts)
    return (1,)


def buggy_writer(job: PartJob, tick: Tick, _written: Written) -> tuple[int, ...]:
    """Fails as a bug would (not a storage, export or file error)."""
    return ({"a": 1}["missing key"],)


def endless_writer(job: PartJob, tick: Tick, _written: Written) -> tuple[int, ...]:
    """Works on a subject (a digest of 256 KiB: a fraction of a millisecond), writes and reports
    it, for ever. The code it reports is ``<run>:<process id>``."""
    block = bytes(1 << 18)
    with open(job.files[0], "w", encoding="utf-8") as f:
        for n in range(1, 10**9):
            f.write(f"RSP-01-{n:03d} {hashlib.sha256(block).hexdigest()}\r\n")
            f.flush()
            tick(n * 20, f"{job.index}:{os.getpid()}")  # every call reaches the parent
    return (0,)


def failing_beside_endless_writer(job: PartJob, tick: Tick, _written: Written) -> tuple[int, ...]:
    """Run 0 fails with an export error once run 1 has written its first subject (told through
    the named pipe ``ready`` the test made beside the parts, removed then); run 1 writes for
    ever (`endless_writer`) and, when its exit handlers run, writes ``ended`` beside its part
    (a worker stopped by a signal runs none, so leaves none)."""
    ready = job.files[0].parent / "ready"
    if job.index == 0:
        with open(ready, "rb") as f:  # waits for run 1 to open it, then for its byte
            f.read(1)
        ready.unlink()
        raise ExportError("run 0 failed")
    atexit.register((job.files[0].parent / "ended").write_text, f"run {job.index}")
    told = False

    def tick_and_tell(subjects: int, code: str) -> None:
        nonlocal told
        if not told:  # (its first subject is written and flushed: `endless_writer`)
            told = True
            with open(ready, "wb") as f:
                f.write(b"1")
        tick(subjects, code)

    return endless_writer(job, tick_and_tell, _written)


def jobs(directory: Path, final: Path, runs: int) -> list[PartJob]:
    return [
        PartJob(k, directory / "none.db", load_study(), today(), "", None, files)
        for k, files in enumerate(part_files([final], runs))
    ]


_REPORTED: set[str] = set()


def _first_report_of_each_run(done: int, code: str) -> None:
    run = code.split(":")[0]
    if run not in _REPORTED:
        _REPORTED.add(run)
        print(code, flush=True)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    final = out / "out.txt"
    write_parts(endless_writer, jobs(out, final, 2), [final], _first_report_of_each_run, "test")
