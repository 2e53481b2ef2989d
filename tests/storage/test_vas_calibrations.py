"""VAS calibrations: stored, audited, referenced by every VAS answer drawn afterwards; old rows
keep their digest (a database of schema 0004, made by the application before calibrations, still
verifies before and after its upgrade)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.storage import ROOT, SUBJECT, coord, full_visit

SCREEN = storage.ScreenInfo(1280, 800, 96.0, "Qt physicalDotsPerInchX", 1.0)
OLD_DUMP = ROOT / "tests" / "data" / "databases" / "schema-0004.sql"


def _session(db: StudyDb) -> str:
    return storage.start_session(db, SUBJECT, "M0", staff=coord(db)).id


def test_a_calibration_is_stored_audited_and_in_force(db: StudyDb) -> None:
    assert storage.vas_calibration_in_force(db) is None
    first = storage.record_vas_calibration(
        db, staff=coord(db), measured_mm=104.0, drawn_factor=1.0, screen=SCREEN
    )
    assert first.factor == round(100 / 104, 4) and first.device_id == db.device_id
    assert first.px_per_mm == round(96.0 / 25.4 * first.factor, 4)
    assert first.calibrated_by == coord(db).id and first.screen_width_px == 1280
    second = storage.record_vas_calibration(
        db, staff=coord(db), measured_mm=100.0, drawn_factor=first.factor, screen=SCREEN
    )
    assert storage.vas_calibration_in_force(db) == second
    assert storage.vas_calibrations(db) == [first, second]
    assert storage.vas_calibrations(db, "another device") == []
    assert storage.get_vas_calibration(db, first.id) == first
    assert storage.get_vas_calibration(db, "nope") is None
    (entry, *_) = storage.audit_entries(db, action="vas.calibrated")
    assert entry.entity_id in (first.id, second.id)
    assert {"measured_mm", "factor", "dpi", "calibrated_by"} <= set(entry.payload)
    # db.conn is storage's SQLCipher connection: its exceptions are sqlcipher3's
    with pytest.raises(sqlcipher.IntegrityError, match="append-only"):
        db.conn.execute("DELETE FROM vas_calibrations")


@pytest.mark.parametrize("measured", [0, -100, 49.9, 200.1, 1000, float("nan"), float("inf"), True])
def test_an_implausible_measurement_is_refused_and_nothing_written(
    db: StudyDb, measured: float
) -> None:
    before = len(storage.audit_entries(db))
    with pytest.raises(storage.InvalidInput, match="measured length"):
        storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=measured, drawn_factor=1.0, screen=SCREEN
        )
    assert storage.vas_calibrations(db) == [] and len(storage.audit_entries(db)) == before


@pytest.mark.parametrize(
    ("drawn", "screen", "match"),
    [
        (0.1, SCREEN, "drawn factor"),
        (4.9, SCREEN, "resulting factor"),  # 4.9 × 100 / 50 = 9.8
        (1.0, storage.ScreenInfo(0, 800, 96.0, "x"), "screen width"),
        (1.0, storage.ScreenInfo(1280, 800, 0.0, "x"), "screen DPI"),
        (1.0, storage.ScreenInfo(1280, 800, 96.0, "x", 0.0), "device pixel ratio"),
        (1.0, storage.ScreenInfo(1280, 800, 96.0, " "), "DPI source"),
    ],
)
def test_other_bad_values_are_refused(
    db: StudyDb, drawn: float, screen: storage.ScreenInfo, match: str
) -> None:
    with pytest.raises(storage.InvalidInput, match=match):
        storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=50.0, drawn_factor=drawn, screen=screen
        )
    assert storage.vas_calibrations(db) == []


def test_a_disabled_account_cannot_calibrate(db: StudyDb) -> None:
    admin = storage.get_staff(db, "admin")
    storage.disable_staff(db, admin, "coord")
    with pytest.raises(storage.PermissionDenied):
        storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=100.0, drawn_factor=1.0, screen=SCREEN
        )


def test_every_vas_answer_names_the_calibration_in_force(db: StudyDb, tmp_path: Path) -> None:
    sid = _session(db)
    before = storage.record_answer(db, sid, "vas_pain", 30.0, language="en", vas_line_mm=100.0)
    assert before.vas_calibration == storage.UNCALIBRATED
    cal = storage.record_vas_calibration(
        db, staff=coord(db), measured_mm=98.0, drawn_factor=1.0, screen=SCREEN
    )
    after = storage.record_answer(db, sid, "vas_pain", 31.0, language="en", vas_line_mm=100.0)
    assert after.vas_calibration == cal.id
    assert storage.current_answers(db, sid)["vas_pain"].vas_calibration == cal.id
    history = storage.answer_history(db, sid, "vas_pain")
    assert [a.vas_calibration for a in history] == [storage.UNCALIBRATED, cal.id]
    # Not drawn on a line (no length): no calibration; other items never have one.
    typed = storage.record_answer(db, sid, "vas_pain", 32.0, language="en")
    assert typed.vas_calibration is None
    rest = {k: v for k, v in full_visit().items() if k != "vas_pain"}
    rows = storage.record_answers(db, sid, rest, language="en")
    assert {r.vas_calibration for r in rows} == {None}
    storage.submit_session(db, sid)
    result = storage.verify_database(db.path)
    assert result.ok, result.message


def test_the_digest_of_a_row_without_calibration_is_the_one_before_0005(db: StudyDb) -> None:
    from respine_desktop.storage._answers import digest

    sid = _session(db)
    row = storage.record_answer(db, sid, "odi_01", 2, language="en")
    stored = db.conn.execute("SELECT * FROM answers WHERE id=?", [row.id]).fetchone()
    old_text = json.dumps([list(stored)[:-1]], separators=(",", ":"), ensure_ascii=False)
    assert digest([tuple(stored)]) == hashlib.sha256(old_text.encode()).hexdigest()


def _old_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(OLD_DUMP.read_text(encoding="utf-8"))
    conn.close()
    return path


def test_a_database_of_schema_0004_verifies_before_and_after_its_upgrade(tmp_path: Path) -> None:
    path = _old_database(tmp_path / "old.db")
    result = storage.verify_database(path)  # read as it is, not upgraded
    assert result.ok and result.answers == 48, result.message
    with pytest.raises(storage.SchemaTooOld):
        storage.open_database(path, readonly=True)
    with storage.open_database(path) as db:
        (session,) = storage.subject_sessions(db, SUBJECT)
        old = storage.current_answers(db, session.id)["vas_pain"]
        assert (old.vas_line_mm, old.vas_calibration) == (100.1, None)
        staff = storage.authenticate(db, "coord", "2468")
        cal = storage.record_vas_calibration(
            db, staff=staff, measured_mm=101.0, drawn_factor=1.0, screen=SCREEN
        )
        new = storage.correct_answer(db, session.id, "vas_pain", 41.0, staff=staff, reason="typo")
        assert new.vas_calibration is None  # a typed correction draws no line
        assert cal.device_id == db.device_id
    result = storage.verify_database(path)
    assert result.ok and result.answers == 49, result.message


def test_a_changed_calibration_reference_is_detected(db: StudyDb) -> None:
    sid = _session(db)
    storage.record_answer(db, sid, "vas_pain", 30.0, language="en", vas_line_mm=100.0)
    path = db.path
    db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    (trigger,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name='answers_no_update'"
    ).fetchone()
    conn.execute("DROP TRIGGER answers_no_update")
    conn.execute("UPDATE answers SET vas_calibration='forged' WHERE item_id='vas_pain'")
    conn.execute(trigger)
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok and "digest mismatch" in result.message
