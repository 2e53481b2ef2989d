"""A database written before row images (the previous version) still verifies: `verify` replays
what its entries allow (subjects, staff and sites from their old payloads, every image written
since the upgrade) and says which rows it could not cover."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from tests.support.storage import SUBJECT, TODAY, coord, full_visit, subject_db

# What the previous version did: no tracking triggers, hence entries without ``rows_after``.
_INSTALL = "respine_desktop.storage._row_images.install"


@pytest.fixture
def old_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with monkeypatch.context() as patch:
        patch.setattr(_INSTALL, lambda conn: None)
        with subject_db(tmp_path / "old.db", SUBJECT) as db:
            session = storage.start_session(db, SUBJECT, "M0", staff=coord(db))
            storage.record_answers(db, session.id, full_visit(), language="en")
            storage.submit_session(db, session.id, staff=coord(db))
            path = db.path
            images = db.conn.execute(
                "SELECT count(*) FROM audit_log WHERE payload LIKE ?",
                [f'%"{storage.ROW_IMAGES_KEY}"%'],
            ).fetchone()[0]
    assert images == 0
    yield path


def test_an_old_database_verifies_and_says_what_is_not_covered(old_db: Path) -> None:
    result = storage.verify_database(old_db)
    assert result.ok, result.message
    assert "rows written before full auditing, not covered:" in result.message
    assert "sessions 1 of 1" in result.message
    assert "subjects" not in result.message.split("not covered:")[1]  # from the old payloads


def test_old_payloads_still_catch_a_subject_code_swap(old_db: Path) -> None:
    with storage.open_database(old_db) as db:
        storage.register_subject(db, "RSP-01-002", day0=TODAY, staff=coord(db))
    conn = sqlite3.connect(old_db)
    try:
        with conn:
            conn.execute(f"UPDATE subjects SET code='RSP-01-999' WHERE code='{SUBJECT}'")
            conn.execute(f"UPDATE subjects SET code='{SUBJECT}' WHERE code='RSP-01-002'")
    finally:
        conn.close()
    result = storage.verify_database(old_db)
    assert not result.ok
    assert "column code is 'RSP-01-999'" in result.message


def test_rows_changed_after_the_upgrade_are_covered(old_db: Path) -> None:
    with storage.open_database(old_db) as db:
        storage.mark_missed(db, SUBJECT, "M3", reason="moved away", staff=coord(db))
        storage.register_subject(db, "RSP-01-002", day0=TODAY - timedelta(days=3), staff=coord(db))
    result = storage.verify_database(old_db)
    assert result.ok, result.message
    assert "visits 1 of 2" in result.message  # the new M3 replays, the old M0 cannot
    conn = sqlite3.connect(old_db)
    try:
        with conn:
            conn.execute("UPDATE visits SET missed_reason='forgot' WHERE visit_code='M3'")
    finally:
        conn.close()
    result = storage.verify_database(old_db)
    assert not result.ok
    assert "column missed_reason is 'forgot'" in result.message


def test_rows_a_later_migration_changes_are_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema upgrade that writes rows (a new setting, a changed role) leaves them replayable."""
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        path = db.path
        names = storage.inspect_database(path)

    def future_migration(sql: Any) -> None:
        sql.execute("INSERT INTO settings (key, value) VALUES ('future_option', 'on')")
        sql.execute("UPDATE staff SET role='investigator' WHERE username='coord'")

    with monkeypatch.context() as patch:
        patch.setattr(
            "respine_desktop.storage._schema.migration_names",
            lambda: (*names, "9999_future"),
        )
        patch.setattr("respine_desktop.storage._schema.migrations.apply", future_migration)
        storage.open_database(path).close()
    with storage.open_database(path, readonly=True) as db:
        last = storage.audit_entries(db)[-1]
    assert last.action == "rows.changed"
    images = last.payload[storage.ROW_IMAGES_KEY]
    assert isinstance(images, dict) and set(images) == {"settings", "staff"}
    result = storage.verify_database(path)
    assert result.ok, result.message
