"""Staff accounts: roles, PINs kept only as salted scrypt hashes, lockout after wrong PINs.

Roles: ``admin`` manages accounts; ``investigator`` and ``coordinator`` run visits and may
correct a submitted answer (with a reason). Every login, failed login and lockout is an audit
entry. A refused login still commits its audit entry (and the failure counter) before raising.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from respine_desktop import clock
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import StudyDb, new_id, setting, transaction
from respine_desktop.storage._errors import (
    AccountDisabled,
    AccountLocked,
    AlreadyExists,
    InvalidInput,
    PermissionDenied,
    UnknownStaff,
    WrongPin,
)
from respine_desktop.storage._records import ROLES, Role, Staff

PIN_FORMAT = re.compile(r"^[0-9]{4,8}\Z")
USERNAME_FORMAT = re.compile(r"^[a-z][a-z0-9._-]{1,31}\Z")
# scrypt cost: about 50 ms and 16 MiB per check on a tablet-class CPU.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
CORRECTION_ROLES: tuple[Role, ...] = ("investigator", "coordinator")
DEFAULT_MAX_FAILURES = 5
DEFAULT_LOCKOUT_SECONDS = 300
_COLUMNS = "id, username, role, active, failed_attempts, locked_until, created_at, created_by"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How many wrong PINs in a row lock an account, and for how long.

    With `counts_failures` False a wrong PIN is audited (``"counted": false``) but neither adds
    to the account's failures nor locks it: for attempts anyone may make, such as the PIN that
    leaves patient mode, which the kiosk slows down instead.
    """

    max_failures: int = DEFAULT_MAX_FAILURES
    lockout: timedelta = timedelta(seconds=DEFAULT_LOCKOUT_SECONDS)
    counts_failures: bool = True


def login_policy(db: StudyDb) -> LoginPolicy:
    """The policy in the database settings (``lockout_failures``, ``lockout_seconds``)."""
    failures = setting(db, "lockout_failures", str(DEFAULT_MAX_FAILURES))
    seconds = setting(db, "lockout_seconds", str(DEFAULT_LOCKOUT_SECONDS))
    return LoginPolicy(int(failures or DEFAULT_MAX_FAILURES), timedelta(seconds=int(seconds or 0)))


def check_pin_format(pin: str) -> str:
    """`pin` if it is 4 to 8 digits, else InvalidInput."""
    if not isinstance(pin, str) or not PIN_FORMAT.match(pin):
        raise InvalidInput("a PIN must be 4 to 8 digits")
    return pin


def check_username(username: str) -> str:
    """`username` if it is 2-32 lower-case letters, digits, '.', '_' or '-', starting a letter."""
    if not isinstance(username, str) or not USERNAME_FORMAT.match(username):
        raise InvalidInput(
            f"username {username!r} must be 2-32 lower-case letters, digits, '.', '_' or '-'"
        )
    return username


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of `pin` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether `pin` matches the stored hash (constant-time comparison, params from the hash)."""
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=2**26,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def _staff(row: sqlite3.Row) -> Staff:
    return Staff(
        id=row["id"],
        username=row["username"],
        role=cast(Role, row["role"]),
        active=bool(row["active"]),
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def get_staff(db: StudyDb, username: str) -> Staff:
    """The account `username` (UnknownStaff if none)."""
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM staff WHERE username=?", [username]).fetchone()
    if row is None:
        raise UnknownStaff(f"no staff account {username!r}")
    return _staff(row)


def staff_by_id(db: StudyDb, staff_id: str) -> Staff:
    """The account with id `staff_id` (UnknownStaff if none)."""
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM staff WHERE id=?", [staff_id]).fetchone()
    if row is None:
        raise UnknownStaff(f"no staff account with id {staff_id!r}")
    return _staff(row)


def list_staff(db: StudyDb) -> list[Staff]:
    """Every account, by username."""
    return [_staff(r) for r in db.conn.execute(f"SELECT {_COLUMNS} FROM staff ORDER BY username")]


def require(db: StudyDb, actor: Staff, roles: tuple[Role, ...] = ROLES, doing: str = "") -> Staff:
    """The current record of `actor` if the account is active and has one of `roles`."""
    current = staff_by_id(db, actor.id)
    what = f" to {doing}" if doing else ""
    if not current.active:
        raise PermissionDenied(f"account {current.username!r} is disabled")
    if current.role not in roles:
        raise PermissionDenied(
            f"account {current.username!r} ({current.role}) is not allowed{what}: "
            f"needs {' or '.join(roles)}"
        )
    return current


def insert_staff(
    db: StudyDb, actor: Staff | None, username: str, role: Role, pin_hash: str
) -> Staff:
    """Insert an account and its audit entry (inside the caller's transaction; no checks)."""
    staff_id = new_id()
    now = clock.now_iso()
    db.conn.execute(
        "INSERT INTO staff (id, username, role, pin_hash, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [staff_id, username, role, pin_hash, now, actor.id if actor else None],
    )
    audit.append(
        db,
        action="staff.created",
        entity="staff",
        entity_id=staff_id,
        actor=actor.id if actor else None,
        payload={"username": username, "role": role},
    )
    return staff_by_id(db, staff_id)


def create_staff(db: StudyDb, actor: Staff, username: str, role: Role, pin: str) -> Staff:
    """Create an account (admin only)."""
    check_username(username)
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
    pin_hash = hash_pin(check_pin_format(pin))
    with transaction(db):
        require(db, actor, ("admin",), "create accounts")
        if db.conn.execute("SELECT 1 FROM staff WHERE username=?", [username]).fetchone():
            raise AlreadyExists(f"staff account {username!r} exists already")
        return insert_staff(db, actor, username, role, pin_hash)


def _set_active(db: StudyDb, actor: Staff, username: str, active: bool) -> Staff:
    verb = "enable" if active else "disable"
    with transaction(db):
        admin = require(db, actor, ("admin",), f"{verb} accounts")
        target = get_staff(db, username)
        if not active and target.id == admin.id:
            raise PermissionDenied("an administrator cannot disable their own account")
        db.conn.execute(
            "UPDATE staff SET active=?, failed_attempts=0, locked_until=NULL WHERE id=?",
            [int(active), target.id],
        )
        audit.append(
            db,
            action=f"staff.{verb}d",
            entity="staff",
            entity_id=target.id,
            actor=admin.id,
            payload={"username": username},
        )
        return staff_by_id(db, target.id)


def disable_staff(db: StudyDb, actor: Staff, username: str) -> Staff:
    """Disable an account (admin only; not one's own): it can no longer log in."""
    return _set_active(db, actor, username, False)


def enable_staff(db: StudyDb, actor: Staff, username: str) -> Staff:
    """Re-enable a disabled account (admin only)."""
    return _set_active(db, actor, username, True)


def reset_pin(db: StudyDb, actor: Staff, username: str, new_pin: str) -> Staff:
    """Set a new PIN for an account and lift its lockout (admin only)."""
    pin_hash = hash_pin(check_pin_format(new_pin))
    with transaction(db):
        admin = require(db, actor, ("admin",), "reset PINs")
        target = get_staff(db, username)
        db.conn.execute(
            "UPDATE staff SET pin_hash=?, failed_attempts=0, locked_until=NULL WHERE id=?",
            [pin_hash, target.id],
        )
        audit.append(
            db,
            action="staff.pin_reset",
            entity="staff",
            entity_id=target.id,
            actor=admin.id,
            payload={"username": username},
        )
        return staff_by_id(db, target.id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def authenticate(db: StudyDb, username: str, pin: str, policy: LoginPolicy | None = None) -> Staff:
    """The account if `pin` is right; otherwise raise, after recording the attempt.

    Raises UnknownStaff, AccountDisabled, AccountLocked (locked now, or by this attempt) or
    WrongPin. Successful logins reset the failure counter. Times come from `clock.now()`.
    """
    policy = policy or login_policy(db)
    row = db.conn.execute(
        f"SELECT {_COLUMNS}, pin_hash FROM staff WHERE username=?", [username]
    ).fetchone()
    if row is None:
        with transaction(db):
            audit.append(
                db,
                action="login.failed",
                entity="staff",
                # What was typed is not stored: on a shared tablet it could be anything, a
                # patient's name included, and the audit log can never be edited.
                payload={"reason": "unknown account", "typed_length": len(str(username))},
            )
        raise UnknownStaff(f"no staff account {username!r}")
    account, stored = _staff(row), str(row["pin_hash"])
    now = clock.now()
    error: Exception | None = None
    # The slow hash runs outside the write transaction, so other writers are not held up.
    good = pin_matches(pin, stored) if isinstance(pin, str) else False
    with transaction(db):
        account = staff_by_id(db, account.id)
        payload: dict[str, Any] = {"username": username}
        if not account.active:
            audit.append(
                db,
                action="login.refused",
                entity="staff",
                entity_id=account.id,
                payload={**payload, "reason": "disabled"},
            )
            error = AccountDisabled(f"account {username!r} is disabled")
        elif account.locked_until and account.locked_until > _iso(now):
            audit.append(
                db,
                action="login.refused",
                entity="staff",
                entity_id=account.id,
                payload={**payload, "reason": "locked", "locked_until": account.locked_until},
            )
            error = AccountLocked(
                f"account {username!r} is locked until {account.locked_until} after "
                f"{policy.max_failures} wrong PINs"
            )
        elif good:
            db.conn.execute(
                "UPDATE staff SET failed_attempts=0, locked_until=NULL WHERE id=?", [account.id]
            )
            audit.append(
                db,
                action="login.succeeded",
                entity="staff",
                entity_id=account.id,
                actor=account.id,
                payload=payload,
            )
        elif not policy.counts_failures:
            audit.append(
                db,
                action="login.failed",
                entity="staff",
                entity_id=account.id,
                payload={**payload, "reason": "wrong PIN", "counted": False},
            )
            error = WrongPin(f"wrong PIN for {username!r}")
        else:
            failures = account.failed_attempts + 1
            audit.append(
                db,
                action="login.failed",
                entity="staff",
                entity_id=account.id,
                payload={**payload, "reason": "wrong PIN", "failures": failures},
            )
            if failures >= policy.max_failures:
                until = _iso(now + policy.lockout)
                db.conn.execute(
                    "UPDATE staff SET failed_attempts=0, locked_until=? WHERE id=?",
                    [until, account.id],
                )
                audit.append(
                    db,
                    action="staff.locked",
                    entity="staff",
                    entity_id=account.id,
                    payload={**payload, "locked_until": until, "failures": failures},
                )
                error = AccountLocked(
                    f"wrong PIN for {username!r}: {failures} wrong PINs, "
                    f"account locked until {until}"
                )
            else:
                db.conn.execute(
                    "UPDATE staff SET failed_attempts=? WHERE id=?", [failures, account.id]
                )
                left = policy.max_failures - failures
                error = WrongPin(
                    f"wrong PIN for {username!r} ({left} attempts left before lockout)"
                )
    if error is not None:
        raise error
    return staff_by_id(db, account.id)
