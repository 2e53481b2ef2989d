"""A CSV export with 2 worker processes interrupted as a terminal or a service manager does it:
Ctrl-C to the whole process group, SIGTERM to the command alone. One line on stderr, exit 130,
no part or partial file left, no worker left running, the earlier files as they were."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import ROOT, env, signed_in
from tests.support.exports import demo_db
from tests.support.processes import process_ended

SIGINT_BIT = 1 << (signal.SIGINT - 1)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("interrupted") / "demo.db"
    demo_db(path, subjects=24, seed=5)
    return path


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def export(db: Path, out: Path, *, measured: bool = True) -> subprocess.Popen[str]:
    """The export started in its own process group; not `measured`: without the coverage a test
    run gives its child processes (its data file written at their exit, which a file size limit
    set on them would refuse: a traceback of coverage's own on their stderr)."""
    argv, pin = signed_in(["export", "csv", "--workers", "2", "--db", str(db), "--out", str(out)])
    environment = env()
    if not measured:
        for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
            environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *argv],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    assert process.stdin is not None
    process.stdin.write(pin or "")
    process.stdin.flush()
    return process


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def running_workers(process: subprocess.Popen[str]) -> list[int]:
    """The spawned workers of `process` that run Python: its SIGINT handler installed or the
    signal blocked (until then a signal would end the worker before any of its code runs)."""
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in map(int, children):
        try:
            if b"spawn_main" not in Path(f"/proc/{child}/cmdline").read_bytes():
                continue
        except OSError:
            continue
        status = _status(child)
        masks = int(status.get("SigCgt", "0"), 16) | int(status.get("SigBlk", "0"), 16)
        if masks & SIGINT_BIT:
            found.append(child)
    return found


def two_workers(process: subprocess.Popen[str]) -> list[int]:
    """The export's two workers, once both run Python. Their start has no event this test can
    wait on, so /proc is read again after each short wait on the command's own end (which,
    came it first, fails the test at once)."""
    deadline = time.monotonic() + 120  # a guard against a hang, not a measure
    while len(workers := running_workers(process)) < 2:
        assert time.monotonic() < deadline, "the export's workers did not start"
        try:
            process.wait(timeout=0.005)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the export ended before its workers ran: {process.communicate()}")
    return workers


def interrupted(db: Path, out: Path, sig: signal.Signals, *, group: bool) -> None:
    before = snapshot(out)
    process = export(db, out)
    workers = two_workers(process)
    if group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode in (2, 130), stderr
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("export csv: ")]
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert stdout == ""
    for worker in workers:  # each ends on its own: told, or its parent gone
        assert process_ended(worker, within=120), f"worker {worker} goes on"
    assert snapshot(out) == before  # no part or partial file, the earlier files unchanged


@pytest.mark.parametrize(
    ("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)]
)
def test_an_interrupted_export_ends_in_one_line_and_leaves_the_folder_as_it_was(
    study: Path, tmp_path: Path, sig: signal.Signals, group: bool
) -> None:
    out = tmp_path / "csv"
    first = export(study, out)
    assert first.communicate(timeout=300) and first.returncode == 0
    interrupted(study, out, sig, group=group)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_once_the_work_is_done_changes_nothing(
    study: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C just after a report said it wrote its file (as its audit entry is written, or as
    the process exits): the command ends as it did, exit 0, audited (it said 'interrupted' with
    the file written, or was killed by the signal with no word, its audit entry missing)."""
    db = tmp_path / "study.db"
    shutil.copy(study, db)
    out = tmp_path / "r.pdf"
    argv, pin = signed_in(["report", "study", "--db", str(db), "--out", str(out)])
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *argv],
        cwd=ROOT,
        env={**env(), "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(pin or "")
    process.stdin.flush()
    line = process.stdout.readline()  # the command's last word: its work is done
    assert "wrote" in line, process.communicate()
    os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "interrupted" not in stderr and "Traceback" not in stderr
    conn = sqlite3.connect(db)
    (payload,) = conn.execute(
        "SELECT payload FROM audit_log WHERE action = 'command.run' ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    conn.close()
    assert '"files":[{' in payload.replace(" ", "") and f"{out}" in payload  # its file, audited


def test_a_worker_that_cannot_write_is_named_in_one_line(study: Path, tmp_path: Path) -> None:
    """A worker's write refused by the system (here its file size limit, as a full disk would):
    one line naming the folder and the reason, not Python's '[Errno 27] ...'; nothing left."""
    import resource

    out = tmp_path / "csv"
    process = export(study, out, measured=False)  # (the limit would refuse coverage's file too)
    for worker in two_workers(process):
        resource.prlimit(worker, resource.RLIMIT_FSIZE, (4096, 4096))
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("export csv: ")]
    assert len(lines) == 1 and f"{out}: File too large" in lines[0], stderr
    assert "Errno" not in stderr and "Traceback" not in stderr
    assert not out.exists()


def _hub_and_bundle(tmp_path: Path, code: str) -> Path:
    """A hub and a kiosk's bundle (tmp_path / "k.bundle") of one subject's M0 visit."""
    from datetime import timedelta

    from respine_desktop import storage
    from tests.support.exports import TODAY, do_visit, export, hub_and_kiosks
    from tests.support.storage import coord

    with hub_and_kiosks(tmp_path) as (hub, kiosk, _, clock):
        day0 = TODAY - timedelta(days=10)
        with storage.open_database(kiosk) as db:
            storage.register_subject(db, code, day0=day0, staff=coord(db))
            do_visit(db, clock, code, "M0", day0, vas=40, odi=2, sf36=1)
        export(kiosk, tmp_path / "k.bundle")
    return Path(hub)


def test_a_ctrl_c_once_the_import_has_committed_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that comes once the merge has committed (here: sent by the checkpoint that follows
    the commit) is ignored: the import ends as it did, exit 0, the bundle merged, instead of
    saying 'interrupted' with the bundle in."""
    from respine_desktop import cli, storage
    from respine_desktop.storage import bundle_merge

    hub = _hub_and_bundle(tmp_path, "RSP-01-050")
    checkpoint = bundle_merge._checkpoint

    def ctrl_c_after_the_commit(db: storage.StudyDb) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        checkpoint(db)

    monkeypatch.setattr(bundle_merge, "_checkpoint", ctrl_c_after_the_commit)
    argv, pin = signed_in(["import", "bundle", "--db", hub, tmp_path / "k.bundle"])
    monkeypatch.setattr("sys.stdin", io.StringIO(pin or ""))
    assert cli.run(argv) == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored after
    with storage.open_database(hub, readonly=True) as db:
        assert db.conn.execute("SELECT count(*) FROM subjects").fetchone()[0] == 1


def test_a_ctrl_c_between_the_commit_and_its_report_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that comes right as the merge's transaction commits, before the command is told
    (review13's window): held back from the commit until the command knows the merge is in,
    then ignored; exit 0, the bundle merged."""
    import contextlib
    from collections.abc import Iterator

    from respine_desktop import cli, storage
    from respine_desktop.storage import bundle_merge

    hub = _hub_and_bundle(tmp_path, "RSP-01-051")
    transaction = bundle_merge.transaction

    @contextlib.contextmanager
    def ctrl_c_once_committed(db: storage.StudyDb) -> Iterator[None]:
        with transaction(db):
            yield
        os.kill(os.getpid(), signal.SIGINT)  # committed, the command not told yet

    monkeypatch.setattr(bundle_merge, "transaction", ctrl_c_once_committed)
    argv, pin = signed_in(["import", "bundle", "--db", hub, tmp_path / "k.bundle"])
    monkeypatch.setattr("sys.stdin", io.StringIO(pin or ""))
    on_sigterm = signal.getsignal(signal.SIGTERM)  # (coverage's own, when measured)
    assert cli.run(argv) == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored after
    assert signal.getsignal(signal.SIGTERM) is on_sigterm  # as before the command
    with storage.open_database(hub, readonly=True) as db:
        assert db.conn.execute("SELECT count(*) FROM subjects").fetchone()[0] == 1
