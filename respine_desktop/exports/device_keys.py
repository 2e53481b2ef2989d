"""Device files: how a device's public keys travel (kiosk → hub: enrol; hub → kiosks: encrypt).

A small JSON file holding no secret: ``format`` (``respine-device-key``), ``role`` (``kiosk``
for `export device`, ``hub`` for `export hub-key`), ``study_id``, ``device_id``, ``label``,
``site_code``, ``sign_public`` (Ed25519) and ``box_public`` (X25519) in hex, and the
``fingerprint``. The file is public but not self-authenticating: whoever carries it could swap
it, so the person enrolling compares the fingerprint printed by the importing command with the
one the other device shows (`status`, `export device`): 4 groups of 4 base32 characters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import atomic_text, output_file, read_json_file
from respine_desktop.exports.new_keys import kept_with
from respine_desktop.storage import (
    DeviceKey,
    StudyDb,
    enrol_device,
    ensure_device_keys,
    install_hub_key,
    own_device_key,
)

FORMAT = "respine-device-key"
FileRole = Literal["kiosk", "hub"]


@dataclass(frozen=True)
class DeviceFile:
    """A device file's content: whose keys, for which study, as kiosk or as hub."""

    role: FileRole
    study_id: str
    key: DeviceKey


def write_device_file(db: StudyDb, out: str | Path, *, role: FileRole = "kiosk") -> DeviceFile:
    """Write this database's public keys (made at first use) to `out` (replaced if it exists)."""
    try:
        path = output_file(Path(out))
    except OSError as exc:
        raise ExportError(str(exc)) from None
    # The keys made now (at first use) are kept only with the file in place (`kept_with`).
    with kept_with(db, path, making=own_device_key(db) is None):
        key = ensure_device_keys(db)
        data = {
            "format": FORMAT,
            "role": role,
            "study_id": db.study_id,
            "device_id": key.device_id,
            "label": key.label,
            "site_code": key.site_code,
            "sign_public": key.sign_public.hex(),
            "box_public": key.box_public.hex(),
            "fingerprint": key.fingerprint,
        }
        with atomic_text(path, newline="\n") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    return DeviceFile(role, db.study_id, key)


def read_device_file(path: str | Path) -> DeviceFile:
    """Read and check a device file (ExportError naming the problem)."""
    path = Path(path)
    data = read_json_file(path, "device file", FORMAT)
    role = data.get("role")
    if role not in ("kiosk", "hub"):
        raise ExportError(f"{path}: unknown device role {role!r}")
    try:
        key = DeviceKey(
            device_id=str(data["device_id"]),
            label=str(data["label"]),
            site_code=str(data["site_code"]),
            sign_public=bytes.fromhex(str(data["sign_public"])),
            box_public=bytes.fromhex(str(data["box_public"])),
        )
    except (KeyError, ValueError) as exc:
        raise ExportError(f"{path}: the device file is damaged ({exc})") from None
    if len(key.sign_public) != 32 or len(key.box_public) != 32:
        raise ExportError(f"{path}: the device file is damaged (key length)")
    if key.fingerprint != data.get("fingerprint"):
        raise ExportError(f"{path}: the device file is damaged (its fingerprint does not match)")
    return DeviceFile(role, str(data.get("study_id")), key)


def _for_study(db: StudyDb, path: Path, found: DeviceFile) -> None:
    if found.study_id != db.study_id:
        raise ExportError(
            f"{path}: this device file is for study {found.study_id!r}, the database is study "
            f"{db.study_id!r}"
        )


def enrol_device_file(
    db: StudyDb, path: str | Path, *, actor: str | None = None
) -> tuple[DeviceFile, bool]:
    """Enrol the kiosk of a device file (``role: kiosk``) on this hub; (what was read, changed)."""
    path = Path(path)
    found = read_device_file(path)
    _for_study(db, path, found)
    if found.role != "kiosk":
        raise ExportError(f"{path}: a hub's key file: install it on a kiosk with 'import hub-key'")
    return found, enrol_device(db, found.key, actor=actor)


def install_hub_file(
    db: StudyDb, path: str | Path, *, replace: bool = False, actor: str | None = None
) -> tuple[DeviceFile, bool]:
    """Install the hub key of a device file (``role: hub``); (what was read, changed)."""
    path = Path(path)
    found = read_device_file(path)
    _for_study(db, path, found)
    if found.role != "hub":
        raise ExportError(
            f"{path}: a kiosk's device file: enrol it on the hub with 'import device'"
        )
    return found, install_hub_key(db, found.key, replace=replace, actor=actor)
