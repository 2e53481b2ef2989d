"""The shared validators, row by row: a valid row of every bundle table passes; each broken
value is refused naming table, row and field and the rule; the merge's transition rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import InvalidAnswer, InvalidInput
from respine_desktop.storage._bundle_rows import ScoreLine, SessionLine, VisitLine
from respine_desktop.storage._merge_rules import merged_visit, score_outcome, session_outcome
from respine_desktop.storage._merge_scores import check_scores
from respine_desktop.storage._validation import RowChecker, check_answer_value, check_row
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS
from tests.support.merge_modes import merge_mode
from tests.support.storage import coord, full_visit, subject_db

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

VISITS = frozenset({"M0", "M1", "M3"})
ID = "0190aaaa-0000-7000-8000-000000000001"
ID2 = "0190aaaa-0000-7000-8000-000000000002"
AT = "2026-03-02T09:30:00.000Z"
H = "a" * 64

VALID: dict[str, dict[str, Any]] = {
    "sites": {"code": "01", "created_at": AT},
    "devices": {"id": ID, "label": "kiosk", "site_code": "01", "registered_at": AT},
    "staff": {
        "id": ID,
        "username": "coord@01.abcdef",
        "role": "coordinator",
        "active": 0,
        "created_at": AT,
        "created_by": None,
    },
    "subjects": {
        "id": ID,
        "code": "RSP-01-001",
        "site_code": "01",
        "day0": "2026-01-05",
        "year_of_birth": 1960,
        "device_id": ID,
        "created_at": AT,
        "created_by": ID2,
    },
    "visits": {
        "id": ID,
        "subject_id": ID2,
        "visit_code": "M3",
        "state": "missed",
        "actual_date": None,
        "missed_reason": "travelling",
        "updated_at": AT,
    },
    "sessions": {
        "id": ID,
        "visit_id": ID2,
        "subject_id": ID2,
        "visit_code": "M0",
        "state": "submitted",
        "position": 3,
        "language": "fr",
        "device_id": ID,
        "started_at": AT,
        "started_by": ID2,
        "parked_at": AT,
        "parked_by": None,
        "resumed_at": None,
        "resumed_by": None,
        "submitted_at": AT,
        "submitted_by": None,
    },
    "withdrawals": {
        "id": ID,
        "subject_id": ID2,
        "withdrawn_on": "2026-02-28",
        "reason": "moved away",
        "recorded_at": AT,
        "recorded_by": ID2,
        "device_id": ID,
    },
    "session_choices": {
        "id": ID,
        "visit_id": ID2,
        "session_id": ID2,
        "chosen_at": AT,
        "chosen_by": ID2,
        "device_id": ID,
        "reason": "the patient's own sitting",
    },
    "answers": {
        "id": ID,
        "session_id": ID2,
        "instrument_id": "vas",
        "instrument_version": "1.0",
        "instrument_checksum": "c" * 64,
        "item_id": "vas_pain",
        "value": 67.6,
        "status": "answered",
        "language": "en",
        "app_version": "1.0.0",
        "device_id": ID,
        "given_at": AT,
        "given_by": None,
        "supersedes": None,
        "reason": None,
        "vas_line_mm": 100.0,
        "vas_calibration": "uncalibrated",
    },
    "scores": {
        "id": ID,
        "session_id": ID2,
        "instrument_id": "odi",
        "method": "default",
        "scores": '{"ODI": 40.0, "sections": null}',
        "scoring_version": "1",
        "computed_at": AT,
        "computed_by": None,
        "device_id": ID,
        "superseded_at": None,
        "superseded_by": None,
    },
    "audit_log": {
        "id": ID,
        "device_id": ID,
        "seq": 1,
        "at": AT,
        "actor": None,
        "action": "subject.registered",
        "subject_id": ID2,
        "entity": "subject",
        "entity_id": ID2,
        "payload": "{}",
        "prev_hash": "0" * 64,
        "hash": H,
    },
}


def row(table: str, **changes: Any) -> list[Any]:
    values = {**VALID[table], **changes}
    return [values[c] for c in BUNDLE_COLUMNS[table]]


def test_the_valid_rows_pass_and_every_table_is_covered() -> None:
    assert set(VALID) == set(BUNDLE_COLUMNS)
    for table in VALID:
        check_row(table, BUNDLE_COLUMNS[table], row(table), VISITS)


BROKEN = [
    ("sites", {"code": "01x"}, "code", "2 to 8 digits"),
    ("sites", {"created_at": 5}, "created_at", "stored time"),
    ("sites", {"created_at": "2026-13-45T09:30:00.000Z"}, "created_at", "stored time"),
    ("devices", {"label": " "}, "label", "text of 1 to"),
    ("devices", {"label": "x" * 2001}, "label", "(2003 characters)"),
    ("devices", {"site_code": 1}, "site_code", "not a site code"),
    ("staff", {"username": "Robert Smith"}, "username", "not a username"),
    ("staff", {"active": True}, "active", "integer in 0..1"),
    ("staff", {"created_by": "someone"}, "created_by", "not an id"),
    ("subjects", {"day0": "2026-02-30"}, "day0", "not a date"),
    ("subjects", {"day0": 20260105}, "day0", "not a date"),
    ("subjects", {"code": 17}, "code", "not a subject code"),
    ("subjects", {"year_of_birth": 1960.5}, "year_of_birth", "integer"),
    ("visits", {"state": "complete"}, "missed_reason", "no missed reason"),
    ("visits", {"actual_date": "soon"}, "actual_date", "not a date"),
    ("sessions", {"state": "parked"}, "submitted_at", "has none"),
    ("sessions", {"language": "French"}, "language", "language code"),
    ("sessions", {"parked_at": "now"}, "parked_at", "stored time"),
    ("session_choices", {"reason": ""}, "reason", "text of 1 to"),
    ("withdrawals", {"withdrawn_on": "2026-02-30"}, "withdrawn_on", "not a date"),
    ("withdrawals", {"reason": " "}, "reason", "reason of 1 to 500"),
    ("withdrawals", {"reason": "x" * 501}, "reason", "reason of 1 to 500"),
    ("withdrawals", {"recorded_by": None}, "recorded_by", "not an id"),
    ("withdrawals", {"recorded_at": "yesterday"}, "recorded_at", "stored time"),
    ("answers", {"value": 67.65}, "value", "finer than the step"),
    ("answers", {"value": float("nan")}, "value", "outside 0..100"),
    ("answers", {"value": "67.6"}, "value", "not a number"),
    ("answers", {"value": [1]}, "value", "a text, a number or null"),
    ("answers", {"status": "skipped"}, "value", "a skipped item has no value"),
    ("answers", {"language": None}, "language", "language code"),
    ("answers", {"vas_line_mm": -4.0}, "vas_line_mm", "VAS line length"),
    ("answers", {"vas_calibration": "ruler"}, "vas_calibration", "not a calibration's id"),
    ("answers", {"vas_calibration": ""}, "vas_calibration", "not a calibration's id"),
    ("answers", {"vas_calibration": 7}, "vas_calibration", "not a calibration's id"),
    ("answers", {"vas_line_mm": None}, "vas_calibration", "not drawn on a VAS line"),
    (
        "answers",
        {"item_id": "odi_01", "instrument_id": "odi", "value": 2.0, "vas_line_mm": None},
        "vas_calibration",
        "not drawn on a VAS line",
    ),
    (
        "answers",
        {"item_id": "odi_01", "instrument_id": "odi", "value": 2.5, "vas_line_mm": None},
        "value",
        "integer code",
    ),
    ("answers", {"item_id": "odi_01", "instrument_id": "odi", "value": 2.0}, "vas_line_mm", "VAS"),
    ("answers", {"value": 70.00000000001}, "value", "not stored as the kiosk stores it"),
    # REAL columns: an int is stored as a float, -0.0 as 0.0 (not what the digest covers)
    ("answers", {"value": 67}, "value", "67 is not stored as the kiosk stores it (67.0)"),
    ("answers", {"value": -0.0}, "value", "-0.0 is not stored as the kiosk stores it (0.0)"),
    (
        "answers",
        {"item_id": "odi_01", "instrument_id": "odi", "value": 3, "vas_line_mm": None},
        "value",
        "3 is not stored as the kiosk stores it (3.0)",
    ),
    (
        "answers",
        {"item_id": "odi_01", "instrument_id": "odi", "value": -0.0, "vas_line_mm": None},
        "value",
        "-0.0 is not stored as the kiosk stores it (0.0)",
    ),
    ("answers", {"vas_line_mm": 100}, "vas_line_mm", "100 is not stored as the kiosk stores"),
    ("scores", {"instrument_id": "eq5d"}, "instrument_id", "not an instrument"),
    ("scores", {"scores": "{"}, "scores", "JSON object"),
    ("scores", {"scores": '{"ODI": true}'}, "scores", "not a number"),
    ("scores", {"superseded_at": AT}, "superseded_by", "names its time and its replacement"),
    ("audit_log", {"seq": 0}, "seq", "integer in 1.."),
    ("audit_log", {"prev_hash": "Z" * 64}, "prev_hash", "SHA-256"),
    ("audit_log", {"entity_id": {"a": 1}}, "entity_id", "a text, a number or null"),
]


@pytest.mark.parametrize(("table", "changes", "field", "rule"), BROKEN)
def test_a_broken_value_is_refused_naming_table_row_field_and_rule(
    table: str, changes: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_row(table, BUNDLE_COLUMNS[table], row(table, **changes), VISITS)
    message = str(caught.value)
    assert message.startswith(f"{table} row ") and f", field {field}: " in message
    assert rule in message


def test_the_row_checker_remembers_accepted_values_but_never_takes_a_bool_for_a_number() -> None:
    check = RowChecker("staff", BUNDLE_COLUMNS["staff"], VISITS)
    check(row("staff", active=1))
    check(row("staff", active=1, id=ID2))  # remembered
    with pytest.raises(InvalidInput, match="field active"):
        check(row("staff", active=True))
    answers = RowChecker("answers", BUNDLE_COLUMNS["answers"], VISITS)
    odi = {
        "item_id": "odi_01",
        "instrument_id": "odi",
        "vas_line_mm": None,
        "vas_calibration": None,
    }
    answers(row("answers", value=1.0, **odi))
    answers(row("answers", value=1.0, **odi))
    with pytest.raises(InvalidInput, match="field value"):
        answers(row("answers", value=True, **odi))
    with pytest.raises(InvalidInput, match="long key"):
        check_row("devices", BUNDLE_COLUMNS["devices"], row("devices", id="long key " * 9), VISITS)


def test_the_kiosk_and_the_merge_share_the_answer_rule() -> None:
    vas = load_instrument("vas").items[0]
    assert check_answer_value(vas, 80.1) == 80.1
    with pytest.raises(InvalidAnswer, match=r"finer than the step 0\.1"):
        check_answer_value(vas, 80.04)
    odi = load_instrument("odi").items[0]
    with pytest.raises(InvalidAnswer, match="not one of the codes"):
        check_answer_value(odi, 42)


def visit(state: str, date: str | None = None, at: str = AT) -> VisitLine:
    reason = "away" if state == "missed" else None
    return VisitLine(ID, ID2, "M1", state, date, reason, at)


def test_visits_move_forward_only_and_final_disagreements_are_flagged() -> None:
    later = "2026-03-03T09:30:00.000Z"
    assert merged_visit(visit("parked"), visit("in_progress", at=later))[0].state == "in_progress"
    assert merged_visit(visit("in_progress"), visit("parked", at=later))[0].state == "in_progress"
    done = merged_visit(visit("parked"), visit("complete", "2026-03-03", later))
    assert done == (visit("complete", "2026-03-03", later), None)
    assert merged_visit(visit("missed"), visit("complete", "2026-03-03")) == (
        visit("missed"),
        "state: hub missed, bundle complete",
    )
    assert merged_visit(visit("complete", "2026-03-01"), visit("complete", "2026-03-03"))[1] == (
        "date: hub 2026-03-01, bundle 2026-03-03"
    )
    assert merged_visit(visit("complete", "2026-03-01"), visit("parked")) == (
        visit("complete", "2026-03-01"),
        None,
    )


def session(state: str, **changes: Any) -> SessionLine:
    base = SessionLine(*row("sessions"))._replace(state=state)
    if state != "submitted":
        base = base._replace(submitted_at=None, submitted_by=None)
    return base._replace(**changes)


def test_sessions_move_forward_only() -> None:
    later = "2026-03-03T09:30:00.000Z"
    assert session_outcome(session("parked"), session("parked")) == ("unchanged", None)
    assert session_outcome(session("parked"), session("submitted")) == ("updated", None)
    assert session_outcome(session("parked"), session("in_progress", resumed_at=later)) == (
        "updated",
        None,
    )
    assert session_outcome(session("in_progress", resumed_at=later), session("parked")) == (
        "unchanged",
        None,
    )
    assert session_outcome(session("submitted"), session("parked")) == ("unchanged", None)
    assert session_outcome(session("submitted"), session("submitted", device_id=ID2)) == (
        "refused",
        "device_id",
    )
    assert session_outcome(session("parked"), session("parked", started_by=ID)) == (
        "refused",
        "started_by",
    )


def test_scores_only_gain_their_superseded_stamp() -> None:
    mine = ScoreLine(*row("scores"))
    stamped = mine._replace(superseded_at=AT, superseded_by=ID2)
    assert score_outcome(mine, mine) == ("unchanged", None)
    assert score_outcome(mine, stamped) == ("updated", None)
    assert score_outcome(stamped, mine) == ("unchanged", None)
    assert score_outcome(stamped, stamped._replace(superseded_by=ID)) == (
        "refused",
        "superseded_by",
    )
    assert score_outcome(stamped, stamped._replace(superseded_at="2026-03-04T09:30:00.000Z")) == (
        "refused",
        "superseded_at",
    )
    assert score_outcome(mine, mine._replace(scores="{}")) == ("refused", "scores")


def test_the_hub_recomputes_the_scores_of_a_session(tmp_path: Path) -> None:
    """`check_scores` on a real session: its own scores pass; a second current row, a row
    superseded by a score of another kind, or another value are refused; a row of another
    scoring version is not compared (as `verify`)."""
    with subject_db(tmp_path / "s.db", "RSP-01-001") as db:
        s = storage.start_session(db, "RSP-01-001", "M0", staff=coord(db), language="en")
        storage.record_answers(db, s.id, full_visit(vas=67.6), language="en")
        storage.submit_session(db, s.id)
        check_scores(db, [s.id])
        conn = db.conn
        odi = conn.execute(
            "SELECT id FROM scores WHERE session_id=? AND instrument_id='odi'", [s.id]
        ).fetchone()["id"]
        vas = conn.execute(
            "SELECT id FROM scores WHERE session_id=? AND instrument_id='vas'", [s.id]
        ).fetchone()["id"]
        copy = "0190aaaa-0000-7000-8000-0000000000cc"
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO scores SELECT ?, session_id, instrument_id, method, scores, "
            "'0.0-old', computed_at, computed_by, device_id, NULL, NULL FROM scores WHERE id=?",
            [copy, odi],
        )
        with pytest.raises(InvalidInput, match="2 current scores"):
            check_scores(db, [s.id])
        conn.execute(
            "UPDATE scores SET superseded_at=computed_at, superseded_by=? WHERE id=?", [vas, copy]
        )
        with pytest.raises(InvalidInput, match=f"scores row {copy} .*field superseded_by"):
            check_scores(db, [s.id])
        conn.execute("UPDATE scores SET superseded_by=? WHERE id=?", [odi, copy])
        check_scores(db, [s.id])
        conn.execute("UPDATE scores SET superseded_at=NULL, superseded_by=NULL WHERE id=?", [copy])
        conn.execute(
            "UPDATE scores SET superseded_at=computed_at, superseded_by=? WHERE id=?", [copy, odi]
        )
        check_scores(db, [s.id])  # the current row is of another scoring version: not compared
        conn.execute("UPDATE scores SET scores='{\"VAS\": 3.0}' WHERE id=?", [vas])
        with pytest.raises(InvalidInput, match="differs from the hub's recomputation"):
            check_scores(db, [s.id])
        conn.execute("ROLLBACK")


@pytest.mark.parametrize("column", ["value", "vas_line_mm"])
@pytest.mark.parametrize("odd_first", [True, False])
def test_a_negative_zero_is_refused_column_wise_before_or_after_a_zero(
    column: str, odd_first: bool
) -> None:
    """-0.0 == 0.0 (one hash): each distinct value checked once must still see -0.0, whichever
    of the two rows comes first; refused naming its row, as row by row."""
    base = {
        "item_id": "odi_01",
        "instrument_id": "odi",
        "vas_line_mm": None,
        "vas_calibration": None,
    }
    good = {**base, "value": 0.0} if column == "value" else {"vas_line_mm": 100.0}
    odd = {**base, "value": -0.0} if column == "value" else {"vas_line_mm": -0.0}
    rows = [row("answers", id=f"0190aaaa-0000-7000-8000-{k:012d}") for k in (1, 2)]
    rows[0 if odd_first else 1] = row("answers", id=rows[0 if odd_first else 1][0], **odd)
    rows[1 if odd_first else 0] = row("answers", id=rows[1 if odd_first else 0][0], **good)
    columns = BUNDLE_COLUMNS["answers"]
    with pytest.raises(InvalidInput) as alone:
        check_row("answers", columns, rows[0 if odd_first else 1], VISITS)
    with pytest.raises(InvalidInput) as many:
        RowChecker("answers", columns, VISITS).check_many(rows)
    assert str(many.value) == str(alone.value)
    assert f"field {column}: -0.0" in str(many.value)
