"""A refused bundle writes nothing, the keys included: on a hub whose secrets are still wrapped
the previous way (an encrypted database with a wrapping-key file, docs/security-bundles.md),
checking a bundle reads them as they are; only a bundle merged is a first use that moves them
under the database key and removes the key file. Real encrypted hub, real bundles, the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from tests.storage.test_key_wrap_v2 import old_layout
from tests.support.cli import main_py
from tests.support.encryption import PASSPHRASE, key_env
from tests.support.storage import ADMIN_PIN, new_db

__all__ = ["key_env"]  # the fixture, imported


def _key_files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _hub_state(hub: Path) -> tuple[Any, ...]:
    """The hub's settings (its wrapped secrets among them), device keys and audit actions."""
    with storage.open_database(hub, readonly=True) as db:
        settings = db.conn.execute("SELECT key, value FROM settings ORDER BY key").fetchall()
        keys = db.conn.execute("SELECT * FROM device_keys ORDER BY 1, 2").fetchall()
        actions = [e.action for e in storage.audit_entries(db)]
    return [tuple(r) for r in settings], [tuple(r) for r in keys], actions


def _tampered(bundle: Path, out: Path) -> Path:
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def _setup(tmp_path: Path, sealed: bool) -> tuple[Path, Path, Path]:
    """(hub of the old layout, a good bundle of a kiosk, a bundle it refuses)."""
    hub, kiosk = tmp_path / "hub.db", tmp_path / "kiosk.db"
    with old_layout(hub) as db, storage.keys_read_only():  # set up without moving its keys
        site = storage.get_site_key(db)
        exports.write_device_file(db, tmp_path / "hub.hubkey", role="hub")
    assert site is not None
    new_db(kiosk).close()
    with storage.open_database(kiosk) as db:
        storage.install_site_key(db, site)
        if sealed:
            exports.write_device_file(db, tmp_path / "kiosk.device")
            exports.install_hub_file(db, tmp_path / "hub.hubkey")
    if sealed:
        with storage.open_database(hub) as db, storage.keys_read_only():
            exports.enrol_device_file(db, tmp_path / "kiosk.device")
    with storage.open_database(kiosk) as db:
        info = exports.export_bundle(db, tmp_path / "kiosk.bundle")
    assert info.format_version == (3 if sealed else 2)
    if not sealed:  # refused at its signature, before the site key is even read
        return hub, info.path, _tampered(info.path, tmp_path / "tampered.bundle")
    # Signed and encrypted as it should be, refused once decrypted (the device's private key
    # used): the kiosk of another study.
    with storage.open_database(kiosk) as db:
        db.conn.execute("UPDATE settings SET value='OTHER' WHERE key='study_id'")
    with storage.open_database(kiosk) as db:
        foreign = exports.export_bundle(db, tmp_path / "foreign.bundle")
    return hub, info.path, foreign.path


def _import(hub: Path, bundle: Path) -> Any:
    return main_py(
        "import",
        "bundle",
        "--db",
        hub,
        bundle,
        "--passphrase-stdin",
        stdin=f"{PASSPHRASE}\n{ADMIN_PIN}\n",
    )


@pytest.mark.parametrize("sealed", [False, True], ids=["hmac", "sealed"])
def test_a_refused_bundle_leaves_the_keys_and_their_file_as_they_were(
    tmp_path: Path, key_env: Path, sealed: bool
) -> None:
    hub, good, bad = _setup(tmp_path, sealed)
    files_before = _key_files(key_env)
    settings, keys, actions = _hub_state(hub)
    assert any(str(v).startswith("respine-wrap-v1:") for k, v in settings if k == "site_key")
    refused = _import(hub, bad)
    assert refused.returncode == 2, refused.stderr
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"error: {bad}: ") and "Traceback" not in refused.stderr
    assert _key_files(key_env) == files_before  # byte for byte, the wrapping-key file included
    after = _hub_state(hub)
    assert after[:2] == (settings, keys)
    assert after[2] == [*actions, "login.succeeded"]  # only the sign-in the role matrix asks
    # A bundle merged is the first use: the old layout moves under the database key then.
    merged = _import(hub, good)
    assert merged.returncode == 0, merged.stderr
    settings2, _, actions2 = _hub_state(hub)
    assert "device_key.rewrapped" in actions2[len(after[2]) :]
    assert all(not str(v).startswith("respine-wrap-v1:") for k, v in settings2)
    assert set(_key_files(key_env)) < set(files_before)  # the hub's wrapping-key file removed
