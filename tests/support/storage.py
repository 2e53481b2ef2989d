"""Helpers shared by the storage tests: a fresh database, a fixed clock, row counts."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from respine_desktop import clock, storage
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import StudyDb

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ADMIN_PIN = "860427"  # the demo administrator's (respine_desktop.demo)
COORD_PIN = "731592"
INV_PIN = "594318"
# A fixed "now" for the tests: every stored time comes from the clock.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)
SUBJECT = "RSP-01-001"  # the subject of the storage tests' `db` fixture
TABLES = ("subjects", "visits", "sessions", "answers", "scores", "audit_log", "staff")


def fixed_clock(moment: datetime = NOW) -> None:
    clock.set_clock(lambda: moment)


def new_db(path: Path, **options: Any) -> StudyDb:
    """A database with an admin, a coordinator ``coord`` and an investigator ``inv``.

    `options` go to `storage.create_database` (e.g. ``durable=False`` where speed matters more
    than surviving a power cut, as in the report and export tests).
    """
    db = storage.create_database(path, admin_pin=ADMIN_PIN, **options)
    admin = storage.authenticate(db, "admin", ADMIN_PIN)
    storage.create_staff(db, admin, "coord", "coordinator", COORD_PIN)
    storage.create_staff(db, admin, "inv", "investigator", INV_PIN)
    return db


def coord(db: StudyDb) -> storage.Staff:
    return storage.get_staff(db, "coord")


def inv(db: StudyDb) -> storage.Staff:
    return storage.get_staff(db, "inv")


def row_counts(db: StudyDb) -> dict[str, int]:
    return {t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def full_visit(odi: int = 2, sf36: int = 1, vas: float = 55.0) -> dict[str, object]:
    """Answers for every item of a VAS + ODI + SF-36 visit."""
    answers: dict[str, object] = {"vas_pain": vas}
    answers.update({i.id: odi for i in load_instrument("odi").items})
    answers.update({i.id: sf36 for i in load_instrument("sf36").items})
    return answers


def env() -> dict[str, str]:
    """Environment for child processes running this checkout's code."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


@contextmanager
def subject_db(path: Path, subject: str, day0: date = TODAY) -> Iterator[StudyDb]:
    """A fresh database at a fixed clock with one registered subject; closed afterwards."""
    fixed_clock()
    db = new_db(path)
    try:
        storage.register_subject(db, subject, day0=day0, staff=coord(db))
        yield db
    finally:
        db.close()
        clock.set_clock(None)


def old_schema_db(path: Path, before: str = "0002_worklist") -> Path:
    """A database as the schema before migration `before` left it (default: version 0001): one
    subject RSP-01-001, a missed M0."""
    from sqlite_utils import Database

    from respine_desktop.storage import _schema as schema

    old = Database(path)
    schema.migrations.apply(old, stop_before=before)
    old.execute(
        "INSERT INTO settings VALUES ('study_id', 'RESPINE'), ('site_code', '01'), "
        "('device_id', 'd1'), ('app_version', '0.0.1'), ('created_at', 'x')"
    )
    old.execute("INSERT INTO sites VALUES ('01', 'x')")
    # its device with the first entry of its audit chain, as every real database has
    from respine_desktop.storage._audit import GENESIS, entry_hash

    created = ("database.created", None, "db", None, "{}")
    first = entry_hash(GENESIS, "e1", "d1", 1, "x", None, *created)
    old.execute(
        "INSERT INTO audit_log (id, device_id, seq, at, actor, action, subject_id, entity, "
        "entity_id, payload, prev_hash, hash) VALUES ('e1', 'd1', 1, 'x', NULL, "
        f"'database.created', NULL, 'db', NULL, '{{}}', '{GENESIS}', '{first}')"
    )
    old.execute(f"INSERT INTO devices VALUES ('d1', 'kiosk', '01', 'x', 1, '{first}')")
    old.execute(
        "INSERT INTO subjects (id, code, site_code, day0, device_id, created_at) "
        "VALUES ('s1', 'RSP-01-001', '01', '2026-01-01', 'd1', 'x')"
    )
    old.execute(
        "INSERT INTO visits (id, subject_id, visit_code, state, updated_at) "
        "VALUES ('v1', 's1', 'M0', 'missed', 'x')"
    )
    old.close()
    return path


def damage_answers_page(path: Path) -> None:
    """Flip the cell pointers of the first leaf page of the ``answers`` table."""
    damage_leaf_page(path, "answers")


def damage_leaf_page(path: Path, name: str) -> None:
    """Flip the cell pointers of the first leaf page of the table or index `name`."""
    conn = sqlite3.connect(path)
    try:
        page = conn.execute(
            "SELECT min(pageno) AS p FROM dbstat WHERE name=? AND pagetype='leaf'", [name]
        ).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with path.open("r+b") as f:
        f.seek((page - 1) * size + 8)
        pointers = f.read(32)
        f.seek((page - 1) * size + 8)
        f.write(bytes(b ^ 0xFF for b in pointers))
