"""The VAS calibration an answer used, in the CSV (``vas_calibration`` column of answers_long)
and in the patient PDF (one "VAS line: ..." sentence under the scores)."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from respine_desktop import exports, reports, storage
from tests.support.reports import (
    NOW,
    OLD_DAY0,
    TODAY,
    do_visit,
    fixed_clock,
    new_db,
    pdf_text,
    visit_answers,
    visit_day,
)
from tests.support.storage import coord

CODE = "RSP-01-001"
SCREEN = storage.ScreenInfo(1280, 800, 96.0, "Qt physicalDotsPerInchX", 1.0)


def test_csv_and_pdf_say_which_calibration_each_vas_answer_used(tmp_path: Path) -> None:
    with fixed_clock(NOW - timedelta(days=30)), new_db(tmp_path / "study.db") as db:
        storage.register_subject(db, CODE, day0=OLD_DAY0, staff=coord(db))
        m0 = do_visit(db, CODE, "M0", visit_answers(vas=70, odi=3), visit_day(db, OLD_DAY0, "M0"))
        cal = storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=97.0, drawn_factor=1.0, screen=SCREEN
        )
        m1 = do_visit(db, CODE, "M1", visit_answers(vas=40, odi=2), visit_day(db, OLD_DAY0, "M1"))
        exports.export_csv(db, tmp_path / "csv")
        pdf = reports.write_patient_pdf(db, CODE, tmp_path / "p.pdf", on=TODAY).path
    with open(tmp_path / "csv" / "answers_long.csv", newline="", encoding="utf-8") as f:
        long = list(csv.DictReader(f))
    by_session = {
        (r["session"], r["item"]): r["vas_calibration"] for r in long if r["item"] in ("vas_pain",)
    }
    assert by_session == {(m0, "vas_pain"): "uncalibrated", (m1, "vas_pain"): cal.id}
    assert {r["vas_calibration"] for r in long if r["instrument"] != "vas"} == {""}
    text = pdf_text(pdf)
    assert f"VAS line: M0 uncalibrated, M1 calibrated {cal.calibrated_at[:10]}" in text
