"""`verify`: each kind of score of a session (instrument, method) has exactly one current row.

Recomputing every current row of the current scoring version is not enough: a file rewritten so
that a session holds a second current row of one kind (of an older scoring version, whose values
`verify` does not recompute, and which a reader taking one current row per kind may show), or
none (the only row stamped superseded without a replacement), its row images rewritten to match
and the chain re-hashed consistently, has every row it recomputes right. The merge refuses both
(`_merge_scores`); `verify` names the row, session, instrument and method (check 9).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import clock, storage
from tests.storage.test_verify_devices import one, rechain, rewrite
from tests.support.storage import TODAY, coord, fixed_clock, full_visit, inv, new_db

SUBJECT = "RSP-01-001"


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    """A submitted M0 (VAS, ODI, SF-36 scored)."""
    fixed_clock()
    file = tmp_path / "study.db"
    with new_db(file) as db:
        storage.register_subject(db, SUBJECT, day0=TODAY, staff=coord(db))
        s = storage.start_session(db, SUBJECT, "M0", staff=coord(db))
        storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
        storage.submit_session(db, s.id)
    yield file
    clock.set_clock(None)


def _scores(path: Path) -> tuple[list[str], list[list[Any]]]:
    conn = sqlite3.connect(path)
    try:
        cursor = conn.execute("SELECT * FROM scores ORDER BY rowid")
        return [d[0] for d in cursor.description], [list(r) for r in cursor]
    finally:
        conn.close()


def _reimaged(path: Path, change: Any) -> None:
    """`change(conn, columns, rows)` made to the scores table (rows: its rows as lists), then
    the entry that imaged them rewritten to image them as they now are, the chain re-hashed."""
    columns, rows = _scores(path)
    conn = sqlite3.connect(path)
    try:
        change(conn, columns, rows)
        conn.commit()
    finally:
        conn.close()
    _, now = _scores(path)

    def edit(_seq: int, _action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        image = (payload.get("rows_after") or {}).get("scores")
        if image is None:
            return None
        assert image["columns"] == columns
        image["values"] = now
        return payload

    rechain(path, edit)


def test_a_second_current_score_of_one_kind_is_named(path: Path) -> None:
    """A second current VAS row (an older scoring version: not recomputed) beside the real one."""
    assert storage.verify_database(path).ok

    def add(conn: sqlite3.Connection, columns: list[str], rows: list[list[Any]]) -> None:
        vas = next(r for r in rows if r[columns.index("instrument_id")] == "vas")
        extra = dict(zip(columns, vas, strict=True))
        extra.update(id="0190aaaa-0000-7000-8000-0000000000dd", scoring_version="0.1")
        extra["scores"] = json.dumps({"VAS": 3.0})
        names = ", ".join(extra)
        conn.execute(
            f"INSERT INTO scores ({names}) VALUES ({', '.join('?' * len(extra))})",
            list(extra.values()),
        )

    _reimaged(path, add)
    result = storage.verify_database(path)
    assert not result.ok, result.message
    assert "table scores row 0190aaaa-0000-7000-8000-0000000000dd" in result.message
    assert f"subject {SUBJECT} visit M0" in result.message
    assert "instrument vas, method default): 2 current scores" in result.message


def test_a_kind_of_score_left_without_a_current_row_is_named(path: Path) -> None:
    """The only ODI row stamped superseded, by no replacement."""

    def supersede(conn: sqlite3.Connection, columns: list[str], rows: list[list[Any]]) -> None:
        odi = next(r for r in rows if r[columns.index("instrument_id")] == "odi")
        conn.execute(
            "UPDATE scores SET superseded_at=computed_at WHERE id=?", [odi[columns.index("id")]]
        )

    _reimaged(path, supersede)
    result = storage.verify_database(path)
    assert not result.ok, result.message
    assert f"subject {SUBJECT} visit M0" in result.message
    assert "instrument odi, method default): no current score" in result.message


@pytest.mark.parametrize("other", ["kind", "session"])
def test_a_score_superseded_by_a_score_of_another_kind_or_session_is_named(
    tmp_path: Path, other: str
) -> None:
    """A correction superseded M0's ODI score; the file rewritten so that the superseded row
    names (``superseded_by``) M0's VAS score, or the ODI score of another subject's M0, as its
    replacement (the row and its image, the chain re-hashed): each kind still has its one
    current row, and the merge refuses such a row (`_merge_scores`); `verify` names it."""
    fixed_clock()
    try:
        file = tmp_path / "study.db"
        with new_db(file) as db:
            for code in (SUBJECT, "RSP-01-002"):
                storage.register_subject(db, code, day0=TODAY, staff=coord(db))
                s = storage.start_session(db, code, "M0", staff=coord(db))
                storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
                storage.submit_session(db, s.id)
                if code == SUBJECT:
                    session = s.id
                    storage.correct_answer(
                        db, s.id, "odi_01", 4, staff=inv(db), reason="wrong box ticked"
                    )
        old = one(
            file,
            f"SELECT id FROM scores WHERE session_id='{session}' AND instrument_id='odi' "
            "AND superseded_by IS NOT NULL",
        )
        where = (
            f"session_id='{session}' AND instrument_id='vas'"
            if other == "kind"
            else f"session_id<>'{session}' AND instrument_id='odi'"
        )
        target = one(file, f"SELECT id FROM scores WHERE {where}")
        rewrite(file, "scores", old, "superseded_by", target)
        result = storage.verify_database(file)
        assert not result.ok
        assert f"table scores row {old}: column superseded_by is '{target}'" in result.message, (
            result.message
        )
        assert "not a score of its session, instrument and method" in result.message
    finally:
        clock.set_clock(None)
