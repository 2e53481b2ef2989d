"""The CSV export's subjects read a row per session (`storage._answer_lines.SessionLines`:
SQLite's answers_long lines joined and the visits_wide cells of whole runs of columns) give the
four files of the answer rows' path (`WideRows.subject` + `sql_lines`, checked against the
references before it in `test_exports_csv_wide_rows` and `test_exports_csv_sql_lines`), byte for
byte: on the golden study, and on edge cases written into it, each on a subject of its own.
Each case says which way its subject goes: "sessions" (`WideRows.subject_from_sessions` and
`session_text`) for what the session rows can tell exactly (a skipped answer, a choice code
stored as a fraction, a language without labels, an answered row without a value, a withdrawal,
sessions one after the other), "rows" for the rest: a correction, two rows of one item, an item
missing or of no column or of another instrument, a value SQLite leaves to Python, a field
that needs quoting, sessions whose answers overlap in time, two sessions of one visit, a visit
the study does not schedule, a session without its stored scores (scored from its answers)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import schedule, storage
from respine_desktop.exports import wide_rows
from respine_desktop.exports.codebook import item_instruments
from respine_desktop.exports.csv_export import _Cells, _quoted, export_csv, line_texts, session_text
from respine_desktop.exports.wide_rows import WideRows
from respine_desktop.storage.export_reads import iter_subject_records, prepare_answer_lines
from respine_desktop.storage.stored_values import StoredValues, TamperedValue
from respine_desktop.study import load_study
from tests.exports.test_exports_csv_golden import golden_db
from tests.exports.test_exports_csv_sql_lines import _insert_copy, subject_rows, writable
from tests.support.exports import controlled_clock

FILES = ("answers_long.csv", "visits_wide.csv", "codebook.csv", "audit_trail.csv")


def ways(db_path: Path) -> dict[str, str]:
    """Which way each subject goes: "sessions" or "rows" (see the module)."""
    out = {}
    with storage.open_database(db_path, readonly=True) as db:
        study = db.study
        prepare_answer_lines(db, line_texts(study))
        wide = WideRows(study, item_instruments(study), _Cells(), _quoted)
        scheduled = frozenset(study.visit_codes)
        records = iter_subject_records(
            db, on=schedule.today(), history=False, current_scores=True, session_lines=True
        )
        for record in records:
            fast = wide.subject_from_sessions(record) is not None
            fast = fast and session_text(record, scheduled) is not None
            out[record.subject.code] = "sessions" if fast else "rows"
    return out


def exported(db_path: Path, out: Path, workers: int) -> dict[str, bytes]:
    with storage.open_database(db_path, readonly=True) as db:
        export_csv(db, out, workers=workers)
    return {name: (out / name).read_bytes() for name in FILES}


def by_rows(db_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The files every subject's answer rows make (the session rows never used)."""
    with monkeypatch.context() as m:
        m.setattr(wide_rows.WideRows, "subject_from_sessions", lambda self, record: None)
        return exported(db_path, out, 1)


def plain_subjects(db_path: Path) -> list[str]:
    found = [code for code, way in ways(db_path).items() if way == "sessions"]
    assert len(found) >= 10
    return found


VAS = "item_id = 'vas_pain' AND value IS NOT NULL"
CHOICE = "item_id = 'odi_03' AND value IS NOT NULL"
ANY = "1"

# (column, value, which rows) -> the way its subject goes
SESSION_CASES: list[tuple[str, Any, str]] = [
    ("skip", None, CHOICE),  # skipped: .S
    ("skip", None, VAS),
    ("value", 2.7, CHOICE),  # no code: refused
    ("value", 66.1, VAS),
    ("value", -0.0, VAS),
    ("language", "xx", CHOICE),  # no texts in that language: the English label
    ("language", "fr", CHOICE),
    ("reason", "=1+1", ANY),  # a leading ' from SQLite
]
ROW_CASES: list[tuple[str, Any, str]] = [
    ("value", 0.1 + 0.2, VAS),  # 17 digits: Python's text
    ("value", 1e16, VAS),
    ("value", 1e-7, VAS),
    ("reason", 'said "no"', ANY),
    ("device_id", "kiosk,2", ANY),
    ("instrument_id", "sf36", CHOICE),  # an ODI item filed under the SF-36: refused
    ("item_id", "odi_99", CHOICE),  # an item of no instrument: refused
    ("item_id", "odi_04", CHOICE),  # two rows of one item, one item missing
]
# A time stored as bytes: refused, as every export now refuses it (`stored_values`).
BYTES_TIME = ("given_at", b"2025", ANY)


def _refused(case: tuple[str, Any, str]) -> bool:
    """Whether the case stores a value no way in stores (every export refuses it)."""
    column, value, where = case
    if isinstance(value, bytes):
        return True  # bytes where a text or a number is stored
    item = "vas_pain" if where == VAS else "odi_03"
    if column == "instrument_id":
        return value != "odi"  # an item filed under another instrument than its own
    if column == "item_id":
        item, value = value, 1.0  # (the rows changed hold valid codes)
    elif column != "value":
        return False
    try:
        StoredValues().check("case", "case", item, value)
    except TamperedValue:
        return True
    return False


def _case_id(case: tuple[str, Any, str]) -> str:
    return f"{case[0]}={case[1]!r}" if case[0] != "skip" else f"skip {case[2][:12]}"


def change(conn: sqlite3.Connection, row: str, column: str, value: Any) -> None:
    """Set a column of an answer row ("skip": a skipped answer, status and value)."""
    if column == "skip":
        conn.execute("UPDATE answers SET status = 'skipped', value = NULL WHERE id = ?", [row])
    else:
        conn.execute(f"UPDATE answers SET {column} = ? WHERE id = ?", [value, row])


@pytest.mark.parametrize(
    ("case", "way"),
    [(c, "sessions") for c in SESSION_CASES] + [(c, "rows") for c in [*ROW_CASES, BYTES_TIME]],
    ids=_case_id,
)
def test_each_edge_case_gives_the_files_of_the_answer_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[str, Any, str], way: str
) -> None:
    """Or, for a value no way in stores (`stored_values`), the same one-line refusal both ways,
    nothing written."""
    db_path = golden_db(tmp_path / "golden.db")
    column, value, where = case
    with controlled_clock():
        code = plain_subjects(db_path)[0]
        with writable(db_path) as conn:
            change(conn, subject_rows(conn, code, where)[0], column, value)
        if _refused(case):
            lines = []
            for run in (
                lambda: by_rows(db_path, tmp_path / "rows", monkeypatch),
                lambda: exported(db_path, tmp_path / "csv", 1),
            ):
                with pytest.raises(TamperedValue) as caught:
                    run()
                lines.append(str(caught.value))
            assert lines[0] == lines[1] and "changed outside this program" in lines[0]
            assert not (tmp_path / "rows").exists() and not (tmp_path / "csv").exists()
            return
        assert ways(db_path)[code] == way
        want = by_rows(db_path, tmp_path / "rows", monkeypatch)
        got = exported(db_path, tmp_path / "csv", 1)
    assert got == want


def _session_of(conn: sqlite3.Connection, code: str, visit: str) -> str:
    row = conn.execute(
        "SELECT s.id FROM sessions s JOIN subjects j ON j.id = s.subject_id "
        "WHERE j.code = ? AND s.visit_code = ?",
        [code, visit],
    ).fetchone()
    return str(row[0])


def _visits(conn: sqlite3.Connection, code: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT s.visit_code FROM sessions s JOIN subjects j ON j.id = s.subject_id "
            "WHERE j.code = ? ORDER BY s.started_at",
            [code],
        )
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_way_at_once_with_one_worker_and_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The golden study (corrections, a conflict), then on subjects of their own: a correction,
    two rows of one item without a supersession, an item missing, sessions whose answers
    overlap in time, a second session of a visit, a visit the study does not schedule, a
    session without stored scores, a withdrawal, sessions without an instrument, every edge case
    above; the files equal the
    answer rows' with one worker and two, and both ways are taken."""
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        assert set(ways(db_path).values()) == {"sessions", "rows"}
        plain = plain_subjects(db_path)
        with writable(db_path) as conn:
            conn.execute("DROP TRIGGER IF EXISTS answers_no_delete")
            first = subject_rows(conn, plain[0], CHOICE)[0]
            _insert_copy(conn, first, "fix-1", supersedes=first, value=1, reason="typo")
            _insert_copy(conn, subject_rows(conn, plain[1], CHOICE)[0], "twin", value=4)
            conn.execute("DELETE FROM answers WHERE id = ?", [subject_rows(conn, plain[2], ANY)[3]])
            # overlap: the first answer of a later session moved before the end of the first
            later = subject_rows(conn, plain[3], ANY)[-1]
            at = subject_rows(conn, plain[3], ANY)[1]
            conn.execute(
                "UPDATE answers SET given_at = (SELECT given_at FROM answers WHERE id = ?) "
                "WHERE id = ?",
                [at, later],
            )
            visits = _visits(conn, plain[4])
            conn.execute(
                "UPDATE sessions SET visit_code = ? WHERE id = ?",
                [visits[0], _session_of(conn, plain[4], visits[-1])],
            )
            conn.execute(
                "UPDATE sessions SET visit_code = 'X9' WHERE id = ?",
                [_session_of(conn, plain[5], _visits(conn, plain[5])[-1])],
            )
            conn.execute(
                "UPDATE scores SET superseded_at = '2026-01-01T00:00:00.000Z' "
                "WHERE session_id = ? AND instrument_id = 'sf36'",
                [_session_of(conn, plain[6], _visits(conn, plain[6])[0])],
            )
            conn.execute(
                "INSERT INTO withdrawals (id, subject_id, withdrawn_on, reason, recorded_at, "
                "recorded_by, device_id) SELECT 'w-1', id, '2025-06-01', 'moved, \"far\"', "
                "'2025-06-01T10:00:00.000Z', created_by, device_id FROM subjects WHERE code = ?",
                [plain[7]],
            )
            # a submitted session without the SF-36, a parked one stopped after the ODI: whole
            # runs of columns absent (their cells the visit's missing codes)
            for code, state in ((plain[8], "submitted"), (plain[9], "parked")):
                session = _session_of(conn, code, _visits(conn, code)[-1])
                conn.execute(
                    "DELETE FROM answers WHERE session_id = ? AND instrument_id = 'sf36'", [session]
                )
                conn.execute("UPDATE sessions SET state = ? WHERE id = ?", [state, session])
            cases = [c for c in SESSION_CASES + ROW_CASES if not _refused(c)]
            for k, (column, value, where) in enumerate(cases):
                code = plain[10 + k % (len(plain) - 10)]
                rows = subject_rows(conn, code, where)
                change(conn, rows[k % len(rows)], column, value)
        found = ways(db_path)
        assert [found[c] for c in plain[:7]] == ["rows"] * 7
        assert [found[c] for c in plain[7:10]] == ["sessions"] * 3
        want = by_rows(db_path, tmp_path / "rows", monkeypatch)
        got = exported(db_path, tmp_path / "csv", workers)
    assert {k: hashlib.sha256(v).hexdigest() for k, v in got.items()} == {
        k: hashlib.sha256(v).hexdigest() for k, v in want.items()
    }
    assert b",withdrawn," in got["visits_wide.csv"]
    assert b",.I," in got["visits_wide.csv"]  # the parked session's items not reached


def test_only_what_sqlite_cannot_vouch_for_is_read_again(tmp_path: Path) -> None:
    """The session rows count the answers SQLite cannot vouch for as they read them
    (`SessionLines.suspects`, `stored_values.suspect_sql`): none in a file only the program
    wrote (its subjects' answers are then not read a second time by `check_subjects`); a choice
    answer in a language the labels lack is one (looked at, and passed, by `check_subjects`), as
    is each value no way in stores (refused: the cases above)."""

    def suspects(db_path: Path) -> dict[str, int]:
        with storage.open_database(db_path, readonly=True) as db:
            prepare_answer_lines(db, line_texts(db.study))
            records = iter_subject_records(
                db, history=False, current_scores=True, session_lines=True
            )
            return {r.subject.code: sum(row.suspects for row in r.session_lines) for r in records}

    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        found = suspects(db_path)
        assert found and set(found.values()) == {0}
        code = plain_subjects(db_path)[0]
        with writable(db_path) as conn:
            rows = subject_rows(conn, code, CHOICE)
            for row in rows[:2]:
                change(conn, row, "language", "xx")
        after = suspects(db_path)
    assert after == {**found, code: 2}


def test_a_sessions_runs_of_columns_are_found_in_any_order_each_whole_and_once() -> None:
    """A session's cells come in the order SQLite reads its rows (its index of items: odi, sf36,
    vas), not the columns' (vas, odi, sf36): each run is found where it is, whole and once."""
    study = load_study()
    wide = WideRows(study, item_instruments(study), _Cells(), _quoted)
    vas, odi, sf36 = wide.run_positions
    assert [r[0] for r in wide.runs] == ["vas", "odi", "sf36"]
    assert wide._present(odi + sf36 + vas) == (1, 2, 0)
    assert wide._present(vas + odi) == (0, 1)
    assert wide._present(sf36) == (2,)
    assert wide._present(odi + odi) is None  # twice
    assert wide._present(odi[:-1]) is None  # not whole
    assert wide._present(odi[1:]) is None
    assert wide._present(odi + "?") is None  # an item of no column
    assert wide._present("") is None
