"""Device keys through `python main.py ...` in real processes: a kiosk's device file enrolled on
the hub with the same fingerprint on both sides, the hub's key installed on the kiosk, a sealed
bundle from kiosk to hub, and every refusal one line, exit 2, the hub byte-identical."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.cli import ADMIN_PIN, main_py
from tests.support.exports import table_digest

FINGERPRINT = re.compile(r"fingerprint ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})")


def main(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """One command of this checkout, signed in as the administrator where it needs it."""
    return main_py(*args, timeout=300)


def ok(*args: str | Path) -> str:
    result = main(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def data_tables(path: Path) -> tuple[str, ...]:
    """Every table of `path` but the audit log and its chain heads (``devices``), which a
    signed-in command's sign-in changes; the device keys included."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        conn.close()
    return tuple(sorted(n for n in names if n not in ("audit_log", "devices")))


def refused(hub: Path, code: int, text: str, *args: str | Path) -> None:
    """The command fails with one line on stderr, exit `code`, and the hub's data is unchanged:
    its audit log gains only the sign-in the role matrix asks for."""
    tables = data_tables(hub)
    assert "device_keys" in tables
    before = table_digest(hub, tables)
    with storage.open_database(hub, readonly=True) as db:
        entries = {e.id for e in storage.audit_entries(db)}
    result = main(*args)
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 1 and re.search(text, lines[0]), result.stderr
    assert table_digest(hub, tables) == before
    with storage.open_database(hub, readonly=True) as db:
        added = [e.action for e in storage.audit_entries(db) if e.id not in entries]
    assert added == ["login.succeeded"]


def fingerprint(text: str) -> str:
    found = FINGERPRINT.search(text)
    assert found, text
    return found.group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo kiosk and a stranger kiosk, a hub; the kiosk enrolled, the hub's key on both."""
    root = tmp_path_factory.mktemp("devices")
    ok("demo", "--db", root / "kiosk.db", "--subjects", "3", "--seed", "4")
    ok("demo", "--db", root / "stranger.db", "--subjects", "2", "--seed", "5", "--first", "50")
    ok("init", "--plaintext", "--db", root / "hub.db", "--admin-pin", ADMIN_PIN)
    yield root


def test_round_trip_kiosk_to_hub_with_fingerprints_compared(site: Path, tmp_path: Path) -> None:
    hub, kiosk = tmp_path / "hub.db", tmp_path / "kiosk.db"
    shutil.copy(site / "hub.db", hub)
    shutil.copy(site / "kiosk.db", kiosk)
    shown = fingerprint(ok("export", "device", "--db", kiosk, "--out", tmp_path / "k.device"))
    assert f"device key      {shown}" in ok("status", "--db", kiosk)
    enrolled = ok("import", "device", "--db", hub, tmp_path / "k.device")
    assert enrolled.startswith("enrolled device") and fingerprint(enrolled) == shown
    again = ok("import", "device", "--db", hub, tmp_path / "k.device")
    assert "is enrolled already" in again
    hub_fp = fingerprint(ok("export", "hub-key", "--db", hub, "--out", tmp_path / "hub.key"))
    assert fingerprint(ok("import", "hub-key", "--db", kiosk, tmp_path / "hub.key")) == hub_fp
    assert "already has the key" in ok("import", "hub-key", "--db", kiosk, tmp_path / "hub.key")
    wrote = ok("export", "bundle", "--db", kiosk, "--out", tmp_path / "k.bundle")
    assert f"signed with device key {shown} (format 3)" in wrote
    data = (tmp_path / "k.bundle").read_bytes()
    for secret in (b"RSP-01-001", b"RSP-01-002", b"coord", b"admin", b"odi", b"vas"):
        assert secret not in data
    imported = ok("import", "bundle", "--db", hub, tmp_path / "k.bundle")
    assert "new 3 subjects" in imported and f"signed by device key {shown}" in imported
    status = json.loads(ok("status", "--db", hub, "--json"))
    assert status["subjects"] == 3 and status["enrolled_devices"] == 1
    assert status["device_key"] == hub_fp
    listed = json.loads(ok("list", "devices", "--db", hub, "--json"))
    assert [d["fingerprint"] for d in listed["enrolled"]] == [shown]
    assert listed["hmac_bundles"] == "accepted" and listed["fingerprint"] == hub_fp
    text = ok("list", "devices", "--db", hub)
    assert shown in text and "HMAC bundles accepted (transition)" in text
    assert "hub          (none installed)" in text
    assert main("verify", "--db", hub).returncode == 0


def test_refusals_are_one_line_and_leave_the_hub_unchanged(site: Path, tmp_path: Path) -> None:
    hub, kiosk, stranger = tmp_path / "hub.db", tmp_path / "kiosk.db", tmp_path / "stranger.db"
    for path in (hub, kiosk, stranger):
        shutil.copy(site / path.name, path)
    ok("export", "hub-key", "--db", hub, "--out", tmp_path / "hub.key")
    ok("export", "device", "--db", kiosk, "--out", tmp_path / "k.device")
    ok("import", "device", "--db", hub, tmp_path / "k.device")
    for path in (kiosk, stranger):
        ok("import", "hub-key", "--db", path, tmp_path / "hub.key")
        ok("export", "bundle", "--db", path, "--out", path.with_suffix(".bundle"))
    refused(
        hub,
        2,
        r"not enrolled here",
        "import",
        "bundle",
        "--db",
        hub,
        stranger.with_suffix(".bundle"),
    )
    data = kiosk.with_suffix(".bundle").read_bytes()
    at = len(data) - 300  # in the ciphertext, before the signature line
    (tmp_path / "tampered.bundle").write_bytes(data[:at] + bytes([data[at] ^ 4]) + data[at + 1 :])
    refused(
        hub,
        2,
        r"signature does not verify",
        "import",
        "bundle",
        "--db",
        hub,
        tmp_path / "tampered.bundle",
    )
    # the kiosk's device file enrolled again on another hub, whose bundles this hub cannot open
    other = tmp_path / "other.db"
    ok("init", "--plaintext", "--db", other, "--admin-pin", ADMIN_PIN)
    ok("export", "hub-key", "--db", other, "--out", tmp_path / "other.key")
    refused(kiosk, 2, r"--replace", "import", "hub-key", "--db", kiosk, tmp_path / "other.key")
    ok("import", "hub-key", "--db", kiosk, tmp_path / "other.key", "--replace")
    ok("export", "bundle", "--db", kiosk, "--out", tmp_path / "for-other.bundle")
    refused(hub, 2, r"wrong hub", "import", "bundle", "--db", hub, tmp_path / "for-other.bundle")
    refused(hub, 2, r"a hub's key file", "import", "device", "--db", hub, tmp_path / "hub.key")
    refused(
        hub,
        2,
        r"not a RESPINE device file",
        "import",
        "device",
        "--db",
        hub,
        kiosk.with_suffix(".bundle"),
    )
    # revoked: the kiosk's own bundle is refused from now on
    with_id = json.loads(ok("list", "devices", "--db", hub, "--json"))["enrolled"][0]["device_id"]
    ok("device", "revoke", "--db", hub, with_id, "--reason", "tablet lost")
    refused(hub, 2, r"was revoked", "import", "bundle", "--db", hub, kiosk.with_suffix(".bundle"))
    refused(hub, 2, r"revoked already", "device", "revoke", "--db", hub, with_id, "--reason", "x")
    refused(
        hub, 2, r"--reason must say why", "device", "revoke", "--db", hub, with_id, "--reason", " "
    )
    assert "REVOKED" in ok("list", "devices", "--db", hub)


def test_the_hmac_transition_can_be_ended(site: Path, tmp_path: Path) -> None:
    hub, kiosk = tmp_path / "hub.db", tmp_path / "kiosk.db"
    shutil.copy(site / "hub.db", hub)
    shutil.copy(site / "kiosk.db", kiosk)
    ok("export", "key", "--db", hub, "--out", tmp_path / "site.key")
    ok("import", "key", "--db", kiosk, tmp_path / "site.key")
    wrote = ok("export", "bundle", "--db", kiosk, "--out", tmp_path / "k2.bundle")
    assert "(format 2, not encrypted" in wrote
    assert "are refused" in ok("device", "hmac-bundles", "--db", hub, "refuse")
    assert "refused already" in ok("device", "hmac-bundles", "--db", hub, "refuse")
    refused(
        hub, 2, r"transition has ended", "import", "bundle", "--db", hub, tmp_path / "k2.bundle"
    )
    ok("device", "hmac-bundles", "--db", hub, "accept")
    imported = ok("import", "bundle", "--db", hub, tmp_path / "k2.bundle")
    assert "TRANSITION: an unencrypted site-key (HMAC) bundle of format 2" in imported
