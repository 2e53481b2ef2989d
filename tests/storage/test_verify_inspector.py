"""An inspector's direct edits of a hub (issue 12's list): each is named by `verify`, exit 1.

The hub of `test_verify_devices.site` holds its own rows, rows merged from two kiosks, a conflict
choice, a withdrawal and both kiosks' chains. Each attack edits one table of a copy of it with
sqlite3, behind the application's back (the protective triggers dropped for the edit and put
back, the audit log untouched), as someone opening the file with any SQLite tool would; `verify`
must fail naming the table and the row, in-process and on the command line (exit 1, one line on
stderr). What the rewrite of the chain *as well* does is `test_verify_devices`'s subject.

Beyond issue 12's list: scores, answers, the audit log itself (any column, prev_hash included,
an entry removed), a device's chain head, signatures and VAS calibrations (made on the copy by
the application first, then edited).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.storage.test_vas_calibrations import SCREEN
from tests.storage.test_verify_devices import GONE, LATE, PARKED, one, site
from tests.storage.test_verify_replay import verify_cli
from tests.support.storage import ADMIN_PIN, coord

__all__ = ["site"]  # the module fixture, shared

Find = Callable[[Path], str]


def _subject(code: str) -> Find:
    return lambda p: one(p, f"SELECT id FROM subjects WHERE code='{code}'")


def _late_session(p: Path) -> str:
    return one(
        p,
        "SELECT s.id FROM sessions s JOIN subjects j ON j.id=s.subject_id "
        f"WHERE j.code='{LATE}' AND s.visit_code='M0'",
    )


def _current_score(p: Path) -> str:
    return one(
        p,
        "SELECT c.id FROM scores c JOIN sessions s ON s.id=c.session_id JOIN subjects j "
        f"ON j.id=s.subject_id WHERE j.code='{LATE}' AND c.instrument_id='odi' "
        "AND c.superseded_by IS NULL",
    )


def _answer(p: Path) -> str:
    return one(
        p,
        "SELECT a.id FROM answers a JOIN sessions s ON s.id=a.session_id JOIN subjects j "
        f"ON j.id=s.subject_id WHERE j.code='{LATE}' AND a.item_id='odi_02'",
    )


def _entry(p: Path) -> str:
    """Entry #5 of kiosk a's chain on the hub."""
    return one(
        p,
        "SELECT l.id FROM audit_log l JOIN devices d ON d.id=l.device_id "
        "WHERE d.label='kiosk a' AND l.seq=5",
    )


def _account(username: str) -> Find:
    return lambda p: one(p, f"SELECT id FROM staff WHERE username='{username}'")


# A JSON text of 3,000 nested arrays, in SQL: Python's parser stops at its recursion limit.
_NESTED = "replace(hex(zeroblob(3000)), '00', '[') || replace(hex(zeroblob(3000)), '00', ']')"

# attack -> (the row it edits, SQL with {key}, what the one line must say with {key})
ATTACKS: dict[str, tuple[Find, list[str], str]] = {
    "subjects: two codes swapped": (
        _subject(LATE),
        [
            f"UPDATE subjects SET code='RSP-01-999' WHERE code='{LATE}'",
            f"UPDATE subjects SET code='{LATE}' WHERE code='{PARKED}'",
            f"UPDATE subjects SET code='{PARKED}' WHERE code='RSP-01-999'",
        ],
        "table subjects row {key}: column code is 'RSP-01-051'",
    ),
    "subjects: day 0": (
        _subject(LATE),
        ["UPDATE subjects SET day0='2025-06-01' WHERE id='{key}'"],
        "table subjects row {key}: column day0 is '2025-06-01'",
    ),
    "visits: a complete visit turned missed": (
        lambda p: one(
            p,
            "SELECT v.id FROM visits v JOIN subjects j ON j.id=v.subject_id "
            f"WHERE j.code='{LATE}' AND v.visit_code='M0'",
        ),
        ["UPDATE visits SET state='missed', missed_reason='x' WHERE id='{key}'"],
        "table visits row {key}: column state is 'missed'",
    ),
    "sessions: submitter": (
        _late_session,
        [
            "UPDATE sessions SET submitted_by=(SELECT id FROM staff WHERE username='inv') "
            "WHERE id='{key}'"
        ],
        "table sessions row {key}: column submitted_by is ",
    ),
    "sessions: device": (
        _late_session,
        [
            "UPDATE sessions SET device_id=(SELECT id FROM devices WHERE label='kiosk b') "
            "WHERE id='{key}'"
        ],
        "table sessions row {key}: column device_id is ",
    ),
    "staff: role": (
        _account("coord"),
        ["UPDATE staff SET role='admin' WHERE id='{key}'"],
        "table staff row {key}: column role is 'admin'",
    ),
    "staff: PIN hash swapped for the admin's (sign in as coord with the admin's PIN)": (
        _account("coord"),
        [
            "UPDATE staff SET pin_hash=(SELECT pin_hash FROM staff WHERE username='admin') "
            "WHERE id='{key}'"
        ],
        "table staff row {key}: column pin_hash is 'sha256:",
    ),
    "staff: an imported account given a PIN and enabled": (
        lambda p: one(p, "SELECT id FROM staff WHERE username LIKE 'coord@%' ORDER BY rowid"),
        [
            "UPDATE staff SET pin_hash=(SELECT pin_hash FROM staff WHERE username='admin'), "
            "active=1 WHERE id='{key}'"
        ],
        "table staff row {key}: column ",
    ),
    "settings: lockout after a million wrong PINs": (
        lambda p: "lockout_failures",
        ["INSERT INTO settings (key, value) VALUES ('lockout_failures', '1000000')"],
        "table settings row lockout_failures: no audit entry records it",
    ),
    "settings: lockouts of no time": (
        lambda p: "lockout_seconds",
        ["INSERT INTO settings (key, value) VALUES ('lockout_seconds', '0')"],
        "table settings row lockout_seconds: no audit entry records it",
    ),
    "devices: a kiosk renamed": (
        lambda p: one(p, "SELECT id FROM devices WHERE label='kiosk a'"),
        ["UPDATE devices SET label='kiosk z' WHERE id='{key}'"],
        "table devices row {key}: column label is 'kiosk z'",
    ),
    "devices: a kiosk deleted": (
        lambda p: one(p, "SELECT id FROM devices WHERE label='kiosk b'"),
        ["DELETE FROM devices WHERE id='{key}'"],
        "table devices row {key}: missing",
    ),
    "session_choices: the other session chosen": (
        lambda p: one(p, "SELECT id FROM session_choices"),
        [
            "UPDATE session_choices SET session_id=(SELECT s.id FROM sessions s WHERE "
            "s.visit_id=session_choices.visit_id AND s.id!=session_choices.session_id) "
            "WHERE id='{key}'"
        ],
        "table session_choices row {key}: differs from what audit entry #",
    ),
    "session_choices: reason": (
        lambda p: one(p, "SELECT id FROM session_choices"),
        ["UPDATE session_choices SET reason='A is complete' WHERE id='{key}'"],
        "table session_choices row {key}: differs from what audit entry #",
    ),
    "session_choices: deleted": (
        lambda p: one(p, "SELECT id FROM session_choices"),
        ["DELETE FROM session_choices WHERE id='{key}'"],
        "table session_choices row {key}: missing (audit entry #",
    ),
    "withdrawals: day": (
        lambda p: one(p, "SELECT id FROM withdrawals"),
        [
            "UPDATE withdrawals SET withdrawn_on=(SELECT day0 FROM subjects WHERE code='"
            + GONE
            + "') WHERE id='{key}'"
        ],
        "table withdrawals row {key}: column withdrawn_on is ",
    ),
    "withdrawals: deleted": (
        lambda p: one(p, "SELECT id FROM withdrawals"),
        ["DELETE FROM withdrawals WHERE id='{key}'"],
        "table withdrawals row {key}: missing (recorded by audit entry #",
    ),
    "scores: a current score's values": (
        _current_score,
        ["UPDATE scores SET scores='{\"total\": 0}' WHERE id='{key}'"],
        "table scores row {key} (subject " + LATE + " visit M0, ",
    ),
    "scores: a superseded score made current again": (
        lambda p: one(p, "SELECT id FROM scores WHERE superseded_by IS NOT NULL ORDER BY rowid"),
        ["UPDATE scores SET superseded_at=NULL, superseded_by=NULL WHERE id='{key}'"],
        "table scores row {key} (subject ",
    ),
    "answers: a value": (
        _answer,
        ["UPDATE answers SET value=value+1 WHERE id='{key}'"],
        "table answers row {key} (odi_02): differs from what audit entry #",
    ),
    "answers: deleted": (
        _answer,
        ["DELETE FROM answers WHERE id='{key}'"],
        "table answers row {key} (odi_02), recorded by audit entry #",
    ),
    "answers: the staff who gave it (outside the listed id, item, value)": (
        _answer,
        ["UPDATE answers SET given_by='someone' WHERE id='{key}'"],
        # the entry's digest spans its rows: the rows of that entry are named, not one of them
        "table answers rows ",
    ),
    "devices: a kiosk's chain head": (
        lambda p: one(p, "SELECT id FROM devices WHERE label='kiosk a'"),
        ["UPDATE devices SET audit_head='00' || substr(audit_head, 3) WHERE id='{key}'"],
        "table devices row {key}: audit_seq/audit_head: ",
    ),
    "audit_log: an entry's prev_hash": (
        _entry,
        ["UPDATE audit_log SET prev_hash='00' || substr(prev_hash, 3) WHERE id='{key}'"],
        "table audit_log row {key}: audit entry #5 of device ",
    ),
    "audit_log: an entry's actor": (
        _entry,
        ["UPDATE audit_log SET actor='someone' WHERE id='{key}'"],
        "table audit_log row {key}: audit entry #5 of device ",
    ),
    "audit_log: an entry's time": (
        _entry,
        ["UPDATE audit_log SET at='2020-01-01T00:00:00.000000Z' WHERE id='{key}'"],
        "table audit_log row {key}: audit entry #5 of device ",
    ),
    "audit_log: an entry's payload": (
        _entry,
        ["UPDATE audit_log SET payload=replace(payload, '}', ' }') WHERE id='{key}'"],
        "table audit_log row {key}: audit entry #5 of device ",
    ),
    "audit_log: an entry's payload nested too deeply for Python's parser": (
        _entry,
        [f"UPDATE audit_log SET payload={_NESTED} WHERE id='{{key}}'"],
        "table audit_log row {key}: audit entry #5 of device ",
    ),
    "scores: a current score's values not JSON": (
        _current_score,
        ["UPDATE scores SET scores='total: 0' WHERE id='{key}'"],
        "table scores row {key} (subject " + LATE + " visit M0, ",
    ),
    "scores: a current score's values nested too deeply for Python's parser": (
        _current_score,
        [f"UPDATE scores SET scores={_NESTED} WHERE id='{{key}}'"],
        "table scores row {key} (subject " + LATE + " visit M0, ",
    ),
    "audit_log: an entry's stored hash": (
        _entry,
        ["UPDATE audit_log SET hash='00' || substr(hash, 3) WHERE id='{key}'"],
        "table audit_log row {key}: audit entry #5 of device ",
    ),
    "audit_log: an entry deleted": (
        _entry,
        ["DELETE FROM audit_log WHERE id='{key}'"],
        "table audit_log: audit entry #5 of device ",
    ),
}


def edit_behind_the_app(path: Path, statements: list[str]) -> None:
    """Run `statements` with the protective triggers dropped, then put them back."""
    conn = sqlite3.connect(path)
    try:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND name LIKE '%_no_%'"
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            assert conn.execute(statement).rowcount >= 1, statement
        for _, sql in triggers:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def test_the_hub_verifies_before_any_edit(site: Path) -> None:
    result = storage.verify_database(site / "hub.db")
    assert result.ok, result.message
    with storage.open_database(site / "hub.db", readonly=True) as db:
        assert len(storage.list_withdrawals(db)) == 1
    assert one(site / "hub.db", "SELECT count(*) FROM session_choices") == "1"


@pytest.mark.req("AUD-01")
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_inspectors_direct_edit_is_named_with_table_and_row(
    site: Path, tmp_path: Path, attack: str
) -> None:
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    find, statements, expected = ATTACKS[attack]
    key = find(hub)
    edit_behind_the_app(hub, [s.replace("{key}", key) for s in statements])
    said = expected.replace("{key}", key)
    result = storage.verify_database(hub)
    assert not result.ok
    assert said in result.message, result.message
    done = verify_cli(hub)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert said in line


def _signed_and_calibrated(site: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of the hub where coord calibrated the VAS line and the admin signed LATE's M0."""
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    with storage.open_database(hub) as db:
        calibration = storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=104.0, drawn_factor=1.0, screen=SCREEN
        )
        signature = storage.sign(
            db,
            subject_code=LATE,
            visit_code="M0",
            meaning="reviewed",
            username="admin",
            pin=ADMIN_PIN,
        )
    assert storage.verify_database(hub).ok
    return hub, signature.id, calibration.id


SIGNED: dict[str, tuple[str, str, str]] = {
    # attack -> (table, SQL with {key}, what the one line must say after the row)
    "signatures: the meaning": (
        "signatures",
        "UPDATE signatures SET meaning='approved' WHERE id='{key}'",
        "column meaning is 'approved'",
    ),
    "signatures: the content hash": (
        "signatures",
        "UPDATE signatures SET content_sha256='" + "0" * 64 + "' WHERE id='{key}'",
        "column content_sha256 is '0000",
    ),
    "signatures: deleted": (
        "signatures",
        "DELETE FROM signatures WHERE id='{key}'",
        "missing (recorded by audit entry #",
    ),
    "vas_calibrations: the factor": (
        "vas_calibrations",
        "UPDATE vas_calibrations SET factor=0.5 WHERE id='{key}'",
        "column factor is 0.5",
    ),
    "vas_calibrations: deleted": (
        "vas_calibrations",
        "DELETE FROM vas_calibrations WHERE id='{key}'",
        "missing (recorded by audit entry #",
    ),
}


@pytest.mark.req("AUD-01")
@pytest.mark.parametrize("attack", sorted(SIGNED))
def test_a_signature_or_calibration_edited_is_named_with_table_and_row(
    site: Path, tmp_path: Path, attack: str
) -> None:
    hub, signature, calibration = _signed_and_calibrated(site, tmp_path)
    table, statement, after = SIGNED[attack]
    key = signature if table == "signatures" else calibration
    edit_behind_the_app(hub, [statement.replace("{key}", key)])
    said = f"table {table} row {key}: {after}"
    result = storage.verify_database(hub)
    assert not result.ok
    assert said in result.message, result.message
    done = verify_cli(hub)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert said in line
