"""answers_long.csv from SQLite's lines (`storage._answer_lines`, checked and completed by
`csv_export.sql_lines`) is the text of the per-row Python path (`csv_export._long_lines`, all
the export wrote before), byte for byte: on the golden study (corrections, a conflict, reasons
that need quoting or a leading '), and on edge cases written into it, each on a subject of its
own: those SQLite writes itself (-0.0, integers as doubles, short decimals, a NUL, a reason
starting with + or empty, a language without labels, an uncalibrated VAS, a fork) and those it
must leave to Python (0.1 + 0.2, 1e15, 1e16, tiny doubles, quotes, commas, line breaks and
carriage returns in any field, a visit the study does not schedule). Each case also says which
way its subject went. The value texts of many doubles are compared with `csv_export.cell`."""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import schedule, storage
from respine_desktop.exports.codebook import answers_long_columns, item_instruments
from respine_desktop.exports.csv_export import (
    _Cells,
    _long_lines,
    _Quoted,
    _quoted,
    _replaced_by,
    cell,
    csv_line,
    export_csv,
    line_texts,
    sql_lines,
)
from respine_desktop.exports.missing_codes import visit_number
from respine_desktop.exports.wide_rows import WideRows
from respine_desktop.storage.export_reads import (
    iter_subject_records,
    prepare_answer_lines,
    value_text,
)
from respine_desktop.storage.stored_values import StoredValues, TamperedValue
from tests.exports.test_exports_csv_golden import golden_db
from tests.support.exports import controlled_clock


def reference_long(db_path: Path) -> bytes:
    """answers_long.csv as the export wrote it before SQLite's lines (in a controlled clock)."""
    out = [csv_line([c.name for c in answers_long_columns()])]
    memo: dict[tuple[object, ...], str] = {}
    quoted = _Quoted()
    with storage.open_database(db_path, readonly=True) as db:
        study = db.study
        wide = WideRows(study, item_instruments(study), _Cells(), _quoted)
        records = iter_subject_records(db, on=schedule.today(), history=False, current_scores=True)
        for record in records:
            _, counted = wide.subject(record)
            visits = {
                s.id: f"{_quoted(s.visit_code)},{cell(visit_number(study, s.visit_code))}"
                for s in record.sessions
            }
            code = _quoted(record.subject.code)
            replaced_by = _replaced_by(record.answers)
            out.append(
                _long_lines(code, visits, record.answers, replaced_by, memo, quoted, counted)
            )
    return "".join(out).encode("utf-8")


def ways(db_path: Path) -> dict[str, str]:
    """Which way each subject's records go: "sql" (SQLite's text as it is), "patched" (some
    superseded-by or counts fields set) or "python" (`_long_lines`)."""
    out = {}
    with storage.open_database(db_path, readonly=True) as db:
        study = db.study
        prepare_answer_lines(db, line_texts(study))
        wide = WideRows(study, item_instruments(study), _Cells(), _quoted)
        records = iter_subject_records(
            db, on=schedule.today(), history=False, current_scores=True, answer_lines=True
        )
        for record in records:
            lines = record.answer_lines
            _, counted = wide.subject(record, lines)
            replaced_by = _replaced_by(lines)
            if sql_lines(lines, replaced_by, counted) is None:
                out[record.subject.code] = "python"
            elif replaced_by or len(counted) != len(lines):
                out[record.subject.code] = "patched"
            else:
                out[record.subject.code] = "sql"
    return out


def exported_long(db_path: Path, out: Path, workers: int) -> bytes:
    with storage.open_database(db_path, readonly=True) as db:
        export_csv(db, out, workers=workers)
    return (out / "answers_long.csv").read_bytes()


@contextmanager
def writable(db_path: Path) -> Iterator[sqlite3.Connection]:
    """The file opened for a test to change its rows as a damaged or forged file might have
    them (the append-only triggers dropped)."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.execute("DROP TRIGGER IF EXISTS answers_no_update")
            yield conn
    finally:
        conn.close()


def subject_rows(conn: sqlite3.Connection, code: str, where: str = "1") -> list[str]:
    """The ids of a subject's answer rows matching `where`, oldest first."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT a.id FROM answers a JOIN sessions s ON s.id = a.session_id "
            f"JOIN subjects j ON j.id = s.subject_id WHERE j.code = ? AND ({where}) "
            "ORDER BY a.given_at, a.rowid",
            [code],
        )
    ]


def set_field(conn: sqlite3.Connection, code: str, column: str, value: Any, where: str) -> None:
    row = subject_rows(conn, code, where)[0]
    conn.execute(f"UPDATE answers SET {column} = ? WHERE id = ?", [value, row])


VAS = "item_id = 'vas_pain' AND value IS NOT NULL"
CHOICE = "item_id = 'odi_03' AND value IS NOT NULL"
ANY = "1"

# (column, value, which rows) -> the way its subject must go
SQL_CASES: list[tuple[str, Any, str]] = [
    ("value", -0.0, VAS),
    ("value", 100.0, VAS),
    ("value", 66.1, VAS),
    ("value", 0.0001, VAS),
    ("value", 999_999_999_999_999.0, VAS),
    ("value", 12.345678901234, VAS),
    ("value", -7.25, VAS),
    ("value", 2.7, CHOICE),  # cast to 2 as the export reads it
    ("value", 99, CHOICE),  # no option: no label
    ("reason", "+1 typed twice", ANY),
    ("reason", "", ANY),
    ("reason", "a\x00NUL", ANY),
    ("reason", "\tstarts with a tab", ANY),
    ("reason", "ünïcödé ✓", ANY),
    ("language", "xx", CHOICE),  # a language without texts: the English label
    ("language", "", CHOICE),
    ("vas_calibration", "", "vas_line_mm IS NOT NULL"),  # empty: uncalibrated
    ("vas_calibration", "cal-7", VAS),
    ("given_by", "staff-ü", ANY),
    ("device_id", "kiosk\x00two", ANY),
]
PYTHON_CASES: list[tuple[str, Any, str]] = [
    ("value", 0.1 + 0.2, VAS),
    ("value", 1e15, VAS),
    ("value", 1e16, VAS),
    ("value", 5e-5, VAS),
    ("value", 1e-7, VAS),
    ("value", 1 / 3, VAS),
    ("value", 123_456_789_012_345.6, VAS),
    ("reason", 'said "no"', ANY),
    ("reason", "one, two", ANY),
    ("reason", "two\nlines", ANY),
    ("reason", "carriage\rreturn", ANY),
    ("reason", "\rstarts with CR", ANY),
    ("device_id", "kiosk,2", ANY),
    ("given_by", 'staff "x"', ANY),
    ("instrument_version", "1,0", ANY),
    ("instrument_checksum", "sha\n256", ANY),
    ("language", 'e"n', ANY),
    ("id", "id\r1", ANY),
    ("given_at", "2026-01-01T00:00:00.000Z,", ANY),
    ("vas_calibration", 'cal "7"', VAS),
]


def _refused(case: tuple[str, Any, str]) -> bool:
    """Whether the case's value is one no way in stores (the export refuses it)."""
    column, value, where = case
    if column != "value":
        return False
    try:
        StoredValues().check("case", "case", "vas_pain" if where == VAS else "odi_03", value)
    except TamperedValue:
        return True
    return False


def _case_id(case: tuple[str, Any, str]) -> str:
    return f"{case[0]}={case[1]!r}"


def _subject_with_one_way(db_path: Path) -> str:
    """A subject whose records SQLite writes as they are on the golden study."""
    return next(code for code, way in ways(db_path).items() if way == "sql")


@pytest.mark.parametrize(
    ("case", "way"),
    [(c, "sql") for c in SQL_CASES] + [(c, "python") for c in PYTHON_CASES],
    ids=_case_id,
)
def test_each_edge_case_is_written_as_the_python_path_writes_it(
    tmp_path: Path, case: tuple[str, Any, str], way: str
) -> None:
    """Or, for a value no way in stores (off its item's range or step, no code), refused by
    both paths in the same line (`stored_values`): its text is never written."""
    db_path = golden_db(tmp_path / "golden.db")
    column, value, where = case
    with controlled_clock():
        code = _subject_with_one_way(db_path)
        with writable(db_path) as conn:
            set_field(conn, code, column, value, where)
        if _refused(case):
            lines = []
            for run in (reference_long, lambda p: exported_long(p, tmp_path / "csv", 1)):
                with pytest.raises(TamperedValue) as caught:
                    run(db_path)
                lines.append(str(caught.value))
            assert lines[0] == lines[1] and "breaks its instrument's rule" in lines[0]
            assert not (tmp_path / "csv").exists()
            return
        assert ways(db_path)[code] == way
        want = reference_long(db_path)
        got = exported_long(db_path, tmp_path / "csv", 1)
    assert got == want


def test_golden_study_takes_every_way(tmp_path: Path) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        assert set(ways(db_path).values()) == {"sql", "patched", "python"}
        assert exported_long(db_path, tmp_path / "csv", 1) == reference_long(db_path)


def test_subject_codes_sessions_and_visits_that_need_quoting_or_are_not_scheduled(
    tmp_path: Path,
) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        codes = [c for c, way in ways(db_path).items() if way == "sql"][:3]
        with writable(db_path) as conn:
            session = conn.execute(
                "SELECT s.id FROM sessions s JOIN subjects j ON j.id = s.subject_id "
                "WHERE j.code = ? LIMIT 1",
                [codes[2]],
            ).fetchone()[0]
            for table, column in (("sessions", "id"), ("answers", "session_id")):
                conn.execute(f"UPDATE {table} SET {column} = 's,1' WHERE {column} = ?", [session])
            conn.execute("UPDATE subjects SET code = 'RSP,01-999' WHERE code = ?", [codes[0]])
            conn.execute(
                "UPDATE sessions SET visit_code = 'X9' WHERE id = (SELECT s.id FROM sessions s "
                "JOIN subjects j ON j.id = s.subject_id WHERE j.code = ? LIMIT 1)",
                [codes[1]],
            )
        found = ways(db_path)
        assert [found["RSP,01-999"], found[codes[1]], found[codes[2]]] == ["python"] * 3
        assert exported_long(db_path, tmp_path / "csv", 1) == reference_long(db_path)


def _insert_copy(conn: sqlite3.Connection, row_id: str, new_id: str, **changes: Any) -> None:
    columns = [r[1] for r in conn.execute("PRAGMA table_info(answers)")]
    row = conn.execute(f"SELECT {', '.join(columns)} FROM answers WHERE id = ?", [row_id])
    values = dict(zip(columns, row.fetchone(), strict=True))
    values.update(id=new_id, **changes)
    conn.execute(
        f"INSERT INTO answers ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
        list(values.values()),
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_forks_supersessions_and_every_case_at_once(tmp_path: Path, workers: int) -> None:
    """A fork (two rows superseding one), a chain of supersessions, two current rows of one item
    without a supersession, then every edge case above on subjects of their own; with one
    worker and two."""
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        plain = [c for c, way in ways(db_path).items() if way == "sql"]
        assert len(plain) >= 4
        with writable(db_path) as conn:
            first = subject_rows(conn, plain[0], CHOICE)[0]
            at = "2099-01-01T00:00:00.000Z"
            _insert_copy(conn, first, "fork-a", supersedes=first, value=1, given_at=at)
            _insert_copy(conn, first, "fork-b", supersedes=first, value=2, given_at=at)
            second = subject_rows(conn, plain[1], CHOICE)[0]
            _insert_copy(conn, second, "chain-1", supersedes=second, value=1, given_at=at)
            _insert_copy(conn, "chain-1", "chain-2", supersedes="chain-1", value=3)
            third = subject_rows(conn, plain[2], CHOICE)[0]
            _insert_copy(conn, third, "twin", value=4)  # two current rows of one item
        found = ways(db_path)
        assert [found[c] for c in plain[:3]] == ["patched"] * 3
        with writable(db_path) as conn:
            accepted = [c for c in SQL_CASES + PYTHON_CASES if not _refused(c)]
            for k, (column, value, where) in enumerate(accepted):
                code = plain[3 + k % (len(plain) - 3)]
                rows = subject_rows(conn, code, where)
                conn.execute(
                    f"UPDATE answers SET {column} = ? WHERE id = ?",
                    [value, rows[k // (len(plain) - 3) % len(rows)]],
                )
        want = reference_long(db_path)
        got = exported_long(db_path, tmp_path / "csv", workers)
    assert got == want
    text = got.decode("utf-8")
    assert "fork-a fork-b" in text  # the fork's replaced-by ids, space separated


def _doubles() -> list[float]:
    rng = random.Random(12)
    out = [
        0.0,
        -0.0,
        0.1,
        0.2,
        0.1 + 0.2,
        1 / 3,
        2 / 3,
        66.1,
        99.95,
        1e-4,
        1e-4 * (1 - 2**-52),
        9.999e-5,
        1e15,
        1e15 - 1,
        1e15 - 0.5,
        math.nextafter(1e15, 0),
        1e16,
        2.0**53,
        -(2.0**53),
        123456.789,
        5e-324,
        math.pi,
        math.e,
        -math.pi * 1e10,
    ]
    for _ in range(20_000):
        out.append(round(rng.uniform(-1000, 1000), rng.randint(0, 12)))
        out.append(rng.uniform(0, 100))
        out.append(rng.uniform(-1, 1) * 10.0 ** rng.randint(-8, 17))
        out.append(
            float(f"{rng.uniform(0, 1):.{rng.randint(1, 15)}g}") * 10.0 ** rng.randint(-4, 15)
        )
    return out


def test_sqlites_value_texts_are_cells_or_left_to_python(tmp_path: Path) -> None:
    """Every double SQLite writes itself is `cell`'s text, and it leaves to Python only the
    ones outside 1e-4..1e15 or that need more than 15 digits (0.1 + 0.2, not 66.1)."""
    values = _doubles()
    db_path = golden_db(tmp_path / "golden.db")
    with storage.open_database(db_path) as db:
        conn = db.conn
        conn.execute("CREATE TEMP TABLE doubles (x REAL)")
        conn.executemany("INSERT INTO temp.doubles VALUES (?)", [(v,) for v in values])
        got = conn.execute(f"SELECT x, {value_text('x')} FROM temp.doubles").fetchall()
    left = 0
    for (x, text), v in zip(got, values, strict=True):
        assert x == v or (math.isnan(v) and x is None)
        if text == "\n":
            left += 1
        else:
            assert text == cell(v), v
    # left to Python: exactly the doubles outside 1e-4..1e15 or with more than 15 digits
    short = {v for v in values if 1e-4 <= abs(v) < 1e15 and float(f"{v:.15g}") == v}
    assert [x for x, text in got if text == "\n" and x in short] == []
    assert 0 < left <= len(values) - len(short)
