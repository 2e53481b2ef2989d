"""The edges of device keys: damaged or re-addressed sealed headers, a hub without keys, the
wrapping-key folder and an unreadable wrapping key, and what `list devices`/`status` print."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from respine_desktop import cli, exports, storage
from respine_desktop.exports import bundle_envelope as envelope
from tests.cli.test_cli_db import main as cli_main
from tests.cli.test_cli_db import one_line_error
from tests.support.exports import controlled_clock, demo_db, export, merge, table_digest
from tests.support.storage import ADMIN_PIN


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk a enrolled on the hub with the hub's key; its sealed bundle a.bundle."""
    root = tmp_path_factory.mktemp("edges")
    demo_db(root / "a.db", subjects=2, first=1, seed=1)
    with controlled_clock():
        with storage.create_database(root / "hub.db", admin_pin=ADMIN_PIN) as db:
            exports.write_device_file(db, root / "hub.pub", role="hub")
        with storage.open_database(root / "a.db") as db:
            exports.write_device_file(db, root / "a.device")
            exports.install_hub_file(db, root / "hub.pub")
        with storage.open_database(root / "hub.db") as db:
            exports.enrol_device_file(db, root / "a.device")
        export(root / "a.db", root / "a.bundle")
    yield root


def signed_again(site: Path, data: bytes) -> bytes:
    """A sealed bundle's bytes with a fresh signature by kiosk a over its (edited) body."""
    body = data[: -envelope.SIGNATURE_LENGTH]
    with storage.open_database(site / "a.db") as db:
        private = storage.device_private_keys(db)
    sign = Ed25519PrivateKey.from_private_bytes(private.sign_private)
    signature = sign.sign(b"respine-bundle-v3-signature\0" + hashlib.sha512(body).digest())
    return body + b"\nRESPINE-BUNDLE-SIGNATURE v3 Ed25519 sig=" + signature.hex().encode() + b"\n"


@pytest.mark.parametrize(
    ("old", "new", "resign", "message"),
    [
        (b'"format_version": 3', b'"format_version": 4', False, "format 4 is not supported"),
        (b'"sender_fingerprint": "', b'"sender_fingerprint": "Q', False, "forged or re-keyed"),
        (b'"ephemeral": "', b'"ephemeral": "zz', True, "ephemeral key is damaged"),
        (b'"format": "respine-sealed-bundle"', b'"format": "other"', False, "header is damaged"),
    ],
)
def test_a_damaged_or_edited_header_is_refused(
    site: Path, tmp_path: Path, old: bytes, new: bytes, resign: bool, message: str
) -> None:
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    data = (site / "a.bundle").read_bytes()
    assert old in data
    edited = data.replace(old, new, 1)
    (tmp_path / "x.bundle").write_bytes(signed_again(site, edited) if resign else edited)
    before = table_digest(hub)
    with pytest.raises(exports.BundleError, match=message):
        merge(hub, tmp_path / "x.bundle")
    assert table_digest(hub) == before


def test_a_hub_without_device_keys_is_the_wrong_hub(site: Path, tmp_path: Path) -> None:
    with storage.create_database(tmp_path / "new.db", admin_pin=ADMIN_PIN) as db:
        with pytest.raises(exports.BundleError, match=r"\(no device key\): wrong hub"):
            exports.import_bundle(db, site / "a.bundle")
        assert storage.own_device_key(db) is None  # refusing made no key


def test_the_wrapping_key_folder_and_an_unreadable_key(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk = tmp_path / "a.db"
    shutil.copy(site / "a.db", kiosk)
    # without $RESPINE_KEY_DIR: the user's data dir (XDG_DATA_HOME on Linux)
    monkeypatch.delenv("RESPINE_KEY_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with (
        storage.open_database(kiosk) as db,
        pytest.raises(storage.KeyUnavailable, match=r"data/respine-desktop/keys/"),
    ):
        storage.device_private_keys(db)
    monkeypatch.setenv("RESPINE_KEY_DIR", str(tmp_path))
    with storage.open_database(kiosk) as db:
        (tmp_path / f"{db.device_id}.key").write_text("not hex")
        with pytest.raises(storage.KeyUnavailable, match="cannot be read"):
            storage.device_private_keys(db)


def test_installing_the_same_site_key_again_changes_nothing(tmp_path: Path) -> None:
    with storage.create_database(tmp_path / "k.db", admin_pin=ADMIN_PIN) as db:
        exports.write_key_file(db, tmp_path / "site.key")
        assert not exports.install_key_file(db, tmp_path / "site.key")
        key = exports.read_key_file(tmp_path / "site.key").key
        db.conn.execute("UPDATE settings SET value=? WHERE key='site_key'", [key.hex()])
        assert exports.install_key_file(db, tmp_path / "site.key")  # the plaintext copy: wrapped
        assert storage.get_site_key(db) == key
        assert not exports.install_key_file(db, tmp_path / "site.key")


def test_list_devices_and_status_show_the_keys(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.run(["list", "devices", "--db", str(site / "a.db")]) == 0
    out = capsys.readouterr().out
    with storage.open_database(site / "a.db", readonly=True) as db:
        hub, own = storage.hub_key(db), storage.own_device_key(db)
    assert hub is not None and own is not None
    assert f"hub          {hub.device_id}  {hub.fingerprint}" in out
    assert f"this device  {own.device_id}  {own.fingerprint}" in out
    assert "enrolled     (none)" in out
    assert cli.run(["status", "--db", str(site / "a.db")]) == 0
    out = capsys.readouterr().out
    assert f"hub key         {hub.fingerprint}" in out
    assert cli.run(["status", "--db", str(site / "hub.db")]) == 0
    assert "enrolled        1 devices" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PIN + "\n"))  # the administrator's PIN
    signed = ["--user", "admin", "--pin-stdin"]
    assert cli.run(["device", "hmac-bundles", "--db", str(site / "hub.db"), "accept", *signed]) == 0
    assert "accepted (transition) already" in capsys.readouterr().out


def test_a_header_nested_too_deeply_is_refused_before_anything_is_checked(
    site: Path, tmp_path: Path
) -> None:
    """Anyone can write a sealed bundle's header (read before any key): 2,000 nested lists fit in
    its 4 kB line and stop Python's parser at its recursion limit (`json_text`)."""
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    data = (site / "a.bundle").read_bytes()
    line = data.index(b"\n", len(envelope.MAGIC)) + 1
    nested = b"[" * 2000 + b"]" * 2000 + b"\n"
    (tmp_path / "x.bundle").write_bytes(envelope.MAGIC + nested + data[line:])
    before = table_digest(hub)
    with pytest.raises(exports.BundleError, match="the bundle's header is damaged"):
        merge(hub, tmp_path / "x.bundle")
    assert table_digest(hub) == before
    result = cli_main("import", "bundle", "--db", str(hub), str(tmp_path / "x.bundle"))
    one_line_error(result, 2, "the bundle's header is damaged")
