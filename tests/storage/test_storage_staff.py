"""Staff accounts: PINs as salted scrypt hashes, lockout on the clock, admin-only management."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import clock, storage
from respine_desktop.storage import StudyDb
from respine_desktop.storage import _staff as staff
from tests.support.storage import ADMIN_PIN, COORD_PIN, NOW, fixed_clock, new_db, row_counts


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDb]:
    fixed_clock()
    database = new_db(tmp_path / "study.db")
    yield database
    database.close()
    clock.set_clock(None)


@pytest.mark.req("SEC-01")
def test_pins_are_stored_only_as_salted_scrypt_hashes(db: StudyDb) -> None:
    rows = db.conn.execute("SELECT username, pin_hash FROM staff").fetchall()
    hashes = [h for _, h in rows]
    assert all(h.startswith(f"scrypt${staff.SCRYPT_N}$8$1$") for h in hashes)
    assert not any(pin in h for h in hashes for pin in (ADMIN_PIN, COORD_PIN))
    # Same PIN, different salt: different hashes.
    assert staff.hash_pin("1234") != staff.hash_pin("1234")
    assert staff.pin_matches("1234", staff.hash_pin("1234"))
    assert not staff.pin_matches("1235", staff.hash_pin("1234"))


@pytest.mark.req("SEC-01")
def test_a_hash_made_by_hashlib_scrypt_still_matches() -> None:
    """PINs are hashed through `cryptography` (the frozen build has no `_hashlib`): the same
    bytes as Python's hashlib.scrypt, so every hash stored before still signs in."""
    salt = bytes(range(16))
    stored = hashlib.scrypt(
        b"860427", salt=salt, n=staff.SCRYPT_N, r=8, p=1, dklen=32, maxmem=2**27
    )
    text = f"scrypt${staff.SCRYPT_N}$8$1${base64.b64encode(salt).decode()}$"
    assert staff.pin_matches("860427", text + base64.b64encode(stored).decode())
    assert not staff.pin_matches("860428", text + base64.b64encode(stored).decode())


@pytest.mark.req("SEC-01")
@pytest.mark.parametrize(
    "params",
    [
        # N = 2**21, r = 8: 2 GiB a check; hashlib's maxmem (128 MiB) refused it, so must we
        f"{2**21}$8$1",
        f"{2**15}$4096$1",  # r that large: 16 GiB
        f"{2**15}$8$0",  # p < 1
        f"{2**15}$0$1",  # r < 1
        "1000$8$1",  # N not a power of 2
    ],
)
def test_a_stored_hash_with_impossible_or_excessive_cost_never_matches(params: str) -> None:
    salt = base64.b64encode(bytes(16)).decode()
    key = base64.b64encode(bytes(32)).decode()
    assert not staff.pin_matches("860427", f"scrypt${params}${salt}${key}")


def test_a_stored_hash_with_an_empty_key_never_matches() -> None:
    """An empty stored key would compare equal to an empty derived one: refused first."""
    salt = base64.b64encode(bytes(16)).decode()
    assert not staff.pin_matches("860427", f"scrypt${staff.SCRYPT_N}$8$1${salt}$")


def test_login_success_and_failure_are_audited(db: StudyDb) -> None:
    account = storage.authenticate(db, "coord", COORD_PIN)
    assert account.role == "coordinator"
    before = row_counts(db)
    with pytest.raises(storage.WrongPin, match="wrong PIN for 'coord' \\(4 attempts left"):
        storage.authenticate(db, "coord", "0000")
    after = row_counts(db)
    # Only the audit entry of the failed attempt was written.
    assert after == {**before, "audit_log": before["audit_log"] + 1}
    actions = [e.action for e in storage.audit_entries(db)][-2:]
    assert actions == ["login.succeeded", "login.failed"]
    with pytest.raises(storage.UnknownStaff, match="no staff account 'ghost'"):
        storage.authenticate(db, "ghost", "1234")


@pytest.mark.req("SEC-02")
def test_five_wrong_pins_lock_the_account_for_five_minutes(db: StudyDb) -> None:
    for _ in range(4):
        with pytest.raises(storage.WrongPin):
            storage.authenticate(db, "coord", "9999")
    with pytest.raises(
        storage.AccountLocked, match=r"5 wrong PINs, account locked for 5 minutes \(until"
    ):
        storage.authenticate(db, "coord", "9999")
    before = row_counts(db)
    with pytest.raises(
        storage.AccountLocked,
        match=r"locked for another 5 minutes \(until 2026-03-02T09:35:00\.000Z",
    ):
        storage.authenticate(db, "coord", COORD_PIN)  # even the right PIN
    # Nothing but the audit entry of the refused attempt was written.
    assert row_counts(db) == {**before, "audit_log": before["audit_log"] + 1}
    assert storage.audit_entries(db)[-1].payload["reason"] == "locked"
    fixed_clock(NOW + timedelta(minutes=4, seconds=59))
    with pytest.raises(storage.AccountLocked):
        storage.authenticate(db, "coord", COORD_PIN)
    fixed_clock(NOW + timedelta(minutes=5, seconds=1))
    assert storage.authenticate(db, "coord", COORD_PIN).failed_attempts == 0
    actions = [e.action for e in storage.audit_entries(db, action="staff.locked")]
    assert actions == ["staff.locked"]


def test_lockout_policy_is_configurable(db: StudyDb) -> None:
    policy = storage.LoginPolicy(max_failures=2, lockout=timedelta(minutes=1))
    with pytest.raises(storage.WrongPin):
        storage.authenticate(db, "coord", "9999", policy)
    with pytest.raises(storage.AccountLocked, match=r"until 2026-03-02T09:31:00\.000Z"):
        storage.authenticate(db, "coord", "9999", policy)


def test_a_policy_that_counts_no_failures_audits_them_and_never_locks(db: StudyDb) -> None:
    uncounted = storage.LoginPolicy(counts_failures=False)
    for _ in range(8):
        with pytest.raises(storage.WrongPin):
            storage.authenticate(db, "coord", "9999", uncounted)
    failed = storage.audit_entries(db, action="login.failed")
    assert len(failed) == 8 and all(e.payload["counted"] is False for e in failed)
    assert storage.get_staff(db, "coord").failed_attempts == 0
    assert storage.authenticate(db, "coord", COORD_PIN, uncounted).role == "coordinator"
    # A lock made elsewhere still holds.
    for _ in range(5):
        with pytest.raises((storage.WrongPin, storage.AccountLocked)):
            storage.authenticate(db, "coord", "9999")
    with pytest.raises(storage.AccountLocked):
        storage.authenticate(db, "coord", COORD_PIN, uncounted)


def test_only_an_admin_manages_accounts(db: StudyDb) -> None:
    admin = storage.authenticate(db, "admin", ADMIN_PIN)
    coord = storage.get_staff(db, "coord")
    before = row_counts(db)
    with pytest.raises(storage.PermissionDenied, match="needs admin"):
        storage.create_staff(db, coord, "eve", "admin", "572913")
    with pytest.raises(storage.PermissionDenied, match="needs admin"):
        storage.reset_pin(db, coord, "admin", "572913")
    with pytest.raises(storage.InvalidInput, match="6 to 12 digits"):
        storage.create_staff(db, admin, "eve", "coordinator", "12a4")
    with pytest.raises(storage.InvalidInput, match="role 'boss'"):
        storage.create_staff(db, admin, "eve", "boss", "572913")  # type: ignore[arg-type]
    with pytest.raises(storage.AlreadyExists):
        storage.create_staff(db, admin, "coord", "coordinator", "572913")
    assert row_counts(db) == before
    storage.disable_staff(db, admin, "coord")
    with pytest.raises(storage.AccountDisabled):
        storage.authenticate(db, "coord", COORD_PIN)
    with pytest.raises(storage.PermissionDenied, match="disabled"):
        storage.register_subject(db, "RSP-01-001", day0=NOW.date(), staff=coord)
    storage.enable_staff(db, admin, "coord")
    storage.reset_pin(db, admin, "coord", "572913")
    assert storage.authenticate(db, "coord", "572913").active
    with pytest.raises(storage.PermissionDenied, match="own account"):
        storage.disable_staff(db, admin, "admin")
    actions = {e.action for e in storage.audit_entries(db)}
    assert {"staff.created", "staff.disabled", "staff.enabled", "staff.pin_reset"} <= actions


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (storage.check_subject_code, "RSP-01-023\n"),
        (staff.check_username, "admin\n"),
        (staff.check_pin_format, "572913\n"),
    ],
)
def test_a_trailing_line_break_is_not_a_valid_code_name_or_pin(
    check: Callable[[str], object], text: str
) -> None:
    """`$` in a pattern also matches before a final newline: every format ends with `\\Z`."""
    check(text[:-1])
    with pytest.raises(storage.InvalidInput):
        check(text)


def test_a_site_code_with_a_line_break_is_refused(tmp_path: Path) -> None:
    with pytest.raises(storage.InvalidInput, match="site code"):
        new_db(tmp_path / "s.db", site_code="01\n")
    assert not (tmp_path / "s.db").exists()
