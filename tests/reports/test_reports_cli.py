"""`python main.py report patient|study`: real PDFs through the launcher, exit codes 0 and 2 with
one stderr line naming what is wrong, progress lines on stderr, nothing half-written."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import _schema as schema
from tests.support.cli import signed_in
from tests.support.reports import (
    PYTHON,
    ROOT,
    TODAY,
    StudyPlan,
    build_study,
    env,
    fixed_clock,
    new_db,
    pdf_pages,
    pdf_text,
)
from tests.support.storage import old_schema_db


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, StudyPlan]]:
    path = tmp_path_factory.mktemp("cli") / "study.db"
    with fixed_clock():
        db = new_db(path)
        plan = build_study(db, n=8, seed=11)
        db.close()
    yield path, plan


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    argv, pin = signed_in(["report", *args])
    return subprocess.run(
        [PYTHON, "main.py", *argv],
        input=pin,
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_patient_report(study, tmp_path: Path) -> None:
    db, plan = study
    out = tmp_path / "patient.pdf"
    done = _run("patient", "--db", db, "--subject", plan.subjects[0], "--out", out, "--on", TODAY)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"wrote {out} (")
    text = pdf_text(out)
    assert f"Subject {plan.subjects[0]}" in text
    assert f"Data cut-off {TODAY.isoformat()}" in text
    with storage.open_database(db, readonly=True) as opened:
        entries = storage.audit_entries(opened)
    # The report's head is the chain's before the command's own audit entry, which names the PDF.
    assert entries[-1].action == "command.run" and entries[-2].action == "login.succeeded"
    written = entries[-1].payload["files"]
    assert written == [
        {
            "path": str(out),
            "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
            "bytes": out.stat().st_size,
        }
    ]
    head = done.stdout.split("audit chain head ")[-1].split()[0].rstrip(")")
    assert all(f"Audit chain head: {head}" in page for page in pdf_pages(out))


def test_study_report_with_arms_prints_progress(study, tmp_path: Path) -> None:
    db, plan = study
    arms = tmp_path / "arms.csv"
    arms.write_text(
        "subject_id,arm\n"
        + "".join(f"{c},{'A' if i % 2 else 'B'}\n" for i, c in enumerate(plan.subjects)),
        encoding="utf-8",
    )
    out = tmp_path / "study.pdf"
    done = _run("study", "--db", db, "--out", out, "--arms", arms, "--on", TODAY)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("report:   0% ")
    assert lines[-1].startswith("report: 100% done")
    assert all(line.startswith("report: ") for line in lines)
    text = pdf_text(out)
    assert "Responder rate at M12 (A):" in text and "Responder rate at M12 (B):" in text
    assert f"Subjects registered by {TODAY.isoformat()}: {len(plan.subjects)}" in text


def _arms(path: Path, codes: list[str]) -> Path:
    path.write_text("subject_id,arm\n" + "".join(f"{c},A\n" for c in codes), "utf-8")
    return path


def test_arms_file_must_list_every_subject_exactly_once(study, tmp_path: Path) -> None:
    db, plan = study
    out = tmp_path / "study.pdf"
    unknown = [f"RSP-02-{n:03d}" for n in range(1, 9)]
    cases = [
        (
            plan.subjects[1:],
            f"error: arms file a0.csv: every subject must be listed exactly once: "
            f"1 subject(s) missing from the file ({plan.subjects[0]})",
        ),
        (
            plan.subjects + unknown,
            "error: arms file a1.csv: every subject must be listed exactly once: 8 subject(s) "
            "not in the database (RSP-02-001, RSP-02-002, RSP-02-003, RSP-02-004, RSP-02-005 "
            "and 3 more)",
        ),
        (
            unknown[:1],
            "error: arms file a2.csv: every subject must be listed exactly once: 1 subject(s) not "
            f"in the database (RSP-02-001); {len(plan.subjects)} subject(s) missing from the file",
        ),
    ]
    for n, (codes, message) in enumerate(cases):
        arms = _arms(tmp_path / f"a{n}.csv", codes)
        done = _run("study", "--db", db, "--out", out, "--arms", arms, "--on", TODAY)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(message), done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("patient", "--subject", "RSP-01-999"), "error: unknown subject 'RSP-01-999'"),
        (("patient", "--subject", "Smith"), "error: unknown subject 'Smith'"),
        (
            ("study", "--arms", "{tmp}/missing.csv"),
            "error: arms file {tmp}/missing.csv: cannot read",
        ),
        (("study", "--arms", "{tmp}/bad.csv"), "error: bad.csv line 3: expected 2 columns"),
    ],
)
def test_bad_subject_or_arms_exit_2_with_one_line(
    study, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    db, _ = study
    (tmp_path / "bad.csv").write_text("subject_id,arm\nRSP-01-001,A\nRSP-01-002\n", "utf-8")
    out = tmp_path / "out.pdf"
    argv = [a.format(tmp=tmp_path) for a in args]
    done = _run(*argv, "--db", db, "--out", out)
    assert done.returncode == 2
    assert done.stderr.startswith(message.format(tmp=tmp_path))
    assert len(done.stderr.splitlines()) == 1
    assert not out.exists()


def test_bad_database_or_output_exit_2(study, tmp_path: Path) -> None:
    db, plan = study
    not_db = tmp_path / "notes.db"
    not_db.write_text("hello", "utf-8")
    cases = [
        (tmp_path / "missing.db", tmp_path / "a.pdf", "no such database file"),
        (not_db, tmp_path / "a.pdf", "not a RESPINE database"),
        (db, tmp_path / "nodir" / "a.pdf", "no such directory"),
        (db, tmp_path, "is a directory"),
    ]
    for path, out, message in cases:
        for kind in (("patient", "--subject", plan.subjects[0]), ("study",)):
            done = _run(*kind, "--db", path, "--out", out)
            assert done.returncode == 2, (kind, done.stderr)
            assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
            assert len(done.stderr.splitlines()) == 1
            assert "Traceback" not in done.stderr


def test_usage_errors_and_help(tmp_path: Path) -> None:
    done = _run()
    assert done.returncode == 2
    done = _run("study", "--db", tmp_path / "x.db")
    assert done.returncode == 2 and "--out" in done.stderr
    done = _run(
        "patient",
        "--db",
        tmp_path / "x.db",
        "--out",
        tmp_path / "x.pdf",
        "--subject",
        "X",
        "--on",
        "yesterday",
    )
    assert done.returncode == 2 and "not a date" in done.stderr
    for kind in ((), ("patient",), ("study",)):
        done = _run(*kind, "--help")
        assert done.returncode == 0
    assert "subject_id,arm" in _run("--help").stdout


def test_an_older_schema_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Reports open read-only, so an older schema is not upgraded: say so, exit 2."""
    path = old_schema_db(tmp_path / "old.db")
    done = _run("patient", "--db", path, "--subject", "RSP-01-001", "--out", tmp_path / "a.pdf")
    assert done.returncode == 2, done.stderr
    pending = len(schema.migration_names()) - 1  # every migration after 0001
    assert done.stderr.startswith(
        f"error: {path}: written by an older version ({pending} schema upgrade"
    )
    assert "open it once with the application" in done.stderr
    assert len(done.stderr.splitlines()) == 1
