"""The schema: created and upgraded by sqlite-utils migrations, pragmas, refusal of newer files."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from respine_desktop import clock, storage
from respine_desktop.storage import _schema as schema
from tests.support.storage import fixed_clock, new_db, old_schema_db


def test_a_new_database_has_every_table_pragma_and_trigger(tmp_path: Path) -> None:
    fixed_clock()
    try:
        db = new_db(tmp_path / "new.db")
    finally:
        clock.set_clock(None)
    with db:
        conn = db.conn
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert set(schema.TABLES) <= names and set(schema.TRIGGERS) <= names
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        # a kiosk outwaits an import's write step (issue 12)
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        assert db.info.migrations == schema.migration_names()
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
        assert settings["study_id"] == "RESPINE" and settings["site_code"] == "01"
        assert settings["device_id"] == db.device_id and settings["created_at"]
        assert settings["app_version"] == storage.APP_VERSION


def test_an_older_database_is_upgraded_when_opened(tmp_path: Path) -> None:
    path = old_schema_db(tmp_path / "old.db")
    with storage.open_database(path) as db:
        assert db.info.migrations == schema.migration_names()
        row = db.conn.execute("SELECT visits_started FROM subjects").fetchone()
        assert row[0] == ",M0,"
        lines = storage.worklist(db, on=storage.get_subject(db, "RSP-01-001").day0, statuses=None)
        assert [(e.visit_code, e.status) for e in lines][:2] == [
            ("M0", "missed"),
            ("M1", "not_yet_due"),
        ]


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    storage.create_database(path, admin_pin="860427").close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('respine', '9999_future', 'x')"
        )
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(storage.SchemaTooNew, match="newer RESPINE Desktop"):
        storage.open_database(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "there.db"
    path.write_bytes(b"")
    with pytest.raises(storage.AlreadyExists):
        storage.create_database(path, admin_pin="860427")
    assert path.read_bytes() == b""


LOOKUPS = {
    # the rows referring to a score (SQLite's, for a deferred foreign key pending in a merge)
    "SELECT 1 FROM scores WHERE superseded_by = ?": "INDEX scores_superseded_by (superseded_by=?)",
    # a merge's look-up of a record's audit entry (choices, withdrawals, mismatches flagged)
    f"SELECT 1 FROM audit_log WHERE {schema.ENTITY_ACTIONS_SQL} AND action = ? AND entity_id = ?": (
        "INDEX audit_entity (action=? AND entity_id=?)"
    ),
}


def _plans(conn: sqlite3.Connection) -> dict[str, str]:
    plans = {}
    for sql in LOOKUPS:
        marks = ["x"] * sql.count("?")
        plans[sql] = " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", marks))
    return plans


def test_the_merges_look_ups_in_a_large_hub_go_through_an_index(tmp_path: Path) -> None:
    """What a merge looks up for each row inside its write lock is found through an index, not
    by reading the whole table, whose reading grows with the hub (`bench/hub_lookups.py`): the
    score rows referring to a score (``scores.superseded_by``, at each score row inserted while
    a deferred reference is pending), a record's audit entry by action and entity. A file from
    before these indexes gains them when opened for writing (a read-only open does without)."""
    fixed_clock()
    try:
        with new_db(tmp_path / "new.db") as db:
            plans = _plans(db.conn)
            for sql, index in LOOKUPS.items():
                assert index in plans[sql], plans[sql]
        path = old_schema_db(tmp_path / "old.db", before="0013_scores_superseded_by")
        with storage.open_database(path, readonly=True) as db:
            assert all(p.startswith("SCAN ") for p in _plans(db.conn).values())
        with storage.open_database(path) as db:
            plans = _plans(db.conn)
            for sql, index in LOOKUPS.items():
                assert index in plans[sql], plans[sql]
            assert db.info.migrations == schema.migration_names()
    finally:
        clock.set_clock(None)


def test_the_actions_looked_up_by_entity_are_those_the_merge_looks_up() -> None:
    """The partial index serves the merge's look-ups only if it holds their actions."""
    from respine_desktop.storage import bundle_merge
    from respine_desktop.storage._conflict_resolution import RESOLVED_ACTION
    from respine_desktop.storage._merge_withdrawals import WITHDRAWN_ACTION

    looked_up = {RESOLVED_ACTION, WITHDRAWN_ACTION, bundle_merge._MISMATCH_ACTION}
    assert set(schema.ENTITY_ACTIONS) == looked_up
    # another action would find nothing through that index: refused, not answered "none"
    from respine_desktop.storage._audit import recording_entries

    with pytest.raises(ValueError, match="is not looked up by entity"):
        recording_entries(sqlite3.connect(":memory:"), "answer.recorded", "x")
