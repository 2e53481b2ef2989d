"""Bundles of format 3: encrypted to the hub, signed by their own device. A copied bundle shows
nothing; the hub refuses an unenrolled or revoked device, one device signing for another, a
forged header, tampered bytes or ciphertext and a bundle for another hub, with the hub unchanged;
site-key HMAC bundles still import during the transition, flagged, until the hub ends it."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from respine_desktop import exports, storage
from respine_desktop.exports import bundle_envelope as envelope
from tests.support.exports import controlled_clock, demo_db, export, merge, table_digest
from tests.support.storage import ADMIN_PIN


def enrol(hub: Path, kiosk: Path, folder: Path) -> None:
    """The kiosk's device file enrolled on the hub, the hub's key installed on the kiosk."""
    name = kiosk.stem
    with storage.open_database(kiosk) as db:
        exports.write_device_file(db, folder / f"{name}.device")
    with storage.open_database(hub) as db:
        exports.enrol_device_file(db, folder / f"{name}.device")
        exports.write_device_file(db, folder / f"{hub.stem}.hubkey", role="hub")
    with storage.open_database(kiosk) as db:
        exports.install_hub_file(db, folder / f"{hub.stem}.hubkey", replace=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosks a and b enrolled on the hub, each with its sealed bundle; kiosk c not enrolled;
    a second hub (hub2) on which a is enrolled too."""
    root = tmp_path_factory.mktemp("sealed")
    demo_db(root / "a.db", subjects=4, first=1, seed=1)
    demo_db(root / "b.db", subjects=4, first=101, seed=2)
    demo_db(root / "c.db", subjects=2, first=201, seed=3)
    with controlled_clock():
        for hub in ("hub", "hub2"):
            storage.create_database(root / f"{hub}.db", admin_pin=ADMIN_PIN).close()
        enrol(root / "hub2.db", root / "a.db", root)
        export(root / "a.db", root / "a-for-hub2.bundle")
        enrol(root / "hub.db", root / "a.db", root)
        enrol(root / "hub.db", root / "b.db", root)
        with storage.open_database(root / "c.db") as db:  # c knows the hub, the hub not c
            exports.install_hub_file(db, root / "hub.hubkey")
        for name in ("a", "b", "c"):
            export(root / f"{name}.db", root / f"{name}.bundle")
    yield root


@pytest.fixture
def hub(site: Path, tmp_path: Path) -> Path:
    """A fresh copy of the hub (same device, so the same wrapping key and device keys)."""
    shutil.copy(site / "hub.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


def refused(hub: Path, bundle: Path, match: str) -> None:
    """The import is refused with a one-line message matching `match`; the hub is unchanged."""
    before = table_digest(hub)
    with pytest.raises(exports.BundleError, match=match) as caught:
        merge(hub, bundle)
    assert "\n" not in str(caught.value)
    assert table_digest(hub) == before


def plaintext(hub: Path, bundle: Path) -> bytes:
    """The ZIP inside a sealed bundle, as the hub decrypts it."""
    with storage.open_database(hub) as db, envelope.open_sealed(db, bundle) as (plain, _):
        return plain.read()


def sealed_by(site: Path, signer: str, zip_bytes: bytes, out: Path, *, claim: str = "") -> Path:
    """`zip_bytes` sealed to the hub and signed with `signer`'s private key; the header names
    device `claim` (default: the signer)."""
    import io

    with storage.open_database(site / f"{signer}.db") as db:
        private = storage.device_private_keys(db)
        recipient = storage.hub_key(db)
    with storage.open_database(site / f"{claim or signer}.db", readonly=True) as db:
        sender = storage.own_device_key(db)
    assert sender is not None and recipient is not None
    with open(out, "wb") as f:
        envelope.seal(io.BytesIO(zip_bytes), f, sender=sender, private=private, recipient=recipient)
    return out


def resign(site: Path, signer: str, data: bytes) -> bytes:
    """`data` (a sealed bundle) with its signature line replaced by `signer`'s signature."""
    body = data[: -envelope.SIGNATURE_LENGTH]
    with storage.open_database(site / f"{signer}.db") as db:
        private = storage.device_private_keys(db)
    signature = Ed25519PrivateKey.from_private_bytes(private.sign_private).sign(
        b"respine-bundle-v3-signature\0" + hashlib.sha512(body).digest()
    )
    return body + b"\nRESPINE-BUNDLE-SIGNATURE v3 Ed25519 sig=" + signature.hex().encode() + b"\n"


def test_a_sealed_bundle_imports_from_its_enrolled_device(site: Path, hub: Path) -> None:
    first = merge(hub, site / "a.bundle")
    second = merge(hub, site / "b.bundle")
    assert first.bundle.format_version == 3 and not first.bundle.transition
    assert "signed by device key" in first.describe() and "TRANSITION" not in first.describe()
    assert first.result.inserted["subjects"] == 4 and second.result.inserted["subjects"] == 4
    with storage.open_database(site / "a.db", readonly=True) as db:
        a_key = storage.own_device_key(db)
    assert a_key is not None and first.bundle.key_id == a_key.fingerprint
    with storage.open_database(hub, readonly=True) as db:
        entries = storage.audit_entries(db, action="bundle.imported")
        assert [e.payload["format_version"] for e in entries] == [3, 3]
        assert entries[0].payload["signature"] == "device Ed25519, encrypted to this hub"
        assert entries[0].payload["key_id"] == a_key.fingerprint
    assert storage.verify_database(hub).ok
    assert not merge(hub, site / "a.bundle").result.changed  # idempotent


def test_a_copied_bundle_reveals_no_study_data(site: Path, tmp_path: Path) -> None:
    data = (site / "a.bundle").read_bytes()
    assert data.startswith(envelope.MAGIC) and not zipfile.is_zipfile(site / "a.bundle")
    conn = sqlite3.connect(f"file:{site / 'a.db'}?mode=ro", uri=True)
    try:
        secrets = {r[0] for r in conn.execute("SELECT code FROM subjects")}
        secrets |= {r[0] for r in conn.execute("SELECT DISTINCT item_id FROM answers")}
        secrets |= {r[0] for r in conn.execute("SELECT username FROM staff")}
        secrets |= {r[0] for r in conn.execute("SELECT id FROM sessions")}
    finally:
        conn.close()
    secrets |= {"manifest.json", "data/answers.jsonl", "RESPINE-01", "RSP-"}
    assert len(secrets) > 20
    # A text of 3 bytes (a username) turns up by chance in tens of kilobytes of ciphertext
    # (about once in a few hundred bundles: CI failed so once): looked for as the bundle's
    # JSON holds it, between its quotes, which the plaintext is checked to hold below.
    needles = {s if len(s) > 3 else f'"{s}"' for s in secrets}
    # what `strings` shows: printable runs of 4 or more bytes
    runs = b"\n".join(re.findall(rb"[\x20-\x7e]{4,}", data)).decode()
    found = sorted(s for s in needles if s in runs or s.encode() in data)
    assert found == []
    # the plaintext the hub decrypts does hold them (the test looks at the right things)
    (tmp_path / "a.zip").write_bytes(plaintext(site / "hub.db", site / "a.bundle"))
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert "RSP-01-001" in zf.read("data/subjects.jsonl").decode()
        plain = b"".join(zf.read(n) for n in zf.namelist())
    assert all(s.encode() in plain for s in needles if s.startswith('"'))  # held so, quoted


def test_an_unenrolled_device_is_refused(site: Path, hub: Path) -> None:
    refused(hub, site / "c.bundle", r"c\.bundle: the bundle comes from device .* not enrolled")


def test_a_revoked_device_is_refused(site: Path, hub: Path) -> None:
    with storage.open_database(site / "b.db", readonly=True) as db:
        b_id = db.device_id
    with storage.open_database(hub) as db:
        storage.revoke_device(db, b_id, reason="tablet lost in the waiting room")
        entry = storage.audit_entries(db, action="device.revoked")[-1]
        assert entry.payload["reason"] == "tablet lost in the waiting room"
    refused(hub, site / "b.bundle", r"was revoked on .*: its bundles are refused")
    merge(hub, site / "a.bundle")  # the others still import


def test_one_device_cannot_sign_for_another(site: Path, hub: Path, tmp_path: Path) -> None:
    a_zip = plaintext(hub, site / "a.bundle")
    # b signs a's data under its own name: the signature holds, the content is not b's
    forged = sealed_by(site, "b", a_zip, tmp_path / "b-signs-a.bundle")
    refused(hub, forged, r"signed by device .* but carries the data of device .*another")
    # b signs a's data under a's name: a's enrolled key does not verify b's signature
    forged = sealed_by(site, "b", a_zip, tmp_path / "b-as-a.bundle", claim="a")
    refused(hub, forged, r"signature does not verify with device .*signed by another device")


def test_a_device_signs_for_its_own_audit_chain_only(site: Path, hub: Path, tmp_path: Path) -> None:
    """Kiosk b merged kiosk a's bundle: b's sealed bundle carries a's entries too, accepted only
    once the hub holds them itself (from a's own signed bundle)."""
    b = tmp_path / "b.db"
    shutil.copy(site / "b.db", b)
    with storage.open_database(b) as db:
        exports.write_key_file(db, tmp_path / "site.key")
    key = exports.read_key_file(tmp_path / "site.key").key
    with storage.open_database(site / "a.db") as db:
        exports.export_bundle(db, tmp_path / "a-hmac.bundle", key=key)
    merge(b, tmp_path / "a-hmac.bundle")
    export(b, tmp_path / "b-with-a.bundle")
    refused(hub, tmp_path / "b-with-a.bundle", r"carries audit entry .* of device .*does not hold")
    merge(hub, site / "a.bundle")
    assert merge(hub, tmp_path / "b-with-a.bundle").result.changed


def test_tampered_bytes_and_ciphertext_are_refused(site: Path, hub: Path, tmp_path: Path) -> None:
    data = (site / "a.bundle").read_bytes()
    start = len(envelope.MAGIC) + data[len(envelope.MAGIC) :].index(b"\n") + 1
    middle = (start + len(data) - envelope.SIGNATURE_LENGTH) // 2
    flipped = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    (tmp_path / "flipped.bundle").write_bytes(flipped)
    refused(hub, tmp_path / "flipped.bundle", r"signature does not verify")
    # the same flip, signed again by the device itself: the AEAD refuses the chunk
    (tmp_path / "resigned.bundle").write_bytes(resign(site, "a", flipped))
    refused(hub, tmp_path / "resigned.bundle", r"chunk 0 of the bundle does not decrypt")
    # a chunk dropped at the end (re-signed): the stream has lost its last chunk
    body = data[: -envelope.SIGNATURE_LENGTH]
    (tmp_path / "short.bundle").write_bytes(resign(site, "a", body[:-20]))
    refused(hub, tmp_path / "short.bundle", r"does not decrypt")
    (tmp_path / "cut.bundle").write_bytes(data[:-10])
    refused(hub, tmp_path / "cut.bundle", r"truncated or damaged")
    header_edit = data.replace(b'"aead": "AES-256-GCM"', b'"aead": "AES-256-GCX"', 1)
    (tmp_path / "header.bundle").write_bytes(header_edit)
    refused(hub, tmp_path / "header.bundle", r"signature does not verify")
    (tmp_path / "junk.bundle").write_bytes(envelope.MAGIC + b"{not json\n" + b"x" * 300)
    refused(hub, tmp_path / "junk.bundle", r"header is damaged")


def test_a_bundle_for_another_hub_is_refused(site: Path, hub: Path) -> None:
    refused(hub, site / "a-for-hub2.bundle", r"encrypted to hub .*: wrong hub")
    copy = hub.with_name("hub2.db")
    shutil.copy(site / "hub2.db", copy)
    refused(copy, site / "a.bundle", r"wrong hub")
    assert merge(copy, site / "a-for-hub2.bundle").result.changed


def test_hmac_bundles_import_during_the_transition_flagged(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    with storage.open_database(hub) as db:
        exports.write_key_file(db, tmp_path / "site.key")
    kiosk = tmp_path / "a.db"
    shutil.copy(site / "a.db", kiosk)
    with storage.open_database(kiosk) as db:
        exports.install_key_file(db, tmp_path / "site.key")
        key = exports.read_key_file(tmp_path / "site.key").key
        info = exports.export_bundle(db, tmp_path / "a2.bundle", key=key)
    assert info.format_version == 2 and info.transition
    assert zipfile.is_zipfile(tmp_path / "a2.bundle")
    summary = merge(hub, tmp_path / "a2.bundle")
    assert "TRANSITION: an unencrypted site-key (HMAC) bundle of format 2" in summary.describe()
    with storage.open_database(hub) as db:
        entry = storage.audit_entries(db, action="bundle.imported")[-1]
        assert entry.payload["format_version"] == 2
        assert entry.payload["signature"] == "site key HMAC (transition)"
        assert storage.set_hmac_bundles(db, accepted=False)
        assert not storage.set_hmac_bundles(db, accepted=False)
        assert not storage.hmac_bundles_accepted(db)
        assert storage.audit_entries(db, action="bundle_hmac.refused")
    refused(hub, tmp_path / "a2.bundle", r"no longer accepts them \(the transition has ended\)")
    assert merge(hub, site / "b.bundle").result.changed  # sealed bundles still import
    with storage.open_database(hub) as db:
        assert storage.set_hmac_bundles(db, accepted=True)
    assert not merge(hub, tmp_path / "a2.bundle").result.changed  # imported already


def test_private_keys_and_the_site_key_are_never_stored_in_plaintext(tmp_path: Path) -> None:
    with controlled_clock(), storage.create_database(tmp_path / "k.db", admin_pin=ADMIN_PIN) as db:
        site_key = storage.ensure_site_key(db)
        storage.ensure_device_keys(db)
        private = storage.device_private_keys(db)
        stored = {
            r["key"]: r["value"]
            for r in db.conn.execute("SELECT key, value FROM settings WHERE key LIKE '%key%'")
        }
        assert stored["site_key"].startswith("respine-wrap-v1:")
        assert stored["device_private_keys"].startswith("respine-wrap-v1:")
        assert stored["site_key_id"] == storage.site_key_id(site_key)
        assert storage.installed_site_key_id(db) == storage.site_key_id(site_key)
        assert storage.get_site_key(db) == site_key
        actions = [e.action for e in storage.audit_entries(db)]
        assert {"site_key.created", "device_key.created"} <= set(actions)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("k.db*"))
    for secret in (site_key, private.sign_private, private.box_private):
        assert secret not in raw and secret.hex().encode() not in raw


def test_a_database_copied_to_another_computer_cannot_unwrap_its_keys(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk = tmp_path / "a.db"
    shutil.copy(site / "a.db", kiosk)
    monkeypatch.setenv("RESPINE_KEY_DIR", str(tmp_path / "other-computer"))
    with storage.open_database(kiosk) as db:
        with pytest.raises(storage.KeyUnavailable, match=r"wrapped with a key this computer"):
            storage.device_private_keys(db)
        with pytest.raises(storage.KeyUnavailable):
            exports.export_bundle(db, tmp_path / "x.bundle")
    assert not (tmp_path / "x.bundle").exists()
    # a wrapping key of another device does not unwrap them either
    (tmp_path / "other-computer").mkdir()
    with storage.open_database(kiosk, readonly=True) as db:
        (tmp_path / "other-computer" / f"{db.device_id}.key").write_text("00" * 32)
    with (
        storage.open_database(kiosk) as db,
        pytest.raises(storage.KeyUnavailable, match=r"does not unwrap"),
    ):
        storage.device_private_keys(db)


def test_an_older_plaintext_site_key_is_wrapped_and_key_replacement_is_audited(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with controlled_clock(), storage.create_database(path, admin_pin=ADMIN_PIN) as db:
        exports.write_key_file(db, tmp_path / "mine.key")
    with storage.create_database(tmp_path / "other.db", admin_pin=ADMIN_PIN) as db:
        exports.write_key_file(db, tmp_path / "other.key")
    old = exports.read_key_file(tmp_path / "mine.key").key
    with storage.open_database(path) as db:  # as an older version stored it
        db.conn.execute("UPDATE settings SET value=? WHERE key='site_key'", [old.hex()])
        db.conn.execute("DELETE FROM settings WHERE key='site_key_id'")
        db.conn.commit()
        assert storage.installed_site_key_id(db) == storage.site_key_id(old)
        assert storage.get_site_key(db) == old
        assert storage.ensure_site_key(db) == old
        assert storage.audit_entries(db, action="site_key.wrapped")
        with pytest.raises(storage.AlreadyExists, match=r"--replace"):
            exports.install_key_file(db, tmp_path / "other.key")
        assert exports.install_key_file(db, tmp_path / "other.key", replace=True)
        entry = storage.audit_entries(db, action="site_key.replaced")[-1]
    digest = hashlib.sha256((tmp_path / "other.key").read_bytes()).hexdigest()
    assert entry.payload["file"] == "other.key" and entry.payload["sha256"] == digest
    assert entry.payload["previous_key_id"] == storage.site_key_id(old)


def test_device_files_are_checked_before_anything_is_enrolled(site: Path, tmp_path: Path) -> None:
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    text = (site / "a.device").read_text()
    cases = {
        "fp.device": (text.replace('"fingerprint": "', '"fingerprint": "X', 1), "fingerprint"),
        "study.device": (text.replace('"RESPINE"', '"OTHER"', 1), "for study 'OTHER'"),
        "hub.device": ((site / "hub.hubkey").read_text(), "a hub's key file"),
        "junk.device": ("{}", "not a RESPINE device file"),
        "nested.device": ("[" * 5000 + "]" * 5000, "not a RESPINE device file"),
        "bad.device": (text.replace('"sign_public": "', '"sign_public": "zz', 1), "damaged"),
    }
    before = table_digest(hub)
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        with storage.open_database(hub) as db, pytest.raises(exports.ExportError, match=message):
            exports.enrol_device_file(db, tmp_path / name)
    assert table_digest(hub) == before
    with (
        storage.open_database(site / "a.db", readonly=True) as db,
        pytest.raises(exports.ExportError, match="enrol it on the hub"),
    ):
        exports.install_hub_file(db, site / "a.device")


def test_enrolment_is_once_per_key_and_a_revoked_key_stays_revoked(
    site: Path, tmp_path: Path
) -> None:
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    with storage.open_database(site / "a.db", readonly=True) as db:
        a = storage.own_device_key(db)
    assert a is not None
    new = storage.DeviceKey(a.device_id, a.label, a.site_code, b"\1" * 32, b"\2" * 32)
    with storage.open_database(hub) as db:
        assert not storage.enrol_device(db, a)  # enrolled already
        with pytest.raises(storage.AlreadyExists, match="revoke it first"):
            storage.enrol_device(db, new)
        with pytest.raises(storage.InvalidInput, match="own device"):
            storage.enrol_device(db, storage.own_device_key(db))  # type: ignore[arg-type]
        with pytest.raises(storage.InvalidInput, match="needs a reason"):
            storage.revoke_device(db, a.device_id, reason=" ")
        with pytest.raises(storage.UnknownDevice):
            storage.revoke_device(db, "no-such-device", reason="lost")
        storage.revoke_device(db, a.device_id, reason="re-keyed")
        with pytest.raises(storage.AlreadyExists, match="revoked already"):
            storage.revoke_device(db, a.device_id, reason="again")
        with pytest.raises(storage.InvalidInput, match="not enrolled again"):
            storage.enrol_device(db, a)
        assert storage.enrol_device(db, new)  # its new keys, after the revocation
        (found,) = [k for k in storage.enrolled_devices(db) if k.device_id == a.device_id]
        assert found.fingerprint == new.fingerprint and found.revoked_at is None
        with pytest.raises(storage.InvalidInput, match="32 bytes"):
            storage.enrol_device(db, storage.DeviceKey("x", "x", "01", b"1", b"2"))


def test_a_kiosk_changes_its_hub_only_on_purpose(site: Path, tmp_path: Path) -> None:
    kiosk = tmp_path / "a.db"
    shutil.copy(site / "a.db", kiosk)
    with storage.open_database(kiosk) as db:
        found, changed = exports.install_hub_file(db, site / "hub.hubkey")
        assert not changed
        with pytest.raises(storage.AlreadyExists, match="--replace"):
            exports.install_hub_file(db, site / "hub2.hubkey")
        found, changed = exports.install_hub_file(db, site / "hub2.hubkey", replace=True)
        assert changed and storage.hub_key(db) == found.key
        entry = storage.audit_entries(db, action="hub_key.replaced")[-1]
        assert entry.payload["fingerprint"] == found.key.fingerprint
        with pytest.raises(storage.InvalidInput, match="own key"):
            storage.install_hub_key(db, storage.own_device_key(db))  # type: ignore[arg-type]


def test_the_audited_digest_of_an_installed_key_is_of_the_bytes_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key file was read once for the key and again for its digest: a file replaced in
    between (a shared folder) had the audit entry name the digest of a file never installed."""
    from respine_desktop.exports import key_file

    path = tmp_path / "kiosk.db"
    with storage.create_database(path, admin_pin=ADMIN_PIN) as db:
        exports.write_key_file(db, tmp_path / "mine.key")
    with storage.create_database(tmp_path / "other.db", admin_pin=ADMIN_PIN) as db:
        exports.write_key_file(db, tmp_path / "site.key")
    genuine = hashlib.sha256((tmp_path / "site.key").read_bytes()).hexdigest()
    real = key_file.read_key_file

    def then_replaced(name: str | Path) -> exports.KeyFile:
        found = real(name)
        (tmp_path / "site.key").write_text("replaced after it was read\n")
        return found

    monkeypatch.setattr(key_file, "read_key_file", then_replaced)
    with storage.open_database(path) as db:
        exports.install_key_file(db, tmp_path / "site.key", replace=True)
        entry = storage.audit_entries(db, action="site_key.replaced")[-1]
    assert entry.payload["sha256"] == genuine
