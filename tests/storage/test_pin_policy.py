"""The staff PIN policy (issue 13): 6-12 digits, no sequence, repeat or common PIN; escalating,
audited lockouts on the moved clock; weaker hashes upgraded and old 4-digit PINs changed."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from respine_desktop import clock, storage
from respine_desktop.paths import resource
from respine_desktop.storage import StudyDb
from respine_desktop.storage import _pin_policy as policy
from respine_desktop.storage import _staff as staff
from tests.support.storage import (
    ADMIN_PIN,
    COORD_PIN,
    NOW,
    fixed_clock,
    new_db,
    old_schema_db,
    row_counts,
)

WRONG = "999999"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDb]:
    fixed_clock()
    database = new_db(tmp_path / "study.db")
    yield database
    database.close()
    clock.set_clock(None)


def _old_hash(pin: str) -> str:
    """A hash as the versions before issue 13 made it (scrypt N = 2**14)."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${2**14}$8$1${staff._b64(salt)}${staff._b64(key)}"


@pytest.mark.parametrize("pin", ["482915", "731592", "4826195037", "048271", "975318642013"])
def test_a_good_pin_of_6_to_12_digits_is_accepted(pin: str) -> None:
    assert storage.check_pin_policy(pin) == pin
    assert storage.pin_policy_problem(pin) is None and not storage.pin_breaks_policy(pin)


@pytest.mark.parametrize(
    ("pin", "why"),
    [
        ("1234", "6 to 12 digits"),
        ("48291", "6 to 12 digits"),
        ("4829150371625", "6 to 12 digits"),
        ("48291a", "6 to 12 digits"),
        ("482915\n", "6 to 12 digits"),
        ("123456", "sequence"),
        ("654321", "sequence"),
        ("234567890", "sequence"),
        ("890123", "sequence"),
        ("111111", "repeat"),
        ("000000000000", "repeat"),
        ("121212", "repeat"),
        ("123123", "repeat"),
        ("48294829", "repeat"),
        ("112233", "most common"),
        ("159753", "most common"),
        ("246810", "most common"),
    ],
)
def test_a_pin_that_breaks_the_policy_is_refused_saying_why(pin: str, why: str) -> None:
    with pytest.raises(storage.InvalidInput, match=why):
        storage.check_pin_policy(pin)
    assert storage.pin_breaks_policy(pin)


def test_the_common_pins_list_names_its_source_and_holds_only_candidate_pins() -> None:
    text = resource("security", "common_pins.txt").read_text(encoding="utf-8")
    assert "Source:" in text and "Markert" in text
    pins = policy.common_pins()
    assert len(pins) >= 40
    # Every entry is a PIN the format allows and that the rules alone would not refuse.
    assert all(policy.PIN_FORMAT.match(p) for p in pins)
    assert not [p for p in pins if policy._is_sequence(p) or policy._is_repeat(p)]


def _said(payload: dict[str, object], stored: str) -> dict[str, object]:
    """What an entry that changed a PIN says besides its row image; the image holds the new
    hash's digest only (an edit of the hash shows in `verify`; the hash stays in the file)."""
    said = dict(payload)
    image = said.pop(storage.ROW_IMAGES_KEY)
    assert isinstance(image, dict)
    (row,) = image["staff"]["values"]
    columns = image["staff"]["columns"]
    digest = "sha256:" + hashlib.sha256(stored.encode()).hexdigest()
    assert row[columns.index("pin_hash")] == digest and stored not in str(payload)
    return said


def test_new_accounts_and_resets_follow_the_policy_and_write_nothing_else(db: StudyDb) -> None:
    admin = storage.authenticate(db, "admin", ADMIN_PIN)
    before = row_counts(db)
    for bad in ("1234", "123456", "111111", "112233"):
        with pytest.raises(storage.InvalidInput):
            storage.create_staff(db, admin, "dm", "data_manager", bad)
        with pytest.raises(storage.InvalidInput):
            storage.reset_pin(db, admin, "coord", bad)
    assert row_counts(db) == before
    created = storage.create_staff(db, admin, "dm", "data_manager", "482915")
    assert created.role == "data_manager" and "data_manager" in storage.ROLES
    assert storage.authenticate(db, "dm", "482915").role == "data_manager"


def test_lockouts_escalate_5_10_20_minutes_are_audited_and_say_for_how_long(db: StudyDb) -> None:
    start = NOW
    for lockout, minutes in enumerate((5, 10, 20)):
        for _ in range(4):
            with pytest.raises(storage.WrongPin):
                storage.authenticate(db, "coord", WRONG)
        with pytest.raises(storage.AccountLocked, match=f"locked for {minutes} minutes"):
            storage.authenticate(db, "coord", WRONG)
        locked = storage.audit_entries(db, action="staff.locked")[-1]
        assert locked.payload["seconds"] == minutes * 60
        assert locked.payload["lockout"] == lockout + 1
        fixed_clock(start + timedelta(minutes=minutes - 1))
        with pytest.raises(storage.AccountLocked, match="locked for another 1 minute"):
            storage.authenticate(db, "coord", COORD_PIN)  # even the right PIN
        start = start + timedelta(minutes=minutes, seconds=1)
        fixed_clock(start)
    assert len(storage.audit_entries(db, action="staff.locked")) == 3
    assert staff.lockouts(db, "coord") == 3
    # A successful sign-in starts the escalation again from 5 minutes.
    storage.authenticate(db, "coord", COORD_PIN)
    assert staff.lockouts(db, "coord") == 0
    for _ in range(4):
        with pytest.raises(storage.WrongPin):
            storage.authenticate(db, "coord", WRONG)
    with pytest.raises(storage.AccountLocked, match="locked for 5 minutes"):
        storage.authenticate(db, "coord", WRONG)


def test_the_lockout_doubles_up_to_one_day_and_a_pin_reset_lifts_it(db: StudyDb) -> None:
    rule = storage.LoginPolicy()
    assert [rule.lockout_after(n) for n in range(4)] == [
        timedelta(minutes=m) for m in (5, 10, 20, 40)
    ]
    assert rule.lockout_after(9) == timedelta(days=1) == rule.lockout_after(500)
    assert staff.describe_duration(timedelta(days=1)) == "1 day"
    assert staff.describe_duration(timedelta(hours=2)) == "2 hours"
    assert staff.describe_duration(timedelta(seconds=61)) == "2 minutes"
    for _ in range(5):
        with pytest.raises((storage.WrongPin, storage.AccountLocked)):
            storage.authenticate(db, "coord", WRONG)
    admin = storage.authenticate(db, "admin", ADMIN_PIN)
    storage.reset_pin(db, admin, "coord", "731529")
    assert staff.lockouts(db, "coord") == 0
    assert storage.authenticate(db, "coord", "731529").failed_attempts == 0


def test_a_weaker_hash_is_upgraded_at_the_next_sign_in_and_audited_without_it(
    db: StudyDb,
) -> None:
    old = _old_hash(COORD_PIN)
    with db.conn:
        db.conn.execute("UPDATE staff SET pin_hash=? WHERE username='coord'", [old])
    assert not staff.hash_is_current(old)
    storage.authenticate(db, "coord", COORD_PIN)
    stored = db.conn.execute("SELECT pin_hash FROM staff WHERE username='coord'").fetchone()[0]
    assert stored != old and staff.hash_is_current(stored)
    assert stored.startswith(f"scrypt${staff.SCRYPT_N}${staff.SCRYPT_R}$")
    (entry,) = storage.audit_entries(db, action="staff.pin_rehashed")
    assert _said(entry.payload, stored) == {
        "username": "coord",
        "from": "scrypt N=16384 r=8 p=1",
        "to": f"scrypt N={staff.SCRYPT_N} r={staff.SCRYPT_R} p={staff.SCRYPT_P}",
    }
    assert old.split("$")[-1] not in str(entry.payload)
    assert stored.split("$")[-1] not in str(entry.payload)
    # Signed in again: already current, nothing more to upgrade.
    storage.authenticate(db, "coord", COORD_PIN)
    assert len(storage.audit_entries(db, action="staff.pin_rehashed")) == 1
    # A wrong PIN never upgrades anything.
    with db.conn:
        db.conn.execute("UPDATE staff SET pin_hash=? WHERE username='coord'", [old])
    with pytest.raises(storage.WrongPin):
        storage.authenticate(db, "coord", WRONG)
    assert db.conn.execute("SELECT pin_hash FROM staff WHERE username='coord'").fetchone()[0] == old


def test_an_old_4_digit_pin_still_signs_in_and_is_then_changed(db: StudyDb) -> None:
    with db.conn:
        db.conn.execute("UPDATE staff SET pin_hash=? WHERE username='coord'", [_old_hash("2468")])
    coord = storage.authenticate(db, "coord", "2468")
    assert storage.pin_breaks_policy("2468")  # the caller asks for a new PIN
    with pytest.raises(storage.InvalidInput, match="sequence"):
        storage.change_pin(db, coord, "2468", "345678")
    with pytest.raises(storage.WrongPin):
        storage.change_pin(db, coord, "1357", "731529")
    storage.change_pin(db, coord, "2468", "731529")
    assert storage.authenticate(db, "coord", "731529").username == "coord"
    with pytest.raises(storage.WrongPin):
        storage.authenticate(db, "coord", "2468")
    changed = storage.audit_entries(db, action="staff.pin_changed")
    stored = db.conn.execute("SELECT pin_hash FROM staff WHERE username='coord'").fetchone()[0]
    assert [_said(e.payload, stored) for e in changed] == [{"username": "coord"}]
    with pytest.raises(storage.InvalidInput, match="differ"):
        storage.change_pin(db, coord, "731529", "731529")


def test_migration_0009_keeps_the_accounts_and_allows_the_data_manager(tmp_path: Path) -> None:
    path = old_schema_db(tmp_path / "old.db", before="0009_staff_policy")
    with sqlite3.connect(path) as conn:  # `old_schema_db` has made its device d1 already
        conn.execute(
            "INSERT INTO staff (id, username, role, pin_hash, created_at) "
            "VALUES ('a1', 'admin', 'admin', ?, 'x')",
            [_old_hash("1357")],
        )
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO staff (id, username, role, pin_hash, created_at) "
                "VALUES ('d1', 'dm', 'data_manager', 'h', 'x')"
            )
    conn.close()
    with storage.open_database(path) as opened:
        assert "0009_staff_policy" in opened.info.migrations
        admin = storage.authenticate(opened, "admin", "1357")  # the old PIN and hash still work
        assert staff.lockouts(opened, "admin") == 0
        storage.create_staff(opened, admin, "dm", "data_manager", "482915")
        with pytest.raises(sqlcipher.IntegrityError), opened.conn:  # storage's driver: SQLCipher
            opened.conn.execute("UPDATE staff SET role='boss' WHERE username='dm'")
