"""A PIN hash swapped on a file an older version wrote is named once the file is upgraded.

Images written before the PIN hash was evidence leave ``pin_hash`` out, and the replay compares
a row only with the columns of its last image: so on such a file (every kiosk and hub in the
field) a hash swapped for another account's (sign in as coord with the admin's PIN) verified ok,
before and after the upgrade. Migration ``0012_pin_digest`` images every staff row once with
its digest. Real files: the hub of ``csv-golden.sql`` (schema 0010, row images without the
digest, imported accounts) and the kiosk of ``schema-0004.sql`` (before row images, older PIN
hashes that sign-in rehashes); the staff's ordinary life after the upgrade (sign-in, a PIN
change, a lockout, an admin's reset, an imported account enabled and given a PIN) is no alarm.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.storage import StudyDb
from tests.storage.test_verify_devices import copy_site, one, site
from tests.storage.test_verify_inspector import edit_behind_the_app
from tests.storage.test_verify_replay import verify_cli
from tests.support.exports import NOW, controlled_clock, export, install, merge, new_db
from tests.support.storage import ADMIN_PIN, COORD_PIN, ROOT, fixed_clock

__all__ = ["site"]  # the module fixture, shared

DUMPS = ROOT / "tests" / "data" / "databases"
HUB = DUMPS / "csv-golden.sql"  # schema 0010, row images without the PIN hash
KIOSK = DUMPS / "schema-0004.sql"  # schema 0004, before row images
PINS = {HUB: (ADMIN_PIN, COORD_PIN), KIOSK: ("123456", "2468")}  # admin's, coord's
NEW_PIN = "318275"
RESET_PIN = "529461"


def _load(dump: Path, path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(dump.read_text(encoding="utf-8"))
    finally:
        conn.close()
    return path


def _swap(path: Path, username: str) -> str:
    """Give `username` the admin's PIN hash behind the application's back; its id."""
    conn = sqlite3.connect(path)
    try:
        (key,) = conn.execute("SELECT id FROM staff WHERE username=?", [username]).fetchone()
    finally:
        conn.close()
    edit_behind_the_app(
        path,
        [
            "UPDATE staff SET pin_hash=(SELECT pin_hash FROM staff WHERE username='admin') "
            f"WHERE id='{key}'"
        ],
    )
    return str(key)


def _named(path: Path, key: str) -> None:
    said = f"table staff row {key}: column pin_hash is 'sha256:"
    result = storage.verify_database(path)
    assert not result.ok and said in result.message, result.message
    done = verify_cli(path)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert said in line


def _upgraded(dump: Path, path: Path) -> Path:
    _load(dump, path)
    as_is = storage.verify_database(path)  # read as the older version left it
    assert as_is.ok, as_is.message
    fixed_clock()
    storage.open_database(path, durable=False).close()  # the upgrade
    result = storage.verify_database(path)
    assert result.ok, result.message
    return path


@pytest.mark.req("AUD-01")
@pytest.mark.parametrize(
    ("dump", "username"),
    [(HUB, "coord"), (HUB, "coord@01.f6888b"), (KIOSK, "coord")],
    ids=["hub-own-account", "hub-imported-account", "kiosk-account"],
)
def test_a_pin_hash_swapped_on_an_upgraded_file_is_named(
    tmp_path: Path, dump: Path, username: str
) -> None:
    path = _upgraded(dump, tmp_path / "old.db")
    _named(path, _swap(path, username))


def test_the_upgrade_images_every_account_with_the_digest_never_the_hash(tmp_path: Path) -> None:
    path = _upgraded(HUB, tmp_path / "hub.db")
    conn = sqlite3.connect(path)
    try:
        hashes = dict(conn.execute("SELECT id, pin_hash FROM staff").fetchall())
        (payload,) = conn.execute(
            "SELECT payload FROM audit_log WHERE device_id=(SELECT value FROM settings "
            "WHERE key='device_id') ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    image = json.loads(payload)["rows_after"]["staff"]
    where = image["columns"].index("pin_hash")
    assert {v[0] for v in image["values"]} == set(hashes)
    assert all(v[where].startswith("sha256:") for v in image["values"])
    assert not any(h in payload for h in hashes.values())


def _staff_life(db: StudyDb, pins: tuple[str, str], imported: str | None) -> None:
    """Sign-ins (a rehash of an older hash), a PIN change, a lockout, an admin's reset, and on
    a hub an imported account enabled and given a PIN."""
    admin_pin, coord_pin = pins
    admin = storage.authenticate(db, "admin", admin_pin)
    coord = storage.authenticate(db, "coord", coord_pin)
    storage.change_pin(db, coord, coord_pin, NEW_PIN)
    for _ in range(storage.login_policy(db).max_failures):
        with pytest.raises(storage.StorageError):
            storage.authenticate(db, "coord", "000000")
    with pytest.raises(storage.StorageError):
        storage.authenticate(db, "coord", NEW_PIN)  # locked
    storage.reset_pin(db, admin, "coord", RESET_PIN)
    if imported is not None:
        storage.enable_staff(db, admin, imported)
        storage.reset_pin(db, admin, imported, NEW_PIN)
        storage.authenticate(db, imported, NEW_PIN)


@pytest.mark.parametrize(
    ("dump", "imported"), [(HUB, "coord@01.f6888b"), (KIOSK, None)], ids=["hub", "kiosk"]
)
def test_the_staffs_life_after_the_upgrade_is_no_alarm_and_a_later_swap_is_named(
    tmp_path: Path, dump: Path, imported: str | None
) -> None:
    path = _upgraded(dump, tmp_path / "old.db")
    with storage.open_database(path, durable=False) as db:
        _staff_life(db, PINS[dump], imported)
    result = storage.verify_database(path)
    assert result.ok, result.message
    _named(path, _swap(path, "coord"))


def test_a_kiosks_staff_life_merged_into_the_hub_is_no_alarm_on_either(
    site: Path, tmp_path: Path
) -> None:
    """This version's kiosk (images with the digest) changes, locks out and resets PINs on the
    kiosk and on the hub, then merges: the hub holds the kiosk's accounts imported without a
    PIN (the device replay leaves the digest aside), both verify; a swap on either is named."""
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", root / "a.db"
    for path in (kiosk, hub):
        with storage.open_database(path) as db:
            _staff_life(db, (ADMIN_PIN, COORD_PIN), None)
    export(kiosk, root / "a.4")
    merge(hub, root / "a.4")
    for path in (kiosk, hub):
        result = storage.verify_database(path)
        assert result.ok, result.message
    imported = one(hub, "SELECT username FROM staff WHERE username LIKE 'coord@%' ORDER BY rowid")
    _named(hub, _swap(hub, imported))
    _named(kiosk, _swap(kiosk, "coord"))


def _ok(path: Path) -> None:
    result = storage.verify_database(path)
    assert result.ok, f"{path.name}: {result.message}"


@pytest.mark.req("AUD-01")
def test_the_upgraded_hub_and_a_kiosk_and_a_relay_hub_exchange_with_no_alarm(
    tmp_path: Path,
) -> None:
    """The upgraded hub of ``csv-golden.sql`` (its chain now images every account, imported
    ones included, with the digest) and this version's kiosk and second hub exchange bundles
    in every direction, the second hub relaying the others' chains: each verifies."""
    hub = _upgraded(HUB, tmp_path / "hub.db")
    kiosk, relay = tmp_path / "k.db", tmp_path / "relay.db"
    with controlled_clock() as c:
        c.at(NOW + timedelta(days=400))
        with new_db(relay, device_label="hub two") as db:
            exports.write_key_file(db, tmp_path / "site.key")
        with storage.open_database(hub) as db:  # the dump's key is wrapped for another computer
            exports.install_key_file(db, tmp_path / "site.key", replace=True)
        new_db(kiosk, device_label="kiosk new").close()
        install(kiosk, tmp_path / "site.key")
        export(hub, tmp_path / "hub.1")
        for path in (kiosk, relay):
            merge(path, tmp_path / "hub.1")
            _ok(path)
        c.at(NOW + timedelta(days=401))
        export(kiosk, tmp_path / "k.1")
        merge(hub, tmp_path / "k.1")
        _ok(hub)
        export(hub, tmp_path / "hub.2")
        merge(relay, tmp_path / "hub.2")
        _ok(relay)
        export(relay, tmp_path / "relay.1")
        for path in (kiosk, hub):
            merge(path, tmp_path / "relay.1")
            _ok(path)
