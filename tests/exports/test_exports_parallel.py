"""Exports written by several worker processes: the same bytes as one process, nothing left
behind when a worker dies or the export is cancelled, and one consistent view of the database."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports import csv_export
from respine_desktop.exports.csv_export import _write_part, export_csv
from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.subject_parts import (
    MIN_SUBJECTS_PER_WORKER,
    PartJob,
    default_workers,
    part_files,
    write_parts,
)
from respine_desktop.storage.export_reads import (
    count_subject_records,
    iter_subject_records,
    subject_ranges,
)
from respine_desktop.study import load_study
from tests.support.exports import (
    TODAY,
    conflicted_hub,
    controlled_clock,
    demo_db,
    hub_and_kiosks,
    scenario_db,
)
from tests.support.part_writers import (
    buggy_writer,
    endless_writer,
    failing_beside_endless_writer,
    first_file_writer,
    jobs,
    stalling_writer,
    two_file_writer,
)
from tests.support.processes import process_ended
from tests.support.storage import coord

CSV_FILES = ("answers_long.csv", "visits_wide.csv", "codebook.csv", "audit_trail.csv")


def csv_bytes(db_path: Path, out: Path, workers: int) -> dict[str, bytes]:
    with controlled_clock(), storage.open_database(db_path, readonly=True) as db:
        result = export_csv(db, out, workers=workers)
    assert sorted(p.name for p in out.iterdir()) == sorted(CSV_FILES)  # no part file left
    assert result.subjects == len({line.split(b",")[0] for line in lines(out)}) - 1
    return {name: (out / name).read_bytes() for name in CSV_FILES}


def lines(out: Path) -> list[bytes]:
    return (out / "visits_wide.csv").read_bytes().splitlines()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "demo.db"
    demo_db(path, subjects=24, seed=7)
    return path


def test_workers_write_the_same_bytes_as_one_process(demo: Path, tmp_path: Path) -> None:
    one = csv_bytes(demo, tmp_path / "one", workers=1)
    assert one["answers_long.csv"].count(b"\r\n") > 24 * 100  # a real study, not a stub
    for workers in (2, 3, 7):
        assert csv_bytes(demo, tmp_path / f"w{workers}", workers=workers) == one


def test_corrections_skips_and_kiosk_conflicts_survive_the_split(tmp_path: Path) -> None:
    scenario_db(tmp_path / "scenario.db")
    assert csv_bytes(tmp_path / "scenario.db", tmp_path / "s1", workers=1) == csv_bytes(
        tmp_path / "scenario.db", tmp_path / "s3", workers=3
    )
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        conflicted_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            storage.register_subject(db, "RSP-01-031", day0=TODAY, staff=coord(db))
    one = csv_bytes(hub, tmp_path / "h1", workers=1)
    assert b"conflict" in one["visits_wide.csv"]
    assert csv_bytes(hub, tmp_path / "h2", workers=2) == one


def _walked(db: storage.StudyDb, runs: list[tuple[str, str | None]], every: list[str]) -> list[int]:
    """How many subjects each run holds, once the runs are shown to walk `every` subject once,
    in order."""
    walked = [
        r.subject.code
        for after, through in runs
        for r in iter_subject_records(db, history=False, after=after, through=through)
    ]
    assert walked == every
    return [count_subject_records(db, after=a, through=t) for a, t in runs]


def test_subject_ranges_cover_every_subject_once_in_order(demo: Path) -> None:
    with storage.open_database(demo, readonly=True) as db:
        every = [r.subject.code for r in iter_subject_records(db, history=False)]
        for parts in (1, 2, 5, 24, 100):
            runs = subject_ranges(db, parts)
            assert len(runs) == min(parts, 24)
            sizes = _walked(db, runs, every)
            assert max(sizes) - min(sizes) <= 1


def test_each_range_can_hold_a_share_of_the_subjects(demo: Path) -> None:
    """(The CSV export's first worker writes the audit trail after its subjects, its last checks
    the file first: both get fewer subjects.)"""
    with storage.open_database(demo, readonly=True) as db:
        every = [r.subject.code for r in iter_subject_records(db, history=False)]
        total = len(every)
        cases: list[tuple[float, ...]] = [
            (0.55, 0.45),
            (0.3, 0.5, 0.2),
            (0.25, 0.25, 0.25, 0.25, 0.0),  # a run with no share still gets one subject
            (0.0, 2.0),  # (weights: not fractions)
            (1.0, 0.0),
            (0.5,) * 24,
        ]
        for shares in cases:
            parts = len(shares)
            runs = subject_ranges(db, parts, shares)
            assert len(runs) == min(parts, total)
            sizes = _walked(db, runs, every)
            assert min(sizes) >= 1
            if parts < total:
                for size, share in zip(sizes, shares, strict=True):
                    assert abs(size - total * share / sum(shares)) <= parts
        # shares of another length than the runs (fewer subjects than parts) are not used
        runs = subject_ranges(db, total + 5, [1.0] * (total + 5))
        assert _walked(db, runs, every) == [1] * total


def test_the_first_run_gives_way_to_the_audit_trail_and_the_last_to_the_check(
    demo: Path,
) -> None:
    """`_shares`: each worker about as much to do: the first writes the audit trail after its
    subjects, the last checks a file opened without its check first; the others neither."""
    with storage.open_database(demo, readonly=True, check=False) as db:
        total = count_subject_records(db)
        entries = storage.counts(db).audit_entries
        a = csv_export._AUDIT_COST * entries / total
        c = csv_export._CHECK_COST * demo.stat().st_size / 4096 / total
        shares = csv_export._shares(db, 4, total)
        each = (1 + a + c) / 4
        assert shares == pytest.approx([each - a, each, each, each - c])
        assert sum(shares) == pytest.approx(1)
        db.checked = True  # checked at open: the last run does no more than the middle ones
        shares = csv_export._shares(db, 2, total)
        assert shares == pytest.approx([(1 + a) / 2 - a, (1 + a) / 2])
        # other work counted at most as half the rows': a tiny study's first run still has some
        first, last = csv_export._shares(db, 2, 1)
        assert 0 < first < last and first + last == pytest.approx(1)


def test_worker_count_follows_cores_and_study_size() -> None:
    assert default_workers(10) == 1  # a small study is not worth starting a process
    big = default_workers(100 * MIN_SUBJECTS_PER_WORKER)
    assert 1 <= big <= min(4, os.cpu_count() or 1)
    assert default_workers(2 * MIN_SUBJECTS_PER_WORKER) <= 2


def test_a_killed_worker_fails_the_export_and_leaves_no_file(tmp_path: Path) -> None:
    final = tmp_path / "answers_long.csv"
    final.write_bytes(b"an earlier export\r\n")
    killed: list[int] = []

    def tick(done: int, code: str) -> None:
        # Kill a worker when one reports: it dies mid-run, as on a crash.
        for victim in multiprocessing.active_children():
            if not killed and victim.pid is not None:
                os.kill(victim.pid, signal.SIGKILL)
                killed.append(victim.pid)

    with pytest.raises(
        ExportError, match=r"^CSV export: worker [12] of 2 stopped \(killed by signal 9\)"
    ):
        write_parts(stalling_writer, jobs(tmp_path, final, 2), [final], tick, "CSV export")
    assert killed
    assert [p.name for p in tmp_path.iterdir()] == ["answers_long.csv"]  # no part file left
    assert final.read_bytes() == b"an earlier export\r\n"  # the earlier export is untouched
    assert multiprocessing.active_children() == []  # the other worker was stopped too


def test_an_error_in_a_worker_is_reported_with_its_message(demo: Path, tmp_path: Path) -> None:
    with controlled_clock(), storage.open_database(demo, readonly=True) as db:
        db.path = tmp_path / "gone.db"  # the workers cannot open it
        with pytest.raises(ExportError, match=r"^CSV export: .*gone\.db: no such database file"):
            export_csv(db, tmp_path / "out", workers=2)
    assert not (tmp_path / "out").exists()  # nothing written, not even the folder it made


def test_when_one_worker_fails_the_others_end_on_their_own(tmp_path: Path) -> None:
    """The other workers see that the export is over and end through their exit handlers, not
    by a signal that could interrupt them there (under a coverage run, its exit handler's save
    was cut by the SIGTERM handler's, a traceback on the command's stderr)."""
    final = tmp_path / "out.txt"
    os.mkfifo(tmp_path / "ready")  # run 1 tells run 0 through it that it is writing
    with pytest.raises(ExportError, match=r"^test: run 0 failed$"):
        runs = jobs(tmp_path, final, 2)
        write_parts(failing_beside_endless_writer, runs, [final], lambda *_: None, "test")
    assert multiprocessing.active_children() == []
    assert [p.name for p in tmp_path.iterdir()] == ["ended"]  # and no part file left
    assert (tmp_path / "ended").read_text() == "run 1"


def test_workers_of_a_killed_export_stop_and_remove_their_parts(tmp_path: Path) -> None:
    """Crash test: the export's own process is killed; its workers notice, remove their part
    files and exit instead of writing on for nobody."""
    parent = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parents[1] / "support" / "part_writers.py"),
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    workers: dict[str, int] = {}
    try:
        assert parent.stdout is not None
        while len(workers) < 2:  # each worker has opened its part file and reported
            line = parent.stdout.readline()
            assert line, "the export process ended before both workers reported"
            run, pid = line.strip().split(":")
            workers[run] = int(pid)
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "out.txt.part1.partial",
            "out.txt.partial",
        ]
    finally:
        parent.kill()
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()
    for pid in workers.values():
        assert process_ended(pid, within=60), f"worker {pid} goes on without its parent"
    assert list(tmp_path.iterdir()) == []  # each removed its part file before it ended


class Cancelled(Exception):
    pass


def test_a_cancelled_export_stops_the_workers_and_leaves_no_file(tmp_path: Path) -> None:
    final = tmp_path / "answers_long.csv"
    final.write_bytes(b"an earlier export\r\n")
    pids: list[int] = []

    def tick(done: int, code: str) -> None:
        pids.append(int(code.split(":")[1]))  # the endless writer reports its process id
        raise Cancelled

    with pytest.raises(Cancelled):
        write_parts(endless_writer, jobs(tmp_path, final, 2), [final], tick, "CSV export")
    assert pids
    for pid in pids:  # ended (and reaped), not left writing on for nobody
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["answers_long.csv"]
    assert final.read_bytes() == b"an earlier export\r\n"


def test_a_cancel_after_the_last_subject_still_replaces_nothing(demo: Path, tmp_path: Path) -> None:
    """The last chance to cancel is just before the files are renamed: then nothing changes."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "visits_wide.csv").write_bytes(b"an earlier export\r\n")

    def progress(fraction: float, message: str) -> None:
        if "replacing the files" in message:
            raise Cancelled

    for workers in (1, 2):
        with (
            controlled_clock(),
            storage.open_database(demo, readonly=True) as db,
            pytest.raises(Cancelled),
        ):
            export_csv(db, out, workers=workers, progress=progress)
        assert [p.name for p in out.iterdir()] == ["visits_wide.csv"]
        assert (out / "visits_wide.csv").read_bytes() == b"an earlier export\r\n"


def test_files_replace_earlier_ones_only_once_every_file_is_complete(tmp_path: Path) -> None:
    """Run 1 lost its second part: joining it fails, and neither file is replaced, not even
    the first one, whose parts were all there."""
    finals = [tmp_path / "answers_long.csv", tmp_path / "visits_wide.csv"]
    for f in finals:
        f.write_bytes(b"an earlier export\r\n")
    runs = [
        PartJob(k, tmp_path / "none.db", load_study(), TODAY, "", None, files)
        for k, files in enumerate(part_files(finals, 2))
    ]
    with pytest.raises(FileNotFoundError, match=r"visits_wide\.csv\.part1\.partial"):
        write_parts(first_file_writer, runs, finals, lambda *_: None, "CSV export")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers_long.csv", "visits_wide.csv"]
    assert all(f.read_bytes() == b"an earlier export\r\n" for f in finals)
    write_parts(two_file_writer, runs, finals, lambda *_: None, "CSV export")
    assert finals[1].read_bytes() == b"file 1 run 0\r\nfile 1 run 1\r\n"


def test_a_worker_that_dies_while_another_reports_is_noticed(tmp_path: Path) -> None:
    final = tmp_path / "out.txt"
    reports: list[int] = []
    give_up = time.monotonic() + 120

    def tick(done: int, code: str) -> None:
        reports.append(done)
        if len(reports) == 1:
            victim = multiprocessing.active_children()[0]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
        # The survivor reports for ever: without a liveness check between its reports the
        # export would never end. Fail instead of hanging.
        assert time.monotonic() < give_up, "the killed worker was not noticed"

    with pytest.raises(ExportError, match=r"stopped \(killed by signal 9\)"):
        write_parts(endless_writer, jobs(tmp_path, final, 2), [final], tick, "test")
    assert list(tmp_path.iterdir()) == []


def test_a_bug_in_a_worker_is_raised_with_its_traceback(tmp_path: Path) -> None:
    final = tmp_path / "out.txt"
    with pytest.raises(RuntimeError, match=r"(?s)worker \d failed:.*KeyError: 'missing key'"):
        write_parts(buggy_writer, jobs(tmp_path, final, 2), [final], lambda *_: None, "test")
    assert list(tmp_path.iterdir()) == []


def test_a_worker_whose_snapshot_differs_from_the_callers_is_refused(
    tmp_path: Path,
) -> None:
    """The runs must read one state: a write between the caller's snapshot and a worker's
    makes the run fail with SnapshotChanged (export_csv then writes in one process)."""
    scenario_db(tmp_path / "study.db")
    with storage.open_database(tmp_path / "study.db") as db, controlled_clock():
        with storage.read_snapshot(db):
            stamp = storage.state_stamp(db)
        storage.register_subject(db, "RSP-01-098", day0=TODAY, staff=coord(db))
        finals = [tmp_path / "out" / "answers_long.csv", tmp_path / "out" / "visits_wide.csv"]
        finals[0].parent.mkdir()
        runs = subject_ranges(db, 2)
        stale = [
            PartJob(k, db.path, db.study, TODAY, after, through, files, stamp)
            for k, ((after, through), files) in enumerate(
                zip(runs, part_files(finals, 2), strict=True)
            )
        ]
        with pytest.raises(storage.SnapshotChanged, match="changed while it was being read"):
            write_parts(_write_part, stale, finals, lambda *_: None, "CSV export")
        assert list(finals[0].parent.iterdir()) == []
        fresh = [replace(job, stamp=storage.state_stamp(db)) for job in stale]
        assert write_parts(_write_part, fresh, finals, lambda *_: None, "CSV export")[0] == 4


def test_progress_reaches_the_end_across_workers(demo: Path, tmp_path: Path) -> None:
    calls: list[tuple[float, str]] = []
    with controlled_clock(), storage.open_database(demo, readonly=True) as db:
        exports.export_csv(db, tmp_path, workers=2, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 2
    assert "24 subjects" in calls[-1][1]


def test_a_snapshot_does_not_see_what_is_written_meanwhile(tmp_path: Path) -> None:
    scenario_db(tmp_path / "study.db")
    with (
        storage.open_database(tmp_path / "study.db", readonly=True) as reader,
        storage.open_database(tmp_path / "study.db") as writer,
    ):
        with storage.read_snapshot(reader):
            before = count_subject_records(reader)
            with controlled_clock():
                storage.register_subject(writer, "RSP-01-099", day0=TODAY, staff=coord(writer))
            assert count_subject_records(reader) == before
            assert [r.subject.code for r in iter_subject_records(reader)][-1] != "RSP-01-099"
        assert count_subject_records(reader) == before + 1


def test_nothing_can_be_written_inside_a_snapshot(tmp_path: Path) -> None:
    scenario_db(tmp_path / "study.db")
    with storage.open_database(tmp_path / "study.db") as db, controlled_clock():
        before = count_subject_records(db)
        with storage.read_snapshot(db), pytest.raises(storage.WriteFailed):
            storage.register_subject(db, "RSP-01-097", day0=TODAY, staff=coord(db))
        assert count_subject_records(db) == before
        storage.register_subject(db, "RSP-01-097", day0=TODAY, staff=coord(db))  # after: yes
        assert count_subject_records(db) == before + 1
    with storage.open_database(tmp_path / "study.db", readonly=True) as reader:
        with storage.read_snapshot(reader):
            pass
        # a read-only connection stays read-only after a snapshot
        assert reader.conn.execute("PRAGMA query_only").fetchone()[0] == 1
