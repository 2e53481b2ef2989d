"""Encryption at rest, as the commands use it: create, unlock, encrypt, change the passphrase.

- `create_encrypted_database`: a random key, the recovery sheet written once, the key file
  (wrapped by the site passphrase), then the database encrypted with the key.
- `unlock` / `unlock_with_recovery_code`: check a passphrase or recovery code against a
  database and make its key available to this process (`_key_store.register`).
- `encrypt_database`: a plaintext database becomes an encrypted one. ``sqlcipher_export`` copies
  it (under the write lock) into an encrypted file beside it; the copy records the change in its
  audit log and is verified like ``verify`` does; the recovery sheet and key file are written;
  only then does the copy replace the original (one rename), whose old blocks are overwritten
  with zeros. Killed at any point before the rename, the original is untouched and still opens.
- `change_passphrase`: the same key wrapped again by a new passphrase (the database itself is
  unchanged; the key file is replaced in one rename).
- `remember_key` / `forget_key`: the key in the OS store, for an unattended kiosk.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from respine_desktop.files import not_a_file, sync_directory
from respine_desktop.storage import _audit as audit
from respine_desktop.storage import _encryption as encryption
from respine_desktop.storage import _key_store as key_store
from respine_desktop.storage import _keys as keys
from respine_desktop.storage._database import (
    StudyDb,
    check_no_orphan_journal,
    connect,
    create_database,
    inspect_database,
    open_database,
    refuse_read_only,
    setting,
    transaction,
)
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import AlreadyExists, InvalidInput, WriteFailed
from respine_desktop.storage._keys import KeyUnavailable
from respine_desktop.storage._verify import verify_database
from respine_desktop.study import Study

_WIPE_CHUNK = 1 << 20


def create_encrypted_database(
    path: str | Path,
    passphrase: str,
    *,
    recovery_sheet: str | Path,
    admin_pin: str,
    site_code: str,
    admin_username: str = "admin",
    remember: bool = False,
    study: Study | None = None,
) -> StudyDb:
    """A new encrypted database at `path`, its key file beside it and its recovery sheet at
    `recovery_sheet` (a new file); the key is registered for this process and, with
    `remember`, put into the OS store."""
    path, sheet = Path(path), Path(recovery_sheet)
    keys.check_passphrase(passphrase)
    if path.exists():
        raise AlreadyExists(f"{path}: the file exists already")
    if sheet.exists():
        raise AlreadyExists(f"{sheet}: the file exists already")
    check_no_orphan_journal(path)  # before the sheet and the key file are written
    key = keys.generate_key()
    fields = keys.wrap(key, passphrase)
    keys.write_recovery_sheet(sheet, keys.recovery_sheet(path, key))
    try:
        # A key file without its database is what an interrupted init leaves: replaced.
        keys.write_key_file(path, fields, replace=True)
        db = create_database(
            path,
            admin_pin=admin_pin,
            site_code=site_code,
            admin_username=admin_username,
            study=study,
            key=key,
        )
    except BaseException:
        if not path.exists():
            keys.key_file_path(path).unlink(missing_ok=True)
            sheet.unlink(missing_ok=True)
        raise
    encryption.register(key)
    if remember:
        key_store.store(keys.key_id(key), key)
    return db


def _key_file(path: Path) -> keys.KeyFile:
    key_file = keys.read_key_file(path)
    if key_file is None:
        raise KeyUnavailable(
            f"cannot open {path}: its key file {keys.key_file_path(path).name} is missing; "
            "restore it from a backup, or use the recovery sheet (`rekey --recovery`)"
        )
    return key_file


def _check_opens(path: Path, key: bytes) -> None:
    if not path.is_file():
        from respine_desktop.storage._errors import DatabaseMissing

        raise DatabaseMissing(not_a_file(path, "database file"))
    if encryption.has_plaintext_header(path):
        raise InvalidInput(f"{path}: not an encrypted database")
    inspect_database(path, key=key)


def unlock(path: str | Path, passphrase: str) -> bytes:
    """The key of the encrypted database at `path`, unwrapped with `passphrase` and checked
    against the file (`WrongKey` otherwise); registered for this process."""
    path = Path(path)
    key = keys.unwrap(_key_file(path), passphrase)
    _check_opens(path, key)
    encryption.register(key)
    return key


def unlock_with_recovery_code(path: str | Path, code: str) -> bytes:
    """The key a recovery code stands for, checked against the database at `path` (`WrongKey`
    if it does not open it); registered for this process. Needs no key file."""
    path = Path(path)
    key = keys.parse_recovery_code(code)
    _check_opens(path, key)
    encryption.register(key)
    return key


def key_at_hand(path: str | Path) -> bool:
    """Whether the encrypted database at `path` opens without asking (a key registered in this
    process or its parent, or in the OS store)."""
    try:
        return encryption.key_for(Path(path)) is not None
    except KeyUnavailable:
        return False


def change_passphrase(path: str | Path, key: bytes, new_passphrase: str) -> str:
    """Wrap `key` (already checked against the database) by `new_passphrase` into a new key file
    for `path`; audited. Returns the key id."""
    path = Path(path)
    keys.check_passphrase(new_passphrase)
    _check_opens(path, key)
    fields = keys.wrap(key, new_passphrase)
    with open_database(path, key=key) as db:
        keys.write_key_file(path, fields, replace=True)
        audit.log_event(
            db,
            "database.passphrase_changed",
            entity="database",
            entity_id=db.device_id,
            payload={"key_id": fields["key_id"]},
        )
    return str(fields["key_id"])


def remember_key(path: str | Path) -> str:
    """Put the key of the encrypted database at `path` (which must be at hand) into the OS
    store; where it went, in words."""
    path = Path(path)
    key = encryption.key_for(path)
    if key is None:
        raise InvalidInput(f"{path}: not an encrypted database")
    return key_store.store(keys.key_id(key), key)


def forget_key(path: str | Path) -> bool:
    """Remove the key of the database at `path` from the OS store; whether it was there."""
    return key_store.remove(_key_file(Path(path)).key_id)


def encryption_status(db: StudyDb) -> str:
    """One line for ``status``: how the database's file is protected."""
    if db.sql_key is not None:
        return f"encrypted (SQLCipher 4, key id {keys.key_id(db.sql_key)})"
    recorded = setting(db, "encryption")
    if recorded is not None and recorded.startswith("plaintext:"):
        purpose = recorded.removeprefix("plaintext:")
        return f"NOT ENCRYPTED (demo/test: created as a {purpose} database)"
    return "NOT ENCRYPTED (created before encryption at rest: run `encrypt`)"


def created_for(db: StudyDb) -> str:
    """What a database was created as: "encrypted", "test", "demo" or "unknown" (older files)."""
    if db.sql_key is not None:
        return "encrypted"
    recorded = setting(db, "encryption") or ""
    purpose = recorded.removeprefix("plaintext:")
    return purpose if purpose in encryption.PLAINTEXT_PURPOSES else "unknown"


def encrypt_database(
    path: str | Path,
    passphrase: str,
    *,
    recovery_sheet: str | Path,
    remember: bool = False,
    study: Study | None = None,
) -> str:
    """Encrypt the plaintext database at `path` in place (see the module docstring); the new
    key's id. The application must not have the database open meanwhile."""
    path, sheet = Path(path), Path(recovery_sheet)
    keys.check_passphrase(passphrase)
    if encryption.is_encrypted(path):
        raise InvalidInput(f"{path}: encrypted already")
    inspect_database(path, key=None)
    refuse_read_only(path)
    if sheet.exists():
        raise AlreadyExists(f"{sheet}: the file exists already")
    for stale in path.parent.glob(f".{path.name}.*.encrypting*"):  # left by a killed run
        stale.unlink(missing_ok=True)
    key = keys.generate_key()
    kid = keys.key_id(key)
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.encrypting")
    try:
        _export_encrypted(path, temp, key)
        with open_database(temp, key=key, study=study, check=False) as copy:
            with transaction(copy):
                copy.conn.execute(
                    "UPDATE settings SET value=? WHERE key='encryption'", [encryption.ENCRYPTED]
                )
                copy.conn.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES ('encryption', ?)",
                    [encryption.ENCRYPTED],
                )
                audit.append(
                    copy,
                    action="database.encrypted",
                    entity="database",
                    entity_id=copy.device_id,
                    payload={"key_id": kid, "cipher": "sqlcipher4"},
                )
            copy.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        result = verify_database(temp, key=key, study=study)
        if not result.ok:
            raise WriteFailed(f"{path}: the encrypted copy failed verification: {result.message}")
        keys.write_recovery_sheet(sheet, keys.recovery_sheet(path, key))
        keys.write_key_file(path, keys.wrap(key, passphrase), replace=True)
        _swap(temp, path)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{temp}{suffix}").unlink(missing_ok=True)
    encryption.register(key)
    if remember:
        key_store.store(kid, key)
    return kid


def _export_encrypted(path: Path, temp: Path, key: bytes) -> None:
    """Copy the plaintext database at `path` into the new encrypted file `temp` (under the
    write lock, so that no write comes in meanwhile)."""
    conn = connect(path)
    try:
        conn.execute("ATTACH DATABASE ? AS encrypted KEY \"x'" + key.hex() + "'\"", [str(temp)])
        conn.execute("PRAGMA encrypted.cipher_compatibility = 4")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE encrypted")
    except sqlite3.OperationalError as exc:
        raise WriteFailed(f"{path}: could not make the encrypted copy ({exc})") from exc
    finally:
        conn.close()
    if Path(f"{path}-wal").exists():
        raise WriteFailed(
            f"{path}: the database is open in another program (the kiosk?): close it and "
            "encrypt again; nothing was changed"
        )


def _swap(temp: Path, path: Path) -> None:
    """Put `temp` in the place of `path` (one rename), then overwrite the old file's blocks."""
    old = os.open(path, os.O_RDWR)
    try:
        os.replace(temp, path)
        sync_directory(path.parent)
        size = os.fstat(old).st_size
        zeros = bytes(_WIPE_CHUNK)
        os.lseek(old, 0, os.SEEK_SET)
        for start in range(0, size, _WIPE_CHUNK):
            os.write(old, zeros[: min(_WIPE_CHUNK, size - start)])
        os.fsync(old)
    finally:
        with contextlib.suppress(OSError):
            os.close(old)
