"""Encryption at rest: the file, its WAL and a backup reveal nothing; keys, passphrases, the
recovery code and the OS store; wrong keys create nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import _key_store as key_store
from respine_desktop.storage._keys import recovery_code
from tests.support.encryption import (
    OTHER_PASSPHRASE,
    PASSPHRASE,
    SECRETS,
    SUBJECT,
    USERNAME,
    correct,
    encrypted_db,
    fill,
    forget_unlocked,
    found_secrets,
    key_env,
)
from tests.support.storage import ADMIN_PIN, TODAY, new_db

__all__ = ["key_env"]  # the fixture, imported


def test_the_secrets_are_plain_to_see_in_a_plaintext_database(tmp_path: Path) -> None:
    # The control: what the encrypted files must hide is really written by these calls.
    path = tmp_path / "plain.db"
    with new_db(path) as db:
        correct(db, fill(db))
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert storage.encryption_status(db) == (
            "NOT ENCRYPTED (demo/test: created as a test database)"
        )
        assert storage.created_for(db) == "test"
    assert sorted(s for _, s in found_secrets(path)) == sorted(SECRETS)


def test_a_fresh_encrypted_database_its_wal_and_a_backup_reveal_nothing(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    with encrypted_db(path) as db:
        session_id = fill(db)
        correct(db, session_id)  # the last writes stay in the WAL until a checkpoint
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 0
        wal_copy = tmp_path / "wal-copy"
        wal_copy.write_bytes(wal.read_bytes())
        result = storage.backup_database(db, tmp_path / "backup.db")
        assert result.ok, result.message
        assert storage.encryption_status(db).startswith("encrypted (SQLCipher 4, key id ")
    backup = tmp_path / "backup.db"
    assert Path(f"{backup}.key").read_text() == Path(f"{path}.key").read_text()
    assert found_secrets(path, wal_copy, backup, Path(f"{path}.key")) == []
    assert found_secrets(tmp_path / "site.db.sheet.txt") == []
    # The backup opens like the database (same key), here in a "new process".
    forget_unlocked()
    storage.unlock(backup, PASSPHRASE)
    with storage.open_database(backup, readonly=True) as copy:
        assert storage.get_subject(copy, SUBJECT).code == SUBJECT
    assert storage.verify_database(path).ok


def test_a_wrong_passphrase_opens_nothing_and_creates_nothing(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    encrypted_db(path).close()
    forget_unlocked()
    before = sorted(p.name for p in tmp_path.iterdir())
    digest = path.read_bytes()
    with pytest.raises(storage.WrongKey, match=r"cannot open .*site\.db: wrong passphrase or key"):
        storage.unlock(path, "not the passphrase at all")
    with pytest.raises(storage.KeyUnavailable, match="not unlocked on this machine"):
        storage.open_database(path)
    with pytest.raises(storage.WrongKey, match="wrong passphrase or key"):
        storage.open_database(path, key=os.urandom(32))
    with pytest.raises(storage.WrongKey):
        storage.verify_database(path, key=os.urandom(32))
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert path.read_bytes() == digest
    assert list(key_env.iterdir()) == []


def test_a_changed_key_file_is_refused_like_a_wrong_passphrase(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    encrypted_db(path).close()
    forget_unlocked()
    key_file = Path(f"{path}.key")
    fields = json.loads(key_file.read_text())
    fields["kdf"]["n"] = 2**10  # an attacker "weakening" the KDF to guess faster
    key_file.write_text(json.dumps(fields))
    with pytest.raises(storage.WrongKey):
        storage.unlock(path, PASSPHRASE)
    key_file.write_text("{}")
    with pytest.raises(storage.InvalidInput, match="not a RESPINE key file"):
        storage.unlock(path, PASSPHRASE)
    key_file.unlink()
    with pytest.raises(storage.NotARespineDatabase, match=r"key file site\.db\.key is missing"):
        storage.open_database(path)
    with pytest.raises(storage.KeyUnavailable, match=r"key file site\.db\.key is missing"):
        storage.unlock(path, PASSPHRASE)


def test_the_recovery_code_replaces_a_lost_passphrase_and_key_file(
    tmp_path: Path, key_env: Path
) -> None:
    path, sheet = tmp_path / "site.db", tmp_path / "sheet.txt"
    encrypted_db(path, sheet).close()
    forget_unlocked()
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}.key").stat().st_mode) == 0o600
    text = sheet.read_text()
    code = " ".join(re.findall(r"^    ([0-9a-f]{4}(?:-[0-9a-f]{4})*)$", text, re.MULTILINE))
    Path(f"{path}.key").unlink()
    mistyped = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(storage.InvalidInput, match="mistyped"):
        storage.unlock_with_recovery_code(path, mistyped)
    with pytest.raises(storage.InvalidInput, match="17 groups"):
        storage.unlock_with_recovery_code(path, "1234-5678")
    key = storage.unlock_with_recovery_code(path, code.upper())
    storage.change_passphrase(path, key, OTHER_PASSPHRASE)
    forget_unlocked()
    with pytest.raises(storage.WrongKey):
        storage.unlock(path, PASSPHRASE)
    storage.unlock(path, OTHER_PASSPHRASE)
    with storage.open_database(path) as db:
        actions = [e.action for e in storage.audit_entries(db)]
    assert actions[-1] == "database.passphrase_changed"


def test_encrypt_then_rekey_round_trip(tmp_path: Path, key_env: Path) -> None:
    path = tmp_path / "site.db"
    with new_db(path) as db:
        correct(db, fill(db))
        before = storage.counts(db)
    assert found_secrets(path)  # plaintext so far
    with pytest.raises(storage.InvalidInput, match="at least 12 characters"):
        storage.encrypt_database(path, "short", recovery_sheet=tmp_path / "s.txt")
    key_id = storage.encrypt_database(path, PASSPHRASE, recovery_sheet=tmp_path / "s.txt")
    assert storage.is_encrypted(path)
    assert found_secrets(path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.txt", "site.db", "site.db.key"]
    with pytest.raises(storage.InvalidInput, match="encrypted already"):
        storage.encrypt_database(path, PASSPHRASE, recovery_sheet=tmp_path / "t.txt")
    forget_unlocked()
    key = storage.unlock(path, PASSPHRASE)
    assert storage.verify_database(path).ok
    with storage.open_database(path) as db:
        after = storage.counts(db)
        assert dataclasses.replace(after, audit_entries=before.audit_entries) == before
        assert after.audit_entries == before.audit_entries + 1
        assert storage.encryption_status(db) == f"encrypted (SQLCipher 4, key id {key_id})"
        assert storage.audit_entries(db)[-1].action == "database.encrypted"
    assert storage.change_passphrase(path, key, OTHER_PASSPHRASE) == key_id
    forget_unlocked()
    with pytest.raises(storage.WrongKey):
        storage.unlock(path, PASSPHRASE)
    storage.unlock(path, OTHER_PASSPHRASE)
    assert storage.verify_database(path).ok


def test_the_os_store_opens_the_database_unattended(tmp_path: Path, key_env: Path) -> None:
    path = tmp_path / "site.db"
    encrypted_db(path).close()
    where = storage.remember_key(path)
    stored = next(key_env.iterdir())
    assert str(stored) in where
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_env.stat().st_mode) == 0o700
    forget_unlocked()  # a new process: only the OS store knows the key
    assert storage.key_at_hand(path)
    with storage.open_database(path) as db:
        assert storage.authenticate(db, "admin", ADMIN_PIN).role == "admin"
    assert storage.forget_key(path) and not storage.forget_key(path)
    assert not storage.key_at_hand(path)


class _MemoryKeyring:
    """A keyring backend in memory (what Windows Credential Manager is to the kiosk)."""

    def __init__(self) -> None:
        import keyring.backend

        parent = keyring.backend.KeyringBackend
        passwords: dict[tuple[str, str], str] = {}

        class Backend(parent):  # type: ignore[misc, valid-type]
            priority = 1

            def get_password(self, service: str, username: str) -> str | None:
                return passwords.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                passwords[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                import keyring.errors

                if passwords.pop((service, username), None) is None:
                    raise keyring.errors.PasswordDeleteError(username)

        self.backend = Backend()
        self.passwords = passwords


def test_the_keyring_store_holds_the_key_by_its_id(
    tmp_path: Path, key_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    memory = _MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(memory.backend)
    try:
        monkeypatch.setenv("RESPINE_KEY_STORE", "keyring")
        path = tmp_path / "site.db"
        encrypted_db(path).close()
        assert "system key store" in storage.remember_key(path)
        ((service, key_id),) = memory.passwords
        assert (
            service == key_store.SERVICE
            and f'"key_id": "{key_id}"' in Path(f"{path}.key").read_text()
        )
        forget_unlocked()
        with storage.open_database(path, readonly=True) as db:
            assert db.site_code == "01"
        assert storage.forget_key(path) and not storage.forget_key(path)
        assert not storage.key_at_hand(path)
        monkeypatch.setenv("RESPINE_KEY_STORE", "vault")
        with pytest.raises(storage.InvalidInput, match="must be keyring or file"):
            storage.remember_key(path)
    finally:
        keyring.set_keyring(previous)


def test_plaintext_databases_say_what_they_are_for(tmp_path: Path) -> None:
    with new_db(tmp_path / "demo.db", plaintext_purpose="demo") as db:
        assert storage.created_for(db) == "demo"
        assert "created as a demo database" in storage.encryption_status(db)
    with pytest.raises(storage.InvalidInput, match="plaintext database is for test or demo"):
        new_db(tmp_path / "prod.db", plaintext_purpose="production")
    with pytest.raises(storage.InvalidInput, match="not an encrypted database"):
        storage.remember_key(tmp_path / "demo.db")
    with pytest.raises(storage.InvalidInput, match="not an encrypted database"):
        storage.unlock_with_recovery_code(tmp_path / "demo.db", recovery_code(os.urandom(32)))


def test_export_workers_open_the_encrypted_database_with_the_unlocked_key(
    tmp_path: Path, key_env: Path
) -> None:
    from respine_desktop import exports

    path = tmp_path / "site.db"
    with encrypted_db(path) as db:
        fill(db)
        staff = storage.get_staff(db, USERNAME)
        for n in range(10, 14):
            storage.register_subject(db, f"RSP-01-0{n}", day0=TODAY, staff=staff)
    forget_unlocked()
    storage.unlock(path, PASSPHRASE)  # the passphrase only: nothing in the OS store
    assert list(key_env.iterdir()) == []
    with storage.open_database(path, readonly=True) as db:
        done = exports.export_csv(db, tmp_path / "csv", workers=2)
    assert done.subjects == 5 and done.workers == 2
    assert SUBJECT in (tmp_path / "csv" / "answers_long.csv").read_text()
