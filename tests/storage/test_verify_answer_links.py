"""`verify`: the answer an answer supersedes is one of its own session and item, and the links
of an item end at its first answer.

`verify` checked that ``supersedes`` named some answer (the foreign key check), not the right
one: a file rewritten consistently (the answer row changed with its trigger dropped, the digest
of the entry recording it fixed, the score rows recomputed with their images, the chain
re-hashed) in which an answer "supersedes" another patient's answer verified. So did one
superseding another item's answer, itself, or a row superseding it in turn (a cycle): the item
then has rows but no current answer. Each is named, table answers, the row and its item.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import clock, storage
from respine_desktop.storage import _scores as scores
from respine_desktop.storage._answers import digest, select_rows
from respine_desktop.study import load_study
from tests.storage.test_verify_devices import rechain, rewrite
from tests.support.storage import TODAY, coord, fixed_clock, full_visit, new_db

SUBJECTS = ("RSP-01-001", "RSP-01-002")


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    """Two subjects with a submitted M0; the first changed its odi_01 answer (a row
    superseding the first one) before sending."""
    fixed_clock()
    file = tmp_path / "study.db"
    with new_db(file) as db:
        for code in SUBJECTS:
            storage.register_subject(db, code, day0=TODAY, staff=coord(db))
            s = storage.start_session(db, code, "M0", staff=coord(db))
            storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
            if code == SUBJECTS[0]:
                storage.record_answer(db, s.id, "odi_01", 4, language="en")
            storage.submit_session(db, s.id)
    yield file
    clock.set_clock(None)


def _answers(path: Path) -> list[Any]:
    """Every answer row, as written, with its subject code."""
    with storage.open_database(path, readonly=True) as db:
        codes = dict(
            db.conn.execute(
                "SELECT s.id, j.code FROM sessions s JOIN subjects j ON j.id = s.subject_id"
            ).fetchall()
        )
        return [(codes[r.session_id], r) for r in select_rows(db.conn, "ORDER BY rowid", [])]


def _row(path: Path, code: str, item: str, *, first: bool = True) -> Any:
    rows = [r for c, r in _answers(path) if c == code and r.item_id == item]
    return rows[0] if first else rows[-1]


def _relink(path: Path, answer_id: str, target: str) -> None:
    """Set the answer's ``supersedes`` behind the app's back, fix the digest of the entry that
    records it (chain re-hashed) and the current scores of its session (rows and images)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name='answers_no_update'"
        ).fetchone()
        conn.execute("DROP TRIGGER answers_no_update")
        conn.execute("UPDATE answers SET supersedes=? WHERE id=?", [target, answer_id])
        conn.execute(sql)
    finally:
        conn.close()
    rows = {r.id: r for _, r in _answers(path)}

    def edit(_seq: int, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        ids = [a[0] for a in payload.get("answers") or []]
        if action != "answer.recorded" or answer_id not in ids:
            return None
        return {**payload, "digest": digest([rows[i] for i in ids])}

    rechain(path, edit)
    session = rows[answer_id].session_id
    mine = [r for r in rows.values() if r.session_id == session]
    superseded = {r.supersedes for r in mine}
    given = scores.scoring_input(
        (r.instrument_id, r.item_id, r.value) for r in mine if r.id not in superseded
    )
    with storage.open_database(path, readonly=True) as db:
        current = db.conn.execute(
            "SELECT id, instrument_id, method, scores FROM scores "
            "WHERE session_id=? AND superseded_at IS NULL",
            [session],
        ).fetchall()
    for score_id, instrument, method, text in current:
        computed = scores.compute(
            instrument, given.get(instrument, {}), min_sections=load_study().odi_min_sections
        )
        wanted = scores.dumps(computed[method])
        if wanted != text:
            rewrite(path, "scores", score_id, "scores", wanted)


def _named(path: Path, row: Any, problem: str) -> None:
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table answers row {row.id} ({row.item_id}): supersedes " in result.message, (
        result.message
    )
    assert problem in result.message, result.message
    assert "\n" not in result.message


def test_the_fixture_verifies(path: Path) -> None:
    result = storage.verify_database(path)
    assert result.ok, result.message


def test_an_answer_superseding_another_patients_answer_is_named(path: Path) -> None:
    """The second subject's odi_01 "supersedes" the first subject's first odi_01: nothing a
    session's reader computes changes, yet a whole-table reader counts it as a correction."""
    row = _row(path, SUBJECTS[1], "odi_01")
    _relink(path, row.id, _row(path, SUBJECTS[0], "odi_01").id)
    _named(path, row, "which is not an answer of its session")


def test_an_answer_superseding_another_items_answer_is_named(path: Path) -> None:
    """The second subject's odi_02 supersedes its odi_01, which loses its current answer (the
    ODI score recomputed to match)."""
    row = _row(path, SUBJECTS[1], "odi_02")
    _relink(path, row.id, _row(path, SUBJECTS[1], "odi_01").id)
    _named(path, row, "an answer of odi odi_01, not of odi odi_02")


def test_an_answer_superseding_itself_is_named(path: Path) -> None:
    row = _row(path, SUBJECTS[1], "odi_01")
    _relink(path, row.id, row.id)
    _named(path, row, "supersedes itself")


def test_two_answers_superseding_each_other_are_named(path: Path) -> None:
    """The first odi_01 of the first subject made to supersede the row that replaced it: a
    cycle, odi_01 with two rows and no current answer."""
    first = _row(path, SUBJECTS[0], "odi_01")
    second = _row(path, SUBJECTS[0], "odi_01", first=False)
    assert second.supersedes == first.id
    _relink(path, first.id, second.id)
    _named(path, first, "a cycle")
