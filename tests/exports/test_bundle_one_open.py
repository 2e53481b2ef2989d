"""A bundle is checked and read through one open of its file.

A bundle waiting in a folder others may write to (a shared drive, a stick passed around) can be
renamed over between two opens of its name. The import opened the name five times (the format,
the signature line, the ZIP, the signature's check, the digest for the audit entry), so another
file renamed over the genuine bundle just as the ZIP was opened, and the genuine one put back
before the signature was checked, had the other file's rows merged under the genuine signature:
the rows of a bundle nobody signed with the site key. Now the file is opened once and every
check and read goes through that one open file (a site-key bundle is read into memory first:
the signature and the rows are checked on the same bytes).
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports import bundle
from tests.support.exports import controlled_clock, demo_db, export, install, merge
from tests.support.storage import ADMIN_PIN


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A hub and the site key; the genuine kiosk's signed bundle; another kiosk's bundle whose
    signature is broken (its rows are valid, but nobody signed them with the site key)."""
    root = tmp_path_factory.mktemp("one-open")
    demo_db(root / "kiosk.db", subjects=2)
    demo_db(root / "other.db", subjects=2, first=50, seed=9)
    with controlled_clock():
        with storage.create_database(root / "hub.db", admin_pin=ADMIN_PIN) as hub:
            exports.write_key_file(hub, root / "site.key")
        for name in ("kiosk", "other"):
            install(root / f"{name}.db", root / "site.key")
            export(root / f"{name}.db", root / f"{name}.bundle")
    forged = bytearray((root / "other.bundle").read_bytes())
    at = forged.rindex(b"mac=") + len(b"mac=")
    forged[at : at + 8] = b"00000000" if forged[at : at + 8] != b"00000000" else b"11111111"
    (root / "forged.bundle").write_bytes(bytes(forged))
    yield root


def _subjects(db_path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT code FROM subjects")}
    finally:
        conn.close()


def test_the_forged_bundle_alone_is_refused(site: Path, tmp_path: Path) -> None:
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    with pytest.raises(exports.BundleError, match="signature does not match"):
        merge(hub, site / "forged.bundle")


def test_a_file_renamed_over_the_bundle_as_its_zip_is_opened_is_never_read(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    path = tmp_path / "incoming.bundle"
    shutil.copy(site / "kiosk.bundle", path)
    real = zipfile.ZipFile
    swapped: list[str] = []

    def renamed_over(file: Any, *args: Any, **kwargs: Any) -> zipfile.ZipFile:
        # the attacker's moment: the forged file renamed over the name as the ZIP is opened,
        # the genuine one put back at once (for any later open of the name)
        aside = tmp_path / "aside.bundle"
        os.replace(path, aside)
        shutil.copy(site / "forged.bundle", path)
        try:
            return real(file, *args, **kwargs)
        finally:
            os.replace(aside, path)
            swapped.append("once")

    monkeypatch.setattr(bundle.zipfile, "ZipFile", renamed_over)
    summary = merge(hub, path)
    assert swapped  # (the swap did happen while the import ran)
    assert _subjects(hub) == _subjects(site / "kiosk.db")
    assert not _subjects(hub) & _subjects(site / "other.db")
    assert summary.bundle.sha256 == bundle._file_sha256(site / "kiosk.bundle")


def test_a_bundle_larger_than_a_bundle_can_hold_is_refused_unread(
    site: Path, tmp_path: Path
) -> None:
    from respine_desktop.exports.bundle_envelope import MAX_SEALED_BYTES

    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    huge = tmp_path / "huge.bundle"
    with open(huge, "wb") as f:
        f.truncate(MAX_SEALED_BYTES + 1)  # (sparse: no disk used)
    with pytest.raises(exports.BundleError, match="more than a bundle can hold"):
        merge(hub, huge)


def test_a_bundle_that_grows_while_it_is_read_is_refused() -> None:
    class Growing(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            at = self.tell()
            self.seek(0, io.SEEK_END)
            self.write(b"appended meanwhile")  # (someone writing into the file)
            self.seek(at)
            return super().read(size)

    with pytest.raises(exports.BundleError, match="changed while it was read"):
        bundle._whole(Growing(b"PK\x03\x04 a bundle's first bytes"))
