"""Staff accounts: roles, PINs kept only as salted scrypt hashes, lockout after wrong PINs.

Roles: ``admin`` manages accounts; ``investigator`` and ``coordinator`` run visits and may
correct a submitted answer (with a reason); ``data_manager`` exports and imports (the commands'
role matrix is `respine_desktop.cli._access`). Every login, failed login and lockout is an audit
entry. A refused login still commits its audit entry (and the failure counter) before raising.

A new PIN follows `respine_desktop.storage._pin_policy` (6-12 digits, no sequence, repeat or
common PIN). Lockouts escalate: the first after `LoginPolicy.max_failures` wrong PINs lasts
`LoginPolicy.lockout` (5 minutes), each further one twice as long (10, 20, 40 ... minutes, at most
`LoginPolicy.longest`) until the account signs in again or an admin resets its PIN. A hash made
with weaker scrypt parameters than `SCRYPT_N`/`SCRYPT_R` is replaced at the next successful
sign-in (audited ``staff.pin_rehashed``, the payload naming the parameters only).
"""

from __future__ import annotations

import base64
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
from respine_desktop.storage._pin_policy import check_pin_policy
from respine_desktop.storage._records import ROLES, Role, Staff

USERNAME_FORMAT = re.compile(r"^[a-z][a-z0-9._-]{1,31}\Z")
# scrypt cost: one check takes >= 100 ms and 32 MiB on the 2-core build machine (bench/pins.py
# prints the figure); the hashes of older versions (N = 2**14) are upgraded at sign-in.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**15, 8, 1, 32
SCRYPT_MAXMEM = 2**27
CORRECTION_ROLES: tuple[Role, ...] = ("investigator", "coordinator")
DEFAULT_MAX_FAILURES = 5
DEFAULT_LOCKOUT_SECONDS = 300
LONGEST_LOCKOUT = timedelta(days=1)
_COLUMNS = (
    "id, username, role, active, failed_attempts, locked_until, created_at, created_by, lockouts"
)


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
    longest: timedelta = LONGEST_LOCKOUT

    def lockout_after(self, lockouts: int) -> timedelta:
        """How long the lockout that follows `lockouts` earlier ones lasts (doubling, capped)."""
        if lockouts >= 32:
            return self.longest
        doubled: timedelta = self.lockout * (2**lockouts)
        return min(doubled, self.longest)


def login_policy(db: StudyDb) -> LoginPolicy:
    """The policy in the database settings (``lockout_failures``, ``lockout_seconds``)."""
    failures = setting(db, "lockout_failures", str(DEFAULT_MAX_FAILURES))
    seconds = setting(db, "lockout_seconds", str(DEFAULT_LOCKOUT_SECONDS))
    return LoginPolicy(int(failures or DEFAULT_MAX_FAILURES), timedelta(seconds=int(seconds or 0)))


def check_pin_format(pin: str) -> str:
    """`pin` if it follows the PIN policy (`check_pin_policy`), else InvalidInput."""
    return check_pin_policy(pin)


def check_username(username: str) -> str:
    """`username` if it is 2-32 lower-case letters, digits, '.', '_' or '-', starting a letter."""
    if not isinstance(username, str) or not USERNAME_FORMAT.match(username):
        raise InvalidInput(
            f"username {username!r} must be 2-32 lower-case letters, digits, '.', '_' or '-'"
        ).keyed("username_format", username=username)
    return username


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def kdf_label(stored: str) -> str:
    """The scrypt parameters of a stored hash, e.g. ``scrypt N=32768 r=8 p=1`` (no salt, no
    hash: what the audit log may say about it)."""
    kind, n, r, p = (stored.split("$") + ["?"] * 4)[:4]
    return f"{kind} N={n} r={r} p={p}"


def hash_is_current(stored: str) -> bool:
    """Whether `stored` was made with at least the current scrypt cost."""
    try:
        kind, n, r, p, _salt, _key = stored.split("$")
        return kind == "scrypt" and int(n) * int(r) * int(p) >= SCRYPT_N * SCRYPT_R * SCRYPT_P
    except ValueError:
        return False


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    """scrypt of `secret`; ValueError for parameters scrypt refuses, an empty key, or a cost above
    `SCRYPT_MAXMEM` (the memory bound OpenSSL applies: 128·r·(N + 2 + p) bytes), checked before
    any memory is taken, so a tampered stored hash cannot make a sign-in allocate gigabytes.

    Through `cryptography` (its own OpenSSL, linked into its extension), as the key file's KDF
    (`_keys`), not `hashlib.scrypt`: that one needs Python's `_hashlib` and the system's
    libcrypto, which the frozen build leaves out (5 MB; `packaging/respine.spec`). Same bytes
    as `hashlib.scrypt` for the same parameters (RFC 7914), so stored hashes still match.
    """
    if length < 1 or r < 1 or p < 1 or 128 * r * (n + 2 + p) > SCRYPT_MAXMEM:
        raise ValueError(f"scrypt parameters out of bounds: N={n} r={r} p={p} length={length}")
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=length, n=n, r=r, p=p).derive(secret)


def hash_pin(pin: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of `pin` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    key = _scrypt(pin.encode(), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether `pin` matches the stored hash (constant-time comparison, params from the hash)."""
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = _scrypt(pin.encode(), base64.b64decode(salt), int(n), int(r), int(p), len(expected))
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


def lockouts(db: StudyDb, username: str) -> int:
    """How many lockouts `username` had since it last signed in (the next one lasts longer)."""
    row = db.conn.execute("SELECT lockouts FROM staff WHERE username=?", [username]).fetchone()
    if row is None:
        raise UnknownStaff(f"no staff account {username!r}").keyed("no_account", username=username)
    return int(row["lockouts"])


def get_staff(db: StudyDb, username: str) -> Staff:
    """The account `username` (UnknownStaff if none)."""
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM staff WHERE username=?", [username]).fetchone()
    if row is None:
        raise UnknownStaff(f"no staff account {username!r}").keyed("no_account", username=username)
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
            raise AlreadyExists(f"staff account {username!r} exists already").keyed(
                "account_exists", username=username
            )
        return insert_staff(db, actor, username, role, pin_hash)


def _set_active(db: StudyDb, actor: Staff, username: str, active: bool) -> Staff:
    verb = "enable" if active else "disable"
    with transaction(db):
        admin = require(db, actor, ("admin",), f"{verb} accounts")
        target = get_staff(db, username)
        if not active and target.id == admin.id:
            raise PermissionDenied("an administrator cannot disable their own account").keyed(
                "disable_self"
            )
        db.conn.execute(
            "UPDATE staff SET active=?, failed_attempts=0, locked_until=NULL, lockouts=0 "
            "WHERE id=?",
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
            "UPDATE staff SET pin_hash=?, failed_attempts=0, locked_until=NULL, lockouts=0 "
            "WHERE id=?",
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


def change_pin(db: StudyDb, actor: Staff, pin: str, new_pin: str) -> Staff:
    """A staff member's own new PIN, given the current one (e.g. after signing in with a PIN
    that breaks today's policy). A wrong current PIN counts as a failed sign-in."""
    check_pin_policy(new_pin)
    current = authenticate(db, actor.username, pin)
    if current.id != actor.id:
        raise PermissionDenied("a PIN can only be changed by its own account")
    if pin == new_pin:
        raise InvalidInput("the new PIN must differ from the current one").keyed("pin_same")
    pin_hash = hash_pin(new_pin)
    with transaction(db):
        db.conn.execute("UPDATE staff SET pin_hash=? WHERE id=?", [pin_hash, current.id])
        audit.append(
            db,
            action="staff.pin_changed",
            entity="staff",
            entity_id=current.id,
            actor=current.id,
            payload={"username": current.username},
        )
    return staff_by_id(db, current.id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def describe_duration(length: timedelta) -> str:
    """``5 minutes``, ``1 minute``, ``2 hours``, ``1 day`` (rounded up to whole minutes)."""
    minutes = max(1, -(-int(length.total_seconds()) // 60))
    if minutes % 1440 == 0:
        n, unit = minutes // 1440, "day"
    elif minutes >= 120 and minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _refuse(db: StudyDb, account: Staff, reason: str, **extra: Any) -> None:
    audit.append(
        db,
        action="login.refused",
        entity="staff",
        entity_id=account.id,
        payload={"username": account.username, "reason": reason, **extra},
    )


def _wrong_pin(db: StudyDb, account: Staff, stored_lockouts: int, policy: LoginPolicy) -> Exception:
    """Count a wrong PIN (inside the transaction); the error to raise."""
    username = account.username
    if not policy.counts_failures:
        audit.append(
            db,
            action="login.failed",
            entity="staff",
            entity_id=account.id,
            payload={"username": username, "reason": "wrong PIN", "counted": False},
        )
        return WrongPin(f"wrong PIN for {username!r}")
    failures = account.failed_attempts + 1
    audit.append(
        db,
        action="login.failed",
        entity="staff",
        entity_id=account.id,
        payload={"username": username, "reason": "wrong PIN", "failures": failures},
    )
    if failures < policy.max_failures:
        db.conn.execute("UPDATE staff SET failed_attempts=? WHERE id=?", [failures, account.id])
        left = policy.max_failures - failures
        return WrongPin(f"wrong PIN for {username!r} ({left} attempts left before lockout)")
    length = policy.lockout_after(stored_lockouts)
    until = _iso(clock.now() + length)
    db.conn.execute(
        "UPDATE staff SET failed_attempts=0, locked_until=?, lockouts=lockouts+1 WHERE id=?",
        [until, account.id],
    )
    audit.append(
        db,
        action="staff.locked",
        entity="staff",
        entity_id=account.id,
        payload={
            "username": username,
            "locked_until": until,
            "failures": failures,
            "seconds": int(length.total_seconds()),
            "lockout": stored_lockouts + 1,
        },
    )
    return AccountLocked(
        f"wrong PIN for {username!r}: {failures} wrong PINs, account locked for "
        f"{describe_duration(length)} (until {until})"
    )


def authenticate(db: StudyDb, username: str, pin: str, policy: LoginPolicy | None = None) -> Staff:
    """The account if `pin` is right; otherwise raise, after recording the attempt.

    Raises UnknownStaff, AccountDisabled, AccountLocked (locked now, or by this attempt, saying
    for how long) or WrongPin. A successful login resets the failure and lockout counters and
    upgrades a hash made with weaker scrypt parameters. Times come from `clock.now()`.
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
        raise UnknownStaff(f"no staff account {username!r}").keyed("no_account", username=username)
    account, stored = _staff(row), str(row["pin_hash"])
    now = clock.now()
    error: Exception | None = None
    # The slow hashes run outside the write transaction, so other writers are not held up.
    good = pin_matches(pin, stored) if isinstance(pin, str) else False
    upgraded = hash_pin(pin) if good and not hash_is_current(stored) else None
    with transaction(db):
        row = db.conn.execute(f"SELECT {_COLUMNS} FROM staff WHERE id=?", [account.id]).fetchone()
        account = _staff(row)
        if not account.active:
            _refuse(db, account, "disabled")
            error = AccountDisabled(f"account {username!r} is disabled")
        elif account.locked_until and account.locked_until > _iso(now):
            _refuse(db, account, "locked", locked_until=account.locked_until)
            left = describe_duration(_parse_iso(account.locked_until) - now)
            error = AccountLocked(
                f"account {username!r} is locked for another {left} (until "
                f"{account.locked_until}) after repeated wrong PINs"
            )
        elif good:
            db.conn.execute(
                "UPDATE staff SET failed_attempts=0, locked_until=NULL, lockouts=0 WHERE id=?",
                [account.id],
            )
            audit.append(
                db,
                action="login.succeeded",
                entity="staff",
                entity_id=account.id,
                actor=account.id,
                payload={"username": username},
            )
            if upgraded is not None:
                db.conn.execute("UPDATE staff SET pin_hash=? WHERE id=?", [upgraded, account.id])
                audit.append(
                    db,
                    action="staff.pin_rehashed",
                    entity="staff",
                    entity_id=account.id,
                    actor=account.id,
                    payload={
                        "username": username,
                        "from": kdf_label(stored),
                        "to": kdf_label(upgraded),
                    },
                )
        else:
            error = _wrong_pin(db, account, int(row["lockouts"]), policy)
    if error is not None:
        raise error
    return staff_by_id(db, account.id)
