"""Site key files: how the site key travels from one database of a site to the others.

A small JSON file (``format``, ``study_id``, ``site_code``, ``key_id``, ``key`` in hex), written
with permissions 0600. It is a secret: whoever holds it can sign bundles the site's hub accepts,
so it is copied by hand (USB stick) to each kiosk and the hub, then deleted. It signs the HMAC
bundles of formats 1 and 2 only, accepted during the transition to device keys
(docs/security-bundles.md); a new site no longer needs it once every kiosk has its hub's key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import output_file, read_json_bytes
from respine_desktop.exports.new_keys import kept_with
from respine_desktop.files import sync_directory
from respine_desktop.storage import (
    SITE_KEY_BYTES,
    StudyDb,
    ensure_site_key,
    install_site_key,
    installed_site_key_id,
    site_key_id,
)

FORMAT = "respine-site-key"


@dataclass(frozen=True)
class KeyFile:
    """A site key and whom it is for."""

    study_id: str
    site_code: str
    key: bytes
    sha256: str = ""  # of the file it was read from (`read_key_file`)

    @property
    def key_id(self) -> str:
        return site_key_id(self.key)


def write_key_file(db: StudyDb, out: str | Path) -> KeyFile:
    """Write this database's site key (created now if it has none) to the new file `out`."""
    path = Path(out)
    try:
        output_file(path)
    except OSError as exc:
        raise ExportError(str(exc)) from None
    # The key made now (at first use) is kept only with its file complete (`kept_with`).
    with kept_with(db, path, making=installed_site_key_id(db) is None):
        key = ensure_site_key(db)
        data = {
            "format": FORMAT,
            "study_id": db.study_id,
            "site_code": db.site_code,
            "key_id": site_key_id(key),
            "key": key.hex(),
        }
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ExportError(f"{path}: the file exists already") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
        except BaseException:  # a full disk: no empty or cut key file (made here) left
            path.unlink(missing_ok=True)
            raise
        sync_directory(path.parent)
    return KeyFile(db.study_id, db.site_code, key)


def read_key_file(path: str | Path) -> KeyFile:
    """Read and check a key file (ExportError naming the problem)."""
    path = Path(path)
    data, raw = read_json_bytes(path, "site key file", FORMAT)
    try:
        key = bytes.fromhex(str(data.get("key")))
    except ValueError:
        raise ExportError(f"{path}: the key is not hexadecimal") from None
    if len(key) != SITE_KEY_BYTES or site_key_id(key) != data.get("key_id"):
        raise ExportError(f"{path}: the key is damaged (length or id does not match)")
    digest = hashlib.sha256(raw).hexdigest()
    return KeyFile(str(data.get("study_id")), str(data.get("site_code")), key, digest)


def install_key_file(
    db: StudyDb, path: str | Path, *, replace: bool = False, actor: str | None = None
) -> bool:
    """Install the key of `path` into `db` (refuses another study's key). False if unchanged.

    The audit entry (``site_key.installed`` / ``site_key.replaced``, with the previous key id)
    names the file and its SHA-256, and `actor` (a staff id) when given."""
    found = read_key_file(path)
    if found.study_id != db.study_id:
        raise ExportError(
            f"{path}: this key is for study {found.study_id!r}, the database is study "
            f"{db.study_id!r}"
        )
    source = {"file": Path(path).name, "sha256": found.sha256}  # (of the bytes installed)
    return install_site_key(db, found.key, replace=replace, source=source, actor=actor)
