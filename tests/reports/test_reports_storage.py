"""The storage reads the reports rely on: the audit-chain head, the streaming study scores and
the visit status counts agree with the per-subject storage API."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import scoring, storage
from respine_desktop.storage import StudyDb
from tests.support.reports import PYTHON, ROOT, TODAY, build_study, env, fixed_clock, new_db


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudyDb]:
    path = tmp_path_factory.mktemp("storage") / "study.db"
    with fixed_clock():
        db = new_db(path)
        build_study(db, n=10, seed=3)
    yield db
    db.close()


def test_chain_head_is_the_device_head_and_moves_with_every_entry(tmp_path: Path) -> None:
    with fixed_clock():
        db = new_db(tmp_path / "a.db")
        head = storage.audit_chain_head(db)
        last = storage.audit_entries(db)[-1]
        assert head.hash == last.hash
        assert head.entries == len(storage.audit_entries(db))
        assert head.chains == ((db.device_id, last.seq, last.hash),)
        storage.register_subject(db, "RSP-01-001", day0=TODAY, staff=storage.get_staff(db, "coord"))
        assert storage.audit_chain_head(db).hash == storage.audit_entries(db)[-1].hash != head.hash
    db.close()


def test_chain_head_of_several_chains_digests_every_head(tmp_path: Path) -> None:
    with fixed_clock():
        db = new_db(tmp_path / "a.db")
    db.close()
    # A second device's chain, as a hub holds after merging a kiosk (written with plain SQL: the
    # import API belongs to another issue); the head only reads the devices table.
    other = "ffffffff-0000-4000-8000-000000000001"
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute(
            "INSERT INTO devices (id, label, site_code, registered_at, audit_seq, audit_head) "
            "VALUES (?, 'kiosk 2', '01', '2026-03-02T09:30:00.000Z', 7, ?)",
            [other, "ab" * 32],
        )
    conn.close()
    with storage.open_database(tmp_path / "a.db", readonly=True) as db:
        head = storage.audit_chain_head(db)
        assert len(head.chains) == 2
        text = "\n".join(f"{d}:{s}:{h}" for d, s, h in sorted(head.chains))
        assert head.hash == hashlib.sha256(text.encode()).hexdigest()


def test_streamed_scores_equal_subject_scores(study: StudyDb) -> None:
    seen = []
    for item in storage.iter_study_scores(study):
        seen.append(item.code)
        per_subject = storage.subject_scores(study, item.code)
        expected = {
            visit: {
                s.instrument_id: dict(s.values)
                for s in scores
                if s.method in ("default", "standard")
            }
            for visit, scores in per_subject.items()
        }
        assert {v: {i: dict(x) for i, x in d.items()} for v, d in item.scores.items()} == expected
    assert seen == [s.code for s in storage.list_subjects(study)]
    assert storage.count_subjects(study) == len(seen)
    rand = next(storage.iter_study_scores(study, methods={"sf36": "rand"}))
    assert all(set(v) == {"sf36"} and "HT" in v["sf36"] for v in rand.scores.values())
    assert storage.current_scoring_versions(study) == [scoring.SCORING_VERSION]


def test_visit_counts_equal_the_worklist(study: StudyDb) -> None:
    lines = storage.worklist(study, on=TODAY, statuses=None)
    for count in storage.visit_status_counts(study, on=TODAY):
        entries = [e for e in lines if e.visit_code == count.visit_code]
        for status in storage.VISIT_STATUSES:
            assert count.count(status) == sum(1 for e in entries if e.status == status)
        assert count.window_closed == sum(1 for e in entries if e.window_closes < TODAY)
        assert count.expected == sum(
            1 for e in entries if e.status == "complete" or e.window_closes < TODAY
        )


def test_importing_reports_stays_light() -> None:
    code = (
        "import sys, respine_desktop.reports, respine_desktop.cli.report; "
        "heavy = [m for m in ('matplotlib', 'reportlab', 'PySide6') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
