"""`--on DATE` is a data cut-off: a report on a day shows only what was recorded by its end.

One subject does M0 on day 0 (VAS 60), M1 a month later (VAS 30), has its M0 VAS corrected to
70 on day 40 and M3 marked missed on day 100; a second subject is registered on day 20. Every
action is stamped with its own day (the clock is set for each), so reports on days 10, 35, 45
and 110 each see a different state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from respine_desktop import reports, storage
from respine_desktop.storage import StudyDb
from tests.support.reports import do_visit, fixed_clock, new_db, pdf_pages, visit_answers
from tests.support.storage import coord, inv

DAY0 = date(2025, 1, 6)


def _at(days: int) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=days), datetime.min.time(), UTC) + timedelta(
        hours=10
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudyDb]:
    path = tmp_path_factory.mktemp("cutoff") / "cutoff.db"
    with fixed_clock(_at(0)):
        db = new_db(path)
        storage.register_subject(db, "RSP-01-001", day0=DAY0, staff=coord(db))
        m0 = do_visit(db, "RSP-01-001", "M0", visit_answers(vas=60.0, odi=2), DAY0)
    with fixed_clock(_at(20)):
        storage.register_subject(db, "RSP-01-002", day0=DAY0 + timedelta(days=20), staff=coord(db))
    with fixed_clock(_at(30)):
        do_visit(db, "RSP-01-001", "M1", visit_answers(vas=30.0, odi=2), DAY0 + timedelta(30))
    with fixed_clock(_at(40)):
        storage.correct_answer(
            db, m0, "vas_pain", 70.0, staff=inv(db), reason="transcription, Łódź ő ğ"
        )
    with fixed_clock(_at(100)):
        storage.mark_missed(db, "RSP-01-001", "M3", staff=coord(db), reason="holiday")
    yield db
    db.close()


def _summary(db: StudyDb, day: int) -> reports.StudySummary:
    with fixed_clock(_at(120)):
        return reports.study_summary(db, on=DAY0 + timedelta(days=day))


def test_later_subjects_visits_and_corrections_are_excluded(db: StudyDb) -> None:
    on10 = _summary(db, 10)
    assert on10.subjects == 1
    assert on10.overall.stat("M0", "VAS").mean == 60.0
    assert on10.overall.stat("M1", "VAS").n == 0
    assert on10.overall.flow_count("M1", "not_yet_due") == 1

    on35 = _summary(db, 35)
    assert on35.subjects == 2
    assert on35.overall.stat("M0", "VAS").mean == 60.0  # corrected on day 40 only
    assert on35.overall.stat("M1", "VAS").mean == 30.0
    assert on35.overall.change("M1", "VAS").mean == -30.0

    on45 = _summary(db, 45)
    assert on45.overall.stat("M0", "VAS").mean == 70.0
    assert on45.overall.change("M1", "VAS").mean == -40.0
    assert on45.overall.flow_count("M3", "missed") == 0

    on110 = _summary(db, 110)
    assert on110.overall.flow_count("M3", "missed") == 1
    assert on110.overall.missed_reasons == {"holiday": 1}


def test_patient_report_on_a_day(db: StudyDb, tmp_path: Path) -> None:
    with fixed_clock(_at(120)):
        early = reports.patient_summary(db, "RSP-01-001", on=DAY0 + timedelta(days=35))
        late = reports.patient_summary(db, "RSP-01-001", on=DAY0 + timedelta(days=45))
        written = reports.write_patient_pdf(
            db, "RSP-01-001", tmp_path / "p.pdf", on=DAY0 + timedelta(days=35)
        )
    assert early.visit("M0").value("VAS") == 60.0 and early.corrections == ()
    assert early.visit("M3").status != "missed"
    assert late.visit("M0").value("VAS") == 70.0
    assert [c.reason for c in late.corrections] == ["transcription, Łódź ő ğ"]
    (m0,) = [v for v in late.items if v.visit == "M0"]
    vas = next(i for i in m0.items if i.item_id == "vas_pain")
    assert vas.code == 70.0 and vas.corrected_by == "inv"
    for page in pdf_pages(written.path):
        assert "data cut-off 2025-02-10" in page
