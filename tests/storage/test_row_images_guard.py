"""The row-image triggers of the audit (`_row_images`) are TEMP objects of the connection, and
SQLite deletes every TEMP object when the connection's ``temp_store`` setting changes: a write
made after that must still carry its rows into the audit log (each transaction puts the
triggers back first), so that the file verifies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.storage import SUBJECT, TODAY, coord, full_visit, subject_db

OTHER = "RSP-01-002"


@pytest.mark.parametrize("setting", ["FILE", "MEMORY", "DEFAULT"])
def test_a_write_after_the_temp_objects_were_deleted_is_still_audited(
    tmp_path: Path, setting: str
) -> None:
    path = tmp_path / "study.db"
    with subject_db(path, SUBJECT) as db:
        staff = coord(db)
        for step in ("MEMORY" if setting == "FILE" else "FILE", setting):
            db.conn.execute(f"PRAGMA temp_store={step}")  # (each change: TEMP objects deleted)
        storage.register_subject(db, OTHER, day0=TODAY - timedelta(days=1), staff=staff)
        session = storage.start_session(db, OTHER, "M0", staff=staff)
        storage.record_answers(db, session.id, full_visit(), language="en")
        storage.submit_session(db, session.id, staff=staff)
        storage.mark_missed(db, SUBJECT, "M3", reason="travel", staff=staff)
    result = storage.verify_database(path)
    assert result.ok, result.message
