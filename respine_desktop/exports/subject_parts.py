"""Exports written in parallel: runs of subjects written by worker processes, joined in order.

An export whose rows depend on one subject alone (the CSV files) can be cut between two subjects
and concatenated again: the joined files are byte for byte those one process would write. The
work is Python-bound (a 10,000-subject study is 1.8 million answer rows to read and format), so
processes, not threads, are what let a hub's several cores share it.

Workers start with ``spawn`` (a fresh interpreter: never a fork of a process that runs Qt
threads). Spawning re-imports the program's main module, so a program that exports must guard
its start with ``if __name__ == "__main__"``, as `main.py` does. Each worker reads the database
through its own connection in one read snapshot that must show the state the caller saw
(`PartJob.stamp`, see `storage.read_snapshot`): if a write came in between, the run raises
`storage.SnapshotChanged` and the caller writes the export again in one process.

Nothing incomplete is ever left under a final name: every output is first complete and fsynced
as ``<name>.partial`` (parts joined: each run's appended as it grows, once the runs before it
are complete, `part_joiner`), then all are renamed back to back, as a set: first a
journal (`SET_JOURNAL`) naming every ``.partial`` and its final name is written and fsynced, then
the renames, then the journal is removed. A process killed between two renames leaves the
journal and the remaining complete ``.partial`` files: the next export into the folder first
finishes that set (`finish_interrupted_set`), so the files never stay a mix of two exports, and
a reader finding the journal knows the set is being replaced. If a worker fails or is
killed, or the export is cancelled (the progress callback raised), the other workers are
stopped and every part and partial file is removed; earlier files stay as they were. A worker
is stopped by being told (an event it reads at each report: it removes its part files and
ends through its exit handlers), and sent a signal only if it has not ended within
`_ENDING_SECONDS`. A worker whose parent died stops at its next report and removes its part
files.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from respine_desktop import files, json_text
from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import partial_path
from respine_desktop.exports.part_joiner import Identity, PartJoiner, identities
from respine_desktop.storage import DatabaseCorrupt, SnapshotChanged, StorageError
from respine_desktop.study import Study

# A worker costs about half a second to start (interpreter and imports): not worth it for a run
# of fewer subjects than this.
MIN_SUBJECTS_PER_WORKER = 2000
MAX_WORKERS = 4
# How often the parent looks for a worker that died without a word (SIGKILL, out of memory).
_LIVENESS_SECONDS = 0.2
# How often the parent appends what the parts hold (`part_joiner`) while the workers write.
_JOIN_SECONDS = 0.1


@dataclass(frozen=True)
class PartJob:
    """One run of subjects for a worker: codes above `after` up to `through` (None: the end).

    `files` are the part files to write, one per output file; the first run (`index` 0) writes
    the files' headers. `on` is the day visit statuses are computed for (the caller's today: a
    worker must not read its own clock). `stamp` is the `storage.state_stamp` the caller read
    in its snapshot (None: no check, for a run written alone). `check`: the run first checks
    the file (`storage.check_intact`: the caller opened it without its check), a damaged file
    raising `storage.DatabaseCorrupt` in the caller as it is. `also`: final files of the export
    the run writes whole after its subjects, each as its ``.partial``, complete and fsynced by
    the time it reports its result (the CSV export's first run writes the audit trail: in a
    worker, beside the others' subjects, rather than in the caller's process, a third process
    on the cores).
    """

    index: int
    db_path: Path
    study: Study
    on: date
    after: str
    through: str | None
    files: tuple[Path, ...]
    stamp: tuple[int, ...] | None = None
    check: bool = False
    also: tuple[Path, ...] = ()


Tick = Callable[[int, str], None]
"""``tick(subjects_done, last_code)``, called by a part writer as it goes."""

Written = Callable[..., None]
"""``written(*parts, complete=True)``, called by a part writer with its part files, open, in
`PartJob.files` order: once it has made them (``complete=False``: the caller may then append
what they hold, as they grow), and once they are complete and flushed (before it closes them,
and before it writes the files of `PartJob.also`: the caller may then append the next run's
parts to them). The caller's join (`part_joiner`) takes each file's identity from the one the
writer holds open, and appends nothing of a file under a part's name that is not that one. A
writer must say its parts complete: a run that did not is a bug (`RuntimeError`)."""

PartWriter = Callable[[PartJob, Tick, Written], tuple[int, ...]]
"""Writes one run's part files and returns its counts (summed over the runs by `write_parts`).
A module-level function: workers import it by name."""


def default_workers(subjects: int) -> int:
    """How many processes to use for `subjects`: one per available core, at most `MAX_WORKERS`,
    and no more than one per `MIN_SUBJECTS_PER_WORKER` subjects."""
    return max(1, min(available_cores(), MAX_WORKERS, subjects // MIN_SUBJECTS_PER_WORKER))


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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


SET_JOURNAL = ".export-set.pending"


def finish_interrupted_set(folder: Path) -> bool:
    """Complete the set of renames an export killed half-way left in `folder` (its journal
    names them; each ``.partial`` left is complete and fsynced); whether there was one."""
    journal = folder / SET_JOURNAL
    try:
        pairs = json_text.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        raise ExportError(f"{journal}: unreadable export journal ({exc})") from None
    for partial, final in _journal_pairs(journal, pairs):
        if (folder / partial).exists():
            files.replace(folder / partial, folder / final)
    journal.unlink()
    files.sync_directory(folder)
    return True


def _journal_pairs(journal: Path, pairs: object) -> list[tuple[str, str]]:
    """The renames `journal` names (its JSON, `pairs`), all checked before any is made: each
    a file of its folder and its ``.partial`` (`replace_set` writes nothing else). A journal
    written otherwise (by hand, by another program, planted in a shared folder) could make the
    next export rename any file the user may write, anywhere: refused, nothing renamed."""
    not_pairs = ExportError(f"{journal}: not an export journal (a list of file pairs)")
    if not isinstance(pairs, list):
        raise not_pairs
    found: list[tuple[str, str]] = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise not_pairs
        partial, final = pair
        if not (
            isinstance(final, str)
            and final not in ("", ".", "..")
            and not any(c in final for c in "/\\:\0")
            and partial == partial_path(Path(final)).name
        ):
            raise ExportError(
                f"{journal}: names {final!r} and {partial!r}, not a file of this folder and its "
                "partial: not an export's journal; nothing renamed (remove it if no export was "
                "interrupted here)"
            )
        found.append((partial, final))
    return found


def replace_set(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rename each complete ``.partial`` of `pairs` (one folder) to its final name, as a set:
    journal first, renames, journal removed (see the module's docstring)."""
    folder = pairs[0][1].parent
    for _, final in pairs:
        files.check_target(final)
    journal = folder / SET_JOURNAL
    with files.open_new(journal, "w", encoding="utf-8") as f:
        json.dump([[partial.name, final.name] for partial, final in pairs], f)
        f.flush()
        os.fsync(f.fileno())
    files.sync_directory(folder)
    for partial, final in pairs:
        files.replace(partial, final)
    journal.unlink()
    files.sync_directory(folder)


def write_parts(
    writer: PartWriter,
    jobs: Sequence[PartJob],
    finals: Sequence[Path],
    tick: Tick,
    what: str,
    *,
    also: Sequence[Path] = (),
    before_commit: Callable[[], None] = lambda: None,
    meanwhile: Callable[[], None] = lambda: None,
) -> tuple[int, ...]:
    """Run `writer` on every job (in worker processes when there are several), join the parts
    into each final's ``.partial`` and fsync it, call `before_commit` (a last chance to cancel),
    then rename every ``.partial`` of `finals` and of `also` (files completed and fsynced as
    ``.partial`` by the caller, or by a run: `PartJob.also`) into place, one after the other.
    Returns the summed counts.

    Any failure raises with no part or partial file left and no final file changed: a worker's
    expected error (storage, export, file) as `ExportError` naming `what`, a changed database as
    `SnapshotChanged`, a damaged one as `DatabaseCorrupt` (its one line), anything else (a bug)
    as `RuntimeError` with the worker's traceback; an exception raised by `tick` or
    `before_commit` (a cancelled export) propagates as it is.

    `meanwhile` is work of this process (e.g. writing the files of `also`), done while the
    workers run, once they are started (in one process: before `writer`); what it raises stops
    the workers and propagates.
    """
    partials = [partial_path(f) for f in (*finals, *also)]
    committing = False
    joiner = PartJoiner([job.files for job in jobs])
    try:
        if len(jobs) == 1:
            meanwhile()
            results = [writer(jobs[0], tick, _said(joiner.opened, joiner.written))]
        else:
            results = _run_workers(writer, jobs, tick, what, meanwhile, joiner)
        joiner.finish()
        before_commit()
        for final in (*finals, *also):
            files.check_target(final)
        committing = True
        replace_set(list(zip(partials, (*finals, *also), strict=True)))
    finally:
        joiner.close()
        for job in jobs:
            for path in job.files:
                path.unlink(missing_ok=True)
        if not committing or not (finals[0].parent / SET_JOURNAL).exists():
            for path in partials:  # a set half renamed keeps them: the journal finishes it
                path.unlink(missing_ok=True)
    return tuple(sum(column) for column in zip(*results, strict=True))


def _said(
    opened: Callable[[int, list[Identity]], None], written: Callable[[int, list[Identity]], None]
) -> Written:
    """The `Written` of the one run written in the caller's process (run 0)."""

    def said(*parts: IO[Any], complete: bool = True) -> None:
        (written if complete else opened)(0, identities(parts))

    return said


def _run_workers(
    writer: PartWriter,
    jobs: Sequence[PartJob],
    tick: Tick,
    what: str,
    meanwhile: Callable[[], None],
    joiner: PartJoiner,
) -> list[tuple[int, ...]]:
    """Start a worker per job, do `meanwhile`, relay the workers' progress to `tick`, append
    the parts to `joiner` as the workers complete them, collect the results in job order."""
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    stop: Any = context.Event()  # set when the export fails: the workers end on their own
    workers = [
        context.Process(target=_work, args=(writer, job, messages, stop), daemon=True)
        for job in jobs
    ]
    started: list[multiprocessing.process.BaseProcess] = []
    done = [0] * len(jobs)
    results: dict[int, tuple[int, ...]] = {}

    def handle(message: tuple[Any, ...]) -> None:
        kind, index = message[0], message[1]
        if kind == "tick":
            done[index] = message[2]
            tick(sum(done), message[3])
        elif kind in ("opened", "written"):
            (joiner.opened if kind == "opened" else joiner.written)(index, message[2])
        elif kind == "done":
            results[index] = message[2]
        elif kind == "changed":
            raise SnapshotChanged(message[2])
        elif kind == "corrupt":
            raise DatabaseCorrupt(message[2])
        elif kind == "expected":
            raise ExportError(f"{what}: {message[2]}")
        else:
            raise RuntimeError(f"{what}: worker {index + 1} failed:\n{message[2]}")

    def check_alive() -> None:
        stopped = [k for k, w in enumerate(workers) if k not in results and not w.is_alive()]
        if not stopped:
            return
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

    try:
        with _interrupts_held():
            for worker in workers:
                worker.start()
                started.append(worker)
        meanwhile()
        checked = joined = time.monotonic()
        while len(results) < len(jobs):
            try:
                message = messages.get(timeout=_LIVENESS_SECONDS)
            except queue.Empty:
                message = None
            if message is not None:
                handle(message)
            if time.monotonic() - joined >= _JOIN_SECONDS:
                joiner.step()  # the parts complete so far allow: appended while they write
                joined = time.monotonic()
            if time.monotonic() - checked >= _LIVENESS_SECONDS:
                # also while the others keep reporting: a dead worker would never report again
                check_alive()
                checked = time.monotonic()
        return [results[k] for k in range(len(jobs))]
    finally:
        _end_workers(started, messages, stop)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM held back while the workers are started: each starts with
    them blocked, and so never takes the Ctrl-C a terminal sends to the whole process group (it
    would end in a KeyboardInterrupt traceback on the command's stderr, in the middle of its
    imports); this process takes them once the workers are known (not in the middle of sending
    a worker what it is to run: it would end in an EOFError traceback), and stops them
    (`_end_workers`). A worker takes SIGTERM again as its work starts (`_work`)."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:  # pragma: no cover - Windows: no process group takes a Ctrl-C this way
        yield
        return
    held = block(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, held)


def _end_workers(started: Sequence[Any], messages: Any, stop: Any) -> None:
    """Let every worker end on its own, within `_ENDING_SECONDS`, then stop those still running.

    The workers that reported their result are ending already; the others (an export that failed
    or was cancelled) see `stop` at their next tick, remove their part files and return. Either
    way a worker ends through its exit handlers, never interrupted in the middle of them by a
    signal (which, under a coverage run, printed a second save's traceback). The queue is read
    meanwhile, so that no worker waits on a full pipe to flush its last messages."""
    stop.set()
    deadline = time.monotonic() + _ENDING_SECONDS
    while any(p.is_alive() for p in started) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            messages.get(timeout=0.05)
    for process in started:
        if process.is_alive():
            process.terminate()
    for process in started:
        process.join()
    messages.close()
    messages.join_thread()


# How long the workers are given to end on their own, once the export is done or has failed.
_ENDING_SECONDS = 5.0


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _work(writer: PartWriter, job: PartJob, messages: Any, stop: Any) -> None:
    """A worker process: write the job's part files, report progress and the result; stop
    early, quietly, when the export's process is gone or has set `stop`."""
    if hasattr(signal, "pthread_sigmask"):  # held while it was started: `terminate` ends it
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    parent = multiprocessing.parent_process()

    def over() -> bool:
        return stop.is_set() or (parent is not None and not parent.is_alive())

    try:
        last = -20

        def tick(subjects: int, code: str) -> None:
            nonlocal last
            if subjects - last >= 20:  # a message per 20 subjects is plenty for a progress bar
                last = subjects
                if over():
                    raise SystemExit("the export is over")
                messages.put(("tick", job.index, subjects, code))

        def written(*parts: IO[Any], complete: bool = True) -> None:
            messages.put(("written" if complete else "opened", job.index, identities(parts)))

        counts = writer(job, tick, written)
        if over():
            raise SystemExit("the export is over")
        messages.put(("done", job.index, counts))
    except BaseException as exc:  # reported to the parent, which decides what it means
        for path in (*job.files, *map(partial_path, job.also)):
            # (held open by the parent's join, a file cannot be removed on Windows: the parent
            # removes it once it has closed it)
            with contextlib.suppress(OSError):
                path.unlink()
        if over():
            messages.cancel_join_thread()  # nobody reads the queue: exit without flushing it
            return
        if isinstance(exc, SnapshotChanged):
            messages.put(("changed", job.index, str(exc)))
        elif isinstance(exc, DatabaseCorrupt):
            messages.put(("corrupt", job.index, str(exc)))
        elif isinstance(exc, OSError) and exc.strerror:  # a full disk: the folder and why
            where = exc.filename or job.files[0].parent
            messages.put(("expected", job.index, f"{where}: {exc.strerror}"))
        elif isinstance(exc, StorageError | ExportError | OSError):
            messages.put(("expected", job.index, str(exc) or type(exc).__name__))
        else:
            messages.put(("bug", job.index, traceback.format_exc()))
