"""The audit chain: append-only by trigger, and any edit or deletion is found by verify."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import clock, storage
from respine_desktop.storage import _schema as schema
from tests.support.storage import TODAY, coord, fixed_clock, full_visit, new_db


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    fixed_clock()
    file = tmp_path / "study.db"
    with new_db(file) as db:
        storage.register_subject(db, "RSP-01-001", day0=TODAY, staff=coord(db))
        s = storage.start_session(db, "RSP-01-001", "M0", staff=coord(db))
        storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
        storage.submit_session(db, s.id)
    yield file
    clock.set_clock(None)


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection that has dropped the protective triggers, like an attacker would."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name in schema.TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def entry(path: Path, seq: int) -> tuple[str, str]:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT id, device_id FROM audit_log WHERE seq=?", [seq]).fetchone()
    return row[0], row[1]


@pytest.mark.req("DB-03")
def test_a_fresh_database_verifies(path: Path) -> None:
    result = storage.verify_database(path)
    assert result.ok, result.message
    assert result.answers == 47 and result.chains == 1 and result.audit_entries > 5


@pytest.mark.req("AUD-02")
@pytest.mark.parametrize("table", ["audit_log", "answers"])
def test_triggers_refuse_update_and_delete(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
        conn.execute(f"UPDATE {table} SET id = id")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
        conn.execute(f"DELETE FROM {table}")
    conn.close()


@pytest.mark.parametrize(
    "column", ["payload", "at", "actor", "action", "subject_id", "entity_id", "hash"]
)
@pytest.mark.req("AUD-01")
def test_editing_any_audit_column_is_found_and_named(path: Path, column: str) -> None:
    entry_id, device = entry(path, 3)
    conn = raw(path)
    value = "'{}'" if column == "payload" else "'x'"
    conn.execute(f"UPDATE audit_log SET {column} = {value} WHERE seq = 3")
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok
    assert f"audit entry #3 of device {device} (id {entry_id})" in result.message


def test_deleting_an_audit_entry_is_found(path: Path) -> None:
    _, device = entry(path, 4)
    conn = raw(path)
    conn.execute("DELETE FROM audit_log WHERE seq = 4")
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok
    assert f"audit entry #4 of device {device} is missing" in result.message


@pytest.mark.req("AUD-01")
def test_deleting_the_last_audit_entries_is_found(path: Path) -> None:
    last = sqlite3.connect(path).execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    conn = raw(path)
    conn.execute("DELETE FROM audit_log WHERE seq >= ?", [last - 1])
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok and f"#{last - 1}..#{last}" in result.message


def test_rehashing_after_an_edit_still_breaks_the_link_to_the_next_entry(path: Path) -> None:
    from respine_desktop.storage._audit import entry_hash

    conn = raw(path)
    row = conn.execute(
        "SELECT id, device_id, seq, at, actor, action, subject_id, entity, entity_id, payload, "
        "prev_hash FROM audit_log WHERE seq = 2"
    ).fetchone()
    forged = (*row[:9], '{"forged":true}')
    new_hash = entry_hash(row[10], *forged)
    conn.execute("UPDATE audit_log SET payload=?, hash=? WHERE seq=2", [forged[9], new_hash])
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok and "audit entry #3 of device" in result.message
    assert "prev_hash does not match entry #2" in result.message


@pytest.mark.req("AUD-01")
def test_editing_or_deleting_an_answer_is_found(path: Path) -> None:
    conn = raw(path)
    answer_id = conn.execute("SELECT id FROM answers WHERE item_id='odi_04'").fetchone()[0]
    conn.execute("UPDATE answers SET value = 5 WHERE id = ?", [answer_id])
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok and f"table answers row {answer_id} (odi_04): differs" in result.message

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE answers SET value = 2, language = 'fr' WHERE id = ?", [answer_id])
    assert "digest mismatch" in storage.verify_database(path).message
    conn.execute("DELETE FROM answers WHERE id = ?", [answer_id])
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok and f"table answers row {answer_id} (odi_04)" in result.message
    assert "is missing" in result.message


def test_an_answer_without_an_audit_entry_is_found(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    cols = conn.execute("SELECT * FROM answers LIMIT 1").fetchone()
    forged = ("01900000-0000-7000-8000-000000000000", *cols[1:])
    conn.execute(f"INSERT INTO answers VALUES ({', '.join('?' for _ in forged)})", forged)
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok and "01900000-0000-7000-8000-000000000000" in result.message
    assert "has no audit entry" in result.message


def test_missing_triggers_are_reported(path: Path) -> None:
    raw(path).close()
    result = storage.verify_database(path)
    assert not result.ok and "trigger audit_log_no_update is missing" in result.message


def test_verify_refuses_missing_and_foreign_files_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(storage.DatabaseMissing):
        storage.verify_database(missing)
    assert not missing.exists() and list(tmp_path.iterdir()) == []
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(storage.NotARespineDatabase):
        storage.verify_database(text)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(storage.NotARespineDatabase):
        storage.open_database(other)


def test_an_edited_score_is_found_and_named(path: Path) -> None:
    # scores have no protective trigger: an edit needs no DROP TRIGGER
    with sqlite3.connect(path) as conn:
        score_id, session_id = conn.execute(
            "SELECT id, session_id FROM scores WHERE instrument_id='odi' AND superseded_at IS NULL"
        ).fetchone()
        conn.execute("UPDATE scores SET scores='{\"odi\":12.0}' WHERE id=?", [score_id])
    conn.close()
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table scores row {score_id} " in result.message
    assert f"session {session_id}" in result.message and "instrument odi" in result.message
    assert "RSP-01-001" in result.message


def test_verify_counts_the_scores_it_recomputed(path: Path) -> None:
    result = storage.verify_database(path)
    assert result.ok, result.message
    assert "4 scores match their answers" in result.message
