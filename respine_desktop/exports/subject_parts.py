"""Exports written in parallel: the subjects split by code into runs, each run written by its own
worker process into part files, the parts joined in code order into the final files.

An export whose rows depend on one subject alone (the CSV files) can be cut between two subjects
and concatenated again: the joined files are byte for byte those one process would write. The
work is Python-bound (a 10,000-subject study is 1.8 million answer rows to read and format), so
processes, not threads, are what let a hub's several cores share it.

Workers start with ``spawn`` (a fresh interpreter: never a fork of a process that runs Qt
threads; the program's main module must guard its start with ``if __name__ == "__main__"``, as
`main.py` does) and read the database through their own read-only connection, each in one read
transaction, so every subject's rows come from one consistent state. A worker reports progress
and its result over a queue; if one fails, is killed or the export is cancelled (the progress
callback raised), the others are stopped, every part file is removed and nothing is left under
a final name. With one worker (a small study, a one-core machine) the run is written in this
process, through the same code.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import partial_path
from respine_desktop.study import Study

# A worker costs about half a second to start (interpreter and imports): not worth it for a run
# of fewer subjects than this.
MIN_SUBJECTS_PER_WORKER = 2000
MAX_WORKERS = 4


@dataclass(frozen=True)
class PartJob:
    """One run of subjects for a worker: codes above `after` up to `through` (None: the end).

    `files` are the part files to write, one per output file; the first run (`index` 0) writes
    the files' headers. `on` is the day visit statuses are computed for (the caller's today: a
    worker must not read its own clock).
    """

    index: int
    db_path: Path
    study: Study
    on: date
    after: str
    through: str | None
    files: tuple[Path, ...]


Tick = Callable[[int, str], None]
"""``tick(subjects_done, last_code)``, called by a part writer as it goes."""

PartWriter = Callable[[PartJob, Tick], tuple[int, ...]]
"""Writes one run's part files and returns its counts (summed over the runs by `write_parts`).
A module-level function: workers import it by name."""


def default_workers(subjects: int) -> int:
    """How many processes to use for `subjects`: one per available core, at most `MAX_WORKERS`,
    and no more than one per `MIN_SUBJECTS_PER_WORKER` subjects."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, subjects // MIN_SUBJECTS_PER_WORKER))


def part_files(finals: Sequence[Path], runs: int) -> list[tuple[Path, ...]]:
    """The part files of each run: run 0 writes the final files' ``.partial`` (the others are
    appended to it), run k ``<name>.part<k>.partial`` beside them."""
    return [
        tuple(
            partial_path(f) if k == 0 else partial_path(f.with_name(f"{f.name}.part{k}"))
            for f in finals
        )
        for k in range(runs)
    ]


def write_parts(
    writer: PartWriter,
    jobs: Sequence[PartJob],
    finals: Sequence[Path],
    tick: Tick,
    what: str,
) -> tuple[int, ...]:
    """Run `writer` on every job (in worker processes when there are several), join the parts
    into `finals` (fsynced, renamed into place) and return the summed counts.

    Any failure raises (`ExportError` for a worker's, naming `what`) with no part or final file
    written; an exception raised by `tick` (a cancelled export) propagates the same way.
    """
    try:
        if len(jobs) == 1:
            results = [writer(jobs[0], tick)]
        else:
            results = _run_workers(writer, jobs, tick, what)
        for k, final in enumerate(finals):
            _join([job.files[k] for job in jobs], final)
    finally:
        for job in jobs:
            for path in job.files:
                path.unlink(missing_ok=True)
    return tuple(sum(column) for column in zip(*results, strict=True))


def _join(parts: Sequence[Path], final: Path) -> None:
    """Append parts 1.. to part 0, make it durable and rename it to `final`."""
    with open(parts[0], "ab") as out:
        for part in parts[1:]:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(parts[0], final)


def _run_workers(
    writer: PartWriter, jobs: Sequence[PartJob], tick: Tick, what: str
) -> list[tuple[int, ...]]:
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    workers = [
        context.Process(target=_work, args=(writer, job, messages), daemon=True) for job in jobs
    ]
    started: list[multiprocessing.process.BaseProcess] = []
    done = [0] * len(jobs)
    results: dict[int, tuple[int, ...]] = {}

    def handle(message: tuple[Any, ...]) -> None:
        kind, index = message[0], message[1]
        if kind == "tick":
            done[index] = message[2]
            tick(sum(done), message[3])
        elif kind == "done":
            results[index] = message[2]
        else:
            raise ExportError(f"{what}: {message[2]}")

    try:
        for worker in workers:
            worker.start()
            started.append(worker)
        while len(results) < len(jobs):
            try:
                handle(messages.get(timeout=0.2))
                continue
            except queue.Empty:
                pass
            stopped = [k for k, w in enumerate(workers) if k not in results and not w.is_alive()]
            if stopped:
                # A worker's last messages reach the queue before it exits: read them first.
                while True:
                    try:
                        handle(messages.get_nowait())
                    except queue.Empty:
                        break
                for k in stopped:
                    if k not in results:
                        raise ExportError(
                            f"{what}: worker {k + 1} of {len(jobs)} stopped "
                            f"({_exit_text(workers[k].exitcode)}); nothing was written"
                        )
        return [results[k] for k in range(len(jobs))]
    finally:
        for process in started:
            if process.is_alive():
                process.terminate()
        for process in started:
            process.join()
        messages.close()
        messages.join_thread()


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _work(writer: PartWriter, job: PartJob, messages: Any) -> None:
    """A worker process: write the job's part files, report progress and the result.

    A worker whose parent is gone (killed, or the machine's session ended) stops at its next
    report and removes its part files rather than finish an export nobody will join.
    """
    parent = multiprocessing.parent_process()
    try:
        last = -20

        def tick(subjects: int, code: str) -> None:
            nonlocal last
            if subjects - last >= 20:  # a message per 20 subjects is plenty for a progress bar
                last = subjects
                if parent is not None and not parent.is_alive():
                    raise SystemExit("the export's process is gone")
                messages.put(("tick", job.index, subjects, code))

        messages.put(("done", job.index, writer(job, tick)))
    except BaseException as exc:  # reported to the parent, which names the export that failed
        for path in job.files:
            path.unlink(missing_ok=True)
        messages.put(("error", job.index, str(exc) or type(exc).__name__))
