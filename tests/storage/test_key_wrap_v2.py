"""The device private keys and the site key of an encrypted database are wrapped under a key
derived from the database key (``respine-wrap-v2``): no wrapping-key file exists; an old layout
(a 0600 key file) is rewrapped at first use, audited, and its file removed; plaintext demo/test
databases keep the key file (v1). Real SQLCipher files and real key folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from respine_desktop import exports, storage
from respine_desktop.storage import _key_wrap as wrapping
from respine_desktop.storage._database import setting
from tests.support.encryption import PASSPHRASE, encrypted_db, forget_unlocked, key_env
from tests.support.exports import export, merge
from tests.support.storage import new_db

__all__ = ["key_env"]  # the fixture, imported


def secrets_of(db: storage.StudyDb) -> tuple[bytes, bytes]:
    """(64 bytes of device private keys, the 32-byte site key), unwrapped."""
    private = storage.device_private_keys(db)
    site = storage.ensure_site_key(db)
    return private.sign_private + private.box_private, site


def every_file(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def leaks(files: list[Path], secrets: tuple[bytes, ...]) -> list[str]:
    """Files whose bytes hold a secret raw or as hex (either case)."""
    found = []
    for path in files:
        data = path.read_bytes()
        for s in secrets:
            forms = (s, s.hex().encode(), s.hex().upper().encode())
            if any(f in data for f in forms):
                found.append(path.name)
    return found


@pytest.mark.req("SEC-04")
def test_an_encrypted_database_wraps_under_its_key_and_no_key_file_exists(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    with encrypted_db(path) as db:
        private, site = secrets_of(db)
        values = [setting(db, name) for name in wrapping.WRAPPED_SETTINGS]
        device_id = db.device_id
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert all(str(v).startswith("respine-wrap-v2:") for v in values)
    assert not (key_env / f"{device_id}.key").exists()
    files = every_file(tmp_path, key_env)
    assert path in files and leaks(files, (private, site)) == []
    # Opened again (a new process would find the same database key): the same secrets.
    with storage.open_database(path) as db:
        assert secrets_of(db) == (private, site)
        assert storage.audit_entries(db, action="device_key.rewrapped") == []


def test_a_plaintext_test_database_keeps_the_key_file(tmp_path: Path, key_env: Path) -> None:
    with new_db(tmp_path / "plain.db") as db:
        secrets_of(db)
        assert str(setting(db, "device_private_keys")).startswith("respine-wrap-v1:")
        assert (key_env / f"{db.device_id}.key").stat().st_mode & 0o777 == 0o600


def old_layout(path: Path) -> storage.StudyDb:
    """An encrypted database whose secrets were wrapped by the previous version (key file)."""
    db = encrypted_db(path)
    key, db.sql_key = db.sql_key, None  # what the previous version did: ignore the DB key
    try:
        secrets_of(db)
    finally:
        db.sql_key = key
    return db


@pytest.mark.req("SEC-04")
def test_an_old_layout_is_rewrapped_at_first_use_and_still_signs_bundles(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "kiosk.db"
    with old_layout(path) as db:
        key_file = key_env / f"{db.device_id}.key"
        assert key_file.exists()
        assert str(setting(db, "site_key")).startswith("respine-wrap-v1:")
        public = storage.own_device_key(db)
    assert public is not None
    with storage.open_database(path) as db:
        private, site = secrets_of(db)
        (entry,) = storage.audit_entries(db, action="device_key.rewrapped")
        values = [setting(db, name) for name in wrapping.WRAPPED_SETTINGS]
        assert storage.verify_database(path).ok
    assert entry.payload["settings"] == ["device_private_keys", "site_key"]
    assert all(str(v).startswith("respine-wrap-v2:") for v in values)
    assert not key_file.exists()
    assert leaks(every_file(tmp_path, key_env), (private, site)) == []
    # The same device keys: a signature verifies with the public key enrolled before.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signed = Ed25519PrivateKey.from_private_bytes(private[:32]).sign(b"bundle")
    Ed25519PublicKey.from_public_bytes(public.sign_public).verify(signed, b"bundle")
    # And a real bundle: enrolled on a hub, exported signed and encrypted, merged.
    hub = tmp_path / "hub.db"
    new_db(hub).close()
    with storage.open_database(path) as db:
        exports.write_device_file(db, tmp_path / "kiosk.device")
    with storage.open_database(hub) as db:
        exports.enrol_device_file(db, tmp_path / "kiosk.device")
        exports.write_device_file(db, tmp_path / "hub.hubkey", role="hub")
    with storage.open_database(path) as db:
        exports.install_hub_file(db, tmp_path / "hub.hubkey", replace=True)
    info = export(path, tmp_path / "kiosk.bundle")
    assert info.format_version == 3 and info.device_id == entry.entity_id
    summary = merge(hub, info.path)
    assert summary.bundle.device_id == info.device_id and summary.result.changed


def test_an_old_layout_without_its_key_file_fails_in_one_line_and_changes_nothing(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "kiosk.db"
    with old_layout(path) as db:
        (key_env / f"{db.device_id}.key").unlink()
        before = [setting(db, name) for name in wrapping.WRAPPED_SETTINGS]
    with storage.open_database(path) as db:
        with pytest.raises(storage.KeyUnavailable) as caught:
            storage.device_private_keys(db)
        assert [setting(db, name) for name in wrapping.WRAPPED_SETTINGS] == before
        assert storage.audit_entries(db, action="device_key.rewrapped") == []
    assert "\n" not in str(caught.value) and "does not hold" in str(caught.value)


def test_a_secret_wrapped_under_another_database_key_fails_in_one_line(
    tmp_path: Path, key_env: Path
) -> None:
    with encrypted_db(tmp_path / "a.db") as a:
        secrets_of(a)
        wrapped = str(setting(a, "device_private_keys"))
    with encrypted_db(tmp_path / "b.db") as b:
        secrets_of(b)
        b.conn.execute("UPDATE settings SET value=? WHERE key='device_private_keys'", [wrapped])
        with pytest.raises(storage.KeyUnavailable) as caught:
            storage.device_private_keys(b)
    assert "\n" not in str(caught.value) and "does not unwrap" in str(caught.value)


@pytest.mark.req("SEC-04")
def test_a_plaintext_database_encrypted_later_moves_its_keys_under_the_database_key(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    with new_db(path) as db:
        private, site = secrets_of(db)
        key_file = key_env / f"{db.device_id}.key"
    assert key_file.exists()
    storage.encrypt_database(path, PASSPHRASE, recovery_sheet=tmp_path / "s.txt")
    forget_unlocked()
    storage.unlock(path, PASSPHRASE)  # as `encrypt` then the next command would
    with storage.open_database(path) as db:
        assert secrets_of(db) == (private, site)
        (entry,) = storage.audit_entries(db, action="device_key.rewrapped")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert entry.payload["layout"] == "respine-wrap-v2"
    assert not key_file.exists()
    assert leaks(every_file(tmp_path, key_env), (private, site)) == []
    assert storage.verify_database(path).ok
