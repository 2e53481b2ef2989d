"""`verify` replays the audit log: every direct edit of a state table is named (table, row, column).

Each attack edits a real database file behind the application's back with sqlite3 (UPDATE,
INSERT or DELETE where no trigger forbids it), then `verify` must fail naming the row.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.storage import (
    ADMIN_PIN,
    PYTHON,
    ROOT,
    SUBJECT,
    TODAY,
    coord,
    env,
    full_visit,
    inv,
    subject_db,
)

OTHER = "RSP-01-002"


def verify_cli(path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    """`python main.py verify --db PATH [MORE...]` (the one place that runs the command)."""
    return subprocess.run(
        [PYTHON, str(ROOT / "main.py"), "verify", "--db", str(path), *more],
        capture_output=True,
        text=True,
        env=env(),
        check=False,
    )


def build(path: Path) -> Path:
    """Two subjects, one submitted M0 each, a missed M3, a site key and a corrected answer."""
    with subject_db(path, SUBJECT) as db:
        staff = coord(db)
        storage.register_subject(db, OTHER, day0=TODAY - timedelta(days=1), staff=staff)
        for code in (SUBJECT, OTHER):
            session = storage.start_session(db, code, "M0", staff=staff)
            storage.record_answers(db, session.id, full_visit(), language="en")
            storage.submit_session(db, session.id, staff=staff)
        storage.correct_answer(db, session.id, "vas_pain", 40.0, reason="typo", staff=inv(db))
        storage.mark_missed(db, SUBJECT, "M3", reason="travel", staff=staff)
        storage.ensure_site_key(db)
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("replay") / "clean.db")


def copy_of(clean: Path, tmp_path: Path) -> Path:
    target = tmp_path / "edited.db"
    target.write_bytes(clean.read_bytes())
    return target


def edit(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            for statement in statements:
                conn.execute(statement)
    finally:
        conn.close()


def one(path: Path, sql: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_a_clean_database_replays_every_table(clean: Path) -> None:
    result = storage.verify_database(clean)
    assert result.ok, result.message
    for table in storage.REPLAYED_TABLES:
        assert table in result.message
    assert "not covered" not in result.message
    done = verify_cli(clean)
    assert done.returncode == 0
    assert "match the replayed audit log" in done.stdout


ATTACKS: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "subject code swap": (
        lambda p: [
            f"UPDATE subjects SET code='RSP-01-999' WHERE code='{SUBJECT}'",
            f"UPDATE subjects SET code='{SUBJECT}' WHERE code='{OTHER}'",
            f"UPDATE subjects SET code='{OTHER}' WHERE code='RSP-01-999'",
        ],
        "table subjects row {subject}: column code is 'RSP-01-002'",
    ),
    "day 0 edit": (
        lambda p: [f"UPDATE subjects SET day0='2020-01-01' WHERE code='{SUBJECT}'"],
        "table subjects row {subject}: column day0 is '2020-01-01'",
    ),
    "session device edit": (
        lambda p: ["UPDATE sessions SET device_id='forged' WHERE rowid=1"],
        "table sessions row {session}: column device_id is 'forged'",
    ),
    "session submitter edit": (
        lambda p: ["UPDATE sessions SET submitted_by='someone' WHERE rowid=1"],
        "table sessions row {session}: column submitted_by is 'someone'",
    ),
    "session time edit": (
        lambda p: ["UPDATE sessions SET submitted_at='2026-01-01T00:00:00.000Z' WHERE rowid=1"],
        "column submitted_at is '2026-01-01T00:00:00.000Z'",
    ),
    "visit state edit": (
        lambda p: ["UPDATE visits SET state='missed' WHERE rowid=1"],
        "table visits row {visit}: column state is 'missed'",
    ),
    "staff role edit": (
        lambda p: ["UPDATE staff SET role='admin' WHERE username='coord'"],
        "column role is 'admin'",
    ),
    "staff active edit": (
        lambda p: ["UPDATE staff SET active=0 WHERE username='inv'"],
        "column active is 0",
    ),
    "device row edit": (
        lambda p: ["UPDATE devices SET label='elsewhere'"],
        "table devices row {device}: column label is 'elsewhere'",
    ),
    "settings edit": (
        lambda p: ["UPDATE settings SET value='99' WHERE key='site_code'"],
        "table settings row site_code: column value is '99'",
    ),
    "site key swap": (
        lambda p: ["UPDATE settings SET value='00' WHERE key='site_key'"],
        "table settings row site_key: column value is 'sha256:",
    ),
    "site edit": (
        lambda p: ["UPDATE sites SET created_at='x'"],
        "table sites row 01: column created_at is 'x'",
    ),
    "score superseded without replacement": (
        lambda p: ["UPDATE scores SET superseded_at='x' WHERE rowid=1"],
        "table scores row {score}: column superseded_at is 'x'",
    ),
    "deleted visit": (
        lambda p: ["DELETE FROM visits WHERE state='missed'"],
        "table visits row {missed}: missing (recorded by audit entry #",
    ),
    "deleted staff": (
        lambda p: ["DELETE FROM staff WHERE username='inv'"],
        "table staff row {inv}: missing (recorded by audit entry #",
    ),
    "inserted setting": (
        lambda p: ["INSERT INTO settings VALUES ('login_lockout', 'off')"],
        "table settings row login_lockout: no audit entry records it",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_direct_edit_is_named(clean: Path, tmp_path: Path, attack: str) -> None:
    path = copy_of(clean, tmp_path)
    statements, expected = ATTACKS[attack]
    names = {
        "subject": one(path, f"SELECT id FROM subjects WHERE code='{SUBJECT}'"),
        "session": one(path, "SELECT id FROM sessions WHERE rowid=1"),
        "visit": one(path, "SELECT id FROM visits WHERE rowid=1"),
        "device": one(path, "SELECT id FROM devices"),
        "score": one(path, "SELECT id FROM scores WHERE rowid=1"),
        "inv": one(path, "SELECT id FROM staff WHERE username='inv'"),
        "missed": one(path, "SELECT id FROM visits WHERE state='missed'"),
    }
    edit(path, *statements(path))
    result = storage.verify_database(path)
    assert not result.ok
    assert expected.format(**names) in result.message
    assert "\n" not in result.message


def test_the_cli_names_the_edited_row_on_one_line(clean: Path, tmp_path: Path) -> None:
    path = copy_of(clean, tmp_path)
    edit(path, "UPDATE visits SET state='missed' WHERE rowid=1")
    done = verify_cli(path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "table visits row" in lines[0] and "column state is 'missed'" in lines[0]


def test_operational_columns_are_not_evidence(clean: Path, tmp_path: Path) -> None:
    path = copy_of(clean, tmp_path)
    edit(
        path,
        "UPDATE staff SET failed_attempts=3, locked_until='2030-01-01' WHERE username='inv'",
        "UPDATE sessions SET position=7",
    )
    result = storage.verify_database(path)
    assert result.ok, result.message


def test_settings_device_without_chain_is_named(clean: Path, tmp_path: Path) -> None:
    path = copy_of(clean, tmp_path)
    edit(path, "UPDATE settings SET value='nobody' WHERE key='device_id'")
    result = storage.verify_database(path)
    assert not result.ok
    assert "settings name device nobody, which has no audit chain here" in result.message


def test_every_api_write_is_imaged_and_replays(tmp_path: Path) -> None:
    """Park, resume, language, missed visit, staff changes, a site: each change replays."""
    with subject_db(tmp_path / "api.db", SUBJECT) as db:
        admin = storage.authenticate(db, "admin", ADMIN_PIN)
        staff = coord(db)
        session = storage.start_session(db, SUBJECT, "M0", staff=staff)
        storage.set_language(db, session.id, "en")
        storage.record_answer(db, session.id, "vas_pain", 30.0, language="en", position=1)
        storage.set_position(db, session.id, 2)
        storage.park_session(db, session.id, staff=staff, position=2)
        storage.resume_session(db, session.id, staff=staff)
        storage.mark_missed(db, SUBJECT, "M3", reason="travel", staff=staff)
        storage.disable_staff(db, admin, "inv")
        storage.enable_staff(db, admin, "inv")
        storage.reset_pin(db, admin, "inv", "975318")  # the policy: 6 to 12 digits
        storage.add_site(db, "02", staff=admin)
        changed = db.conn.execute(
            "SELECT count(*) FROM audit_log WHERE action='rows.changed'"
        ).fetchone()[0]
        path = db.path
    assert changed == 0  # every API write imaged its rows in its own entry
    result = storage.verify_database(path)
    assert result.ok, result.message
    edit(path, "UPDATE sessions SET language='fr'")
    assert "column language is 'fr'" in storage.verify_database(path).message


def test_a_change_without_an_entry_gets_one_before_commit(tmp_path: Path) -> None:
    with subject_db(tmp_path / "raw.db", SUBJECT) as db:
        with storage.transaction(db):
            db.conn.execute("UPDATE sites SET created_at='later'")
        entry = storage.audit_entries(db)[-1]
        path = db.path
    assert entry.action == "rows.changed"
    assert entry.payload[storage.ROW_IMAGES_KEY] == {
        "sites": {"columns": ["code", "created_at"], "values": [["01", "later"]]}
    }
    assert storage.verify_database(path).ok


def test_a_deleted_row_put_back_is_named(tmp_path: Path) -> None:
    with subject_db(tmp_path / "del.db", SUBJECT) as db:
        admin = storage.authenticate(db, "admin", ADMIN_PIN)
        storage.add_site(db, "02", staff=admin)
        with storage.transaction(db):
            db.conn.execute("DELETE FROM sites WHERE code='02'")
        entry = storage.audit_entries(db)[-1]
        path = db.path
    assert entry.payload[storage.ROW_IMAGES_KEY] == {
        "sites": {"columns": ["code", "created_at"], "values": [], "deleted": ["02"]}
    }
    assert storage.verify_database(path).ok
    edit(path, "INSERT INTO sites VALUES ('02', 'x')")
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table sites row 02: exists, but audit entry #{entry.seq} of device" in result.message
    assert "deleted it" in result.message


def test_a_dropped_column_is_named(clean: Path, tmp_path: Path) -> None:
    path = copy_of(clean, tmp_path)
    edit(path, "ALTER TABLE sites DROP COLUMN created_at")
    result = storage.verify_database(path)
    assert not result.ok
    assert "table sites row 01: column created_at is missing" in result.message


def test_many_changed_rows_spread_over_several_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("respine_desktop.storage._row_images.ROWS_PER_ENTRY", 2)
    with subject_db(tmp_path / "many.db", SUBJECT) as db:
        with storage.transaction(db):
            for n in range(2, 7):
                db.conn.execute("INSERT INTO sites VALUES (?, 'x')", [f"0{n}"])
            storage.log_event(db, "test.sites", entity="site")
        entries = storage.audit_entries(db)[-3:]
        path = db.path
    assert [e.action for e in entries] == ["rows.changed", "rows.changed", "test.sites"]
    sizes = [len(e.payload[storage.ROW_IMAGES_KEY]["sites"]["values"]) for e in entries]  # type: ignore[index]
    assert sizes == [2, 2, 1]
    assert storage.verify_database(path).ok
