"""When SQLite cannot write: the caller gets a StorageError, nothing is half-written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.cli import signed_in
from tests.support.storage import ROOT, SUBJECT, coord, env, row_counts


def test_a_write_blocked_past_the_busy_timeout_is_a_storage_error(db: StudyDb) -> None:
    session = storage.start_session(db, SUBJECT, "M0", staff=coord(db))
    before = row_counts(db)
    # The same SQLite library as storage's (SQLCipher): two libraries in one process do not see
    # each other's POSIX locks (they are per process); two processes do.
    other = sqlcipher.connect(db.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        db.conn.execute("PRAGMA busy_timeout=50")  # do not wait the default 30 s in a test
        with pytest.raises(storage.WriteFailed, match="nothing was saved"):
            storage.record_answer(db, session.id, "vas_pain", 40, language="en")
        assert not db.conn.in_transaction
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert row_counts(db) == before
    storage.record_answer(db, session.id, "vas_pain", 40, language="en")
    assert storage.current_answers(db, session.id)["vas_pain"].value == 40


def test_an_unknown_username_is_not_stored_in_the_audit_log(db: StudyDb) -> None:
    typed = "Someone Typed This"
    with pytest.raises(storage.UnknownStaff):
        storage.authenticate(db, typed, "860427")
    entry = storage.audit_entries(db, action="login.failed")[-1]
    assert entry.payload == {"reason": "unknown account", "typed_length": len(typed)}
    assert all(typed not in str(e.payload) for e in storage.audit_entries(db))


def test_backup_to_an_unwritable_place_is_one_line_exit_2(db: StudyDb) -> None:
    # /proc refuses new files even to root, so this holds for any user running the tests.
    argv, pin = signed_in(["backup", "--db", str(db.path), "--out", "/proc/x.db"])
    result = subprocess.run(
        [sys.executable, "main.py", *argv],
        input=pin,
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not write the backup" in lines[0], result.stderr
