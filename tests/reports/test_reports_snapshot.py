"""A study report made while another process writes is internally consistent: it reads the
database in one snapshot, so its totals add up (registered = every flow row's sum; M0 done =
M0 VAS n)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from respine_desktop import reports, storage
from respine_desktop.storage import StudyDb
from tests.support.reports import PYTHON, ROOT, TODAY, env, fixed_clock, new_db

WRITER = """
import sys
from datetime import date
from respine_desktop import storage
from respine_desktop.instruments import load_instrument

db = storage.open_database(sys.argv[1], durable=False)
staff = storage.get_staff(db, "coord")
day0 = date.fromisoformat(sys.argv[2])
answers = {"vas_pain": 55.0}
answers.update({i.id: 2 for i in load_instrument("odi").items})
answers.update({i.id: 1 for i in load_instrument("sf36").items})
print("ready", flush=True)
for n in range(1, 121):
    code = f"RSP-01-{n:03d}"
    storage.register_subject(db, code, day0=day0, staff=staff)
    s = storage.start_session(db, code, "M0", staff=staff, language="en", on=day0)
    storage.record_answers(db, s.id, answers, language="en", vas_line_mm=100.0)
    storage.submit_session(db, s.id, on=day0)
print("done", flush=True)
"""


def _consistent(summary: reports.StudySummary) -> None:
    group = summary.overall
    assert group.subjects == summary.subjects
    for visit in summary.study.visit_codes:
        assert sum(group.flow.get(visit, {}).values()) == summary.subjects, visit
    done = group.flow_count("M0", "done")
    assert group.stat("M0", "VAS").n + group.uncomputable["M0"]["VAS"] == done


def test_report_while_a_writer_runs_adds_up(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    with fixed_clock():
        new_db(path).close()
    writer = subprocess.Popen(
        [PYTHON, "-c", WRITER, str(path), TODAY.isoformat()],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[int] = []
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        db: StudyDb = storage.open_database(path, readonly=True)
        try:
            while True:
                running = writer.poll() is None
                summary = reports.study_summary(db)  # today: the writer stamps real times
                _consistent(summary)
                seen.append(summary.subjects)
                if not running:
                    break
        finally:
            db.close()
    finally:
        out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert out.strip() == "done"
    assert seen == sorted(seen) and seen[-1] == 120
    assert any(0 < n < 120 for n in seen)  # some reports were made while it wrote
