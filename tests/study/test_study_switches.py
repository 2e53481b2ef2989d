"""The study configuration's DECISIONs (SCORING.md) reach the reports and the exports.

Case: ODI 40 % at M0 and 30 % at M12 (VAS unchanged). Read as relative (the default), the ODI
improved by 25 % of baseline: a responder. Read as points, it improved by 10 points (< 20): not a
responder. The patient report and the wide CSV must agree under both readings.
"""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from respine_desktop import clock, reports, storage
from respine_desktop.exports.csv_export import export_csv
from respine_desktop.study import Study, load_study
from tests.support.storage import coord, full_visit, new_db

SUBJECT = "RSP-01-001"
DAY0 = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def _make(path: Path) -> None:
    clock.set_clock(lambda: DAY0)
    db = new_db(path)
    try:
        storage.register_subject(db, SUBJECT, day0=DAY0.date(), staff=coord(db))
        _visit(db, "M0", full_visit(odi=2, vas=55.0))  # ODI 20/50 = 40 %
        clock.set_clock(lambda: DAY0 + timedelta(days=365))
        m12 = full_visit(odi=2, vas=55.0)
        for section in ("odi_01", "odi_02", "odi_03", "odi_04", "odi_05"):
            m12[section] = 1  # ODI 15/50 = 30 %
        _visit(db, "M12", m12)
    finally:
        db.close()
        clock.set_clock(None)


def _visit(db: storage.StudyDb, visit: str, answers: dict[str, object]) -> None:
    session = storage.start_session(db, SUBJECT, visit, staff=coord(db))
    storage.record_answers(db, session.id, answers, language="en")  # type: ignore[arg-type]
    storage.submit_session(db, session.id)


def _with(**changes: object) -> Study:
    study = load_study()
    endpoint = {k: v for k, v in changes.items() if k in ("odi_rule", "odi_threshold")}
    rest = {k: v for k, v in changes.items() if k not in endpoint}
    return dataclasses.replace(
        study, endpoint=dataclasses.replace(study.endpoint, **endpoint), **rest
    )


def _primary(path: Path, study: Study) -> bool | None:
    with storage.open_database(path, study=study) as db:
        status = reports.patient_summary(db, SUBJECT, on=(DAY0 + timedelta(days=365)).date())
        assert status.primary is not None
        return status.primary.responder


def _csv_responder(path: Path, study: Study, out: Path) -> str:
    with storage.open_database(path, study=study) as db:
        export_csv(db, out)
    with (out / "visits_wide.csv").open(newline="", encoding="utf-8") as f:
        (row,) = [r for r in csv.DictReader(f) if r["visit"] == "M12"]
    (column,) = [c for c in row if c.lower().startswith("responder")]
    return row[column]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "study.db"
    _make(path)
    return path


def test_odi_rule_relative_makes_a_responder_and_points_does_not(
    db_path: Path, tmp_path: Path
) -> None:
    relative, points = _with(odi_rule="relative"), _with(odi_rule="points")
    assert _primary(db_path, relative) is True
    assert _primary(db_path, points) is False
    assert _csv_responder(db_path, relative, tmp_path / "rel") in ("1", "True", "true", "yes")
    assert _csv_responder(db_path, points, tmp_path / "pts") in ("0", "False", "false", "no")
