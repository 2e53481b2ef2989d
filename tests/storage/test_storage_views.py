"""The schema's views: the chosen-session rule in SQL, made by migration 0004 (no data in them)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from respine_desktop import storage
from respine_desktop.storage import _schema as schema
from tests.support.storage import TODAY, coord, full_visit, new_db, old_schema_db, subject_db


def _views(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='view'")}
    finally:
        conn.close()


def test_a_new_database_has_the_views_and_no_table_lists_them(tmp_path: Path) -> None:
    with new_db(tmp_path / "new.db"):
        pass
    assert _views(tmp_path / "new.db") == set(schema.VIEWS)
    assert not set(schema.VIEWS) & set(schema.TABLES)


def test_the_views_follow_the_chosen_session_rule(tmp_path: Path) -> None:
    with subject_db(tmp_path / "db.db", "RSP-01-001") as db:
        session = storage.start_session(db, "RSP-01-001", "M0", staff=coord(db), on=TODAY)
        storage.record_answers(db, session.id, full_visit(), language="en")  # type: ignore[arg-type]
        storage.submit_session(db, session.id)
        rows = db.conn.execute(
            "SELECT id, chosen_by_review FROM reviewed_sessions WHERE visit_id=?",
            [session.visit_id],
        ).fetchall()
        assert [(r["id"], r["chosen_by_review"]) for r in rows] == [(session.id, 0)]
        chosen = db.conn.execute(
            "SELECT session_id FROM chosen_sessions WHERE visit_id=?", [session.visit_id]
        ).fetchone()
        assert chosen["session_id"] == session.id
        assert storage.chosen_session(db, "RSP-01-001", "M0") == session.id
        assert storage.subject_visits(db, "RSP-01-001", on=TODAY)[0].session_id == session.id


def _without_views(path: Path) -> None:
    """Apply every migration after 0004 to `path` without 0004 itself (no views)."""
    from sqlite_utils import Database

    db = Database(path)
    schema.migrations.apply(db)
    for view in schema.VIEWS:
        db.execute(f"DROP VIEW {view}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name='0004_views'")
    db.conn.commit()
    db.close()


def test_a_read_only_open_of_a_file_without_the_views_leaves_it_untouched(
    tmp_path: Path,
) -> None:
    path = old_schema_db(tmp_path / "old.db", before="0004_views")
    _without_views(path)  # later migrations applied, only the views missing
    before = path.read_bytes()
    with storage.open_database(path, readonly=True) as db:
        assert "0004_views" not in db.info.migrations
        visits = storage.subject_visits(db, "RSP-01-001")
        assert (visits[0].code, visits[0].status, visits[0].session_id) == ("M0", "missed", None)
        assert storage.chosen_session(db, "RSP-01-001", "M0") is None
    assert path.read_bytes() == before and _views(path) == set()
    with storage.open_database(path) as db:  # a writable open applies the migration
        assert sorted(db.info.migrations) == sorted(schema.migration_names())
    assert _views(path) == set(schema.VIEWS)
