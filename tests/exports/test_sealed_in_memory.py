"""A sealed bundle's plaintext ZIP never touches a disk (data protection; issue 12's left-overs).

- The hub decrypts a sealed bundle into memory, whatever its size: the ZIP it yields is an
  in-memory buffer, and the only file the process opens meanwhile is the bundle itself (before,
  a bundle over 64 MiB spilled its plaintext into an unnamed temporary file).
- A kiosk builds the ZIP it seals in memory too, and that bundle imports.
- A sealed bundle larger than any the import accepts is refused in one line before anything
  else is read, the hub unchanged; one exactly at the cap is read; on the command line, a
  sparse file of the cap's size plus one byte behind the sealed magic ends in one line, exit 2.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import IO, Any

import pytest

from respine_desktop import storage
from respine_desktop.exports import bundle_envelope as envelope
from tests.cli.test_device_cli import refused as cli_refused
from tests.exports.test_device_keys import enrol, hub, refused, site
from tests.support.cli import ADMIN, ADMIN_PIN
from tests.support.exports import controlled_clock, export, merge

__all__ = ["hub", "site"]  # fixtures


def _open_files() -> set[str]:
    """What this process's file descriptors point to (deleted files included)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # (the listing's own descriptor, closed meanwhile)
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
def test_the_hub_decrypts_a_sealed_bundle_into_memory_only(site: Path, hub: Path) -> None:
    bundle = site / "a.bundle"
    with storage.open_database(hub) as db:
        before = _open_files()
        with envelope.open_sealed(db, bundle) as (plain, sender):
            opened = _open_files() - before
            assert type(plain) is io.BytesIO
            assert plain.read(4) == b"PK\x03\x04"  # the ZIP itself
        assert opened == {str(bundle)}  # no temporary file, named or not
        assert sender.key.device_id
    assert merge(hub, bundle).result.inserted["subjects"] == 4


def test_a_kiosk_seals_a_zip_built_in_memory(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(site / "a.db", tmp_path / "a.db")
    shutil.copy(site / "hub.db", tmp_path / "hub.db")
    sealed: list[type[Any]] = []
    seal = envelope.seal

    def recording(plain: IO[bytes], out: IO[bytes], **keys: Any) -> None:
        sealed.append(type(plain))
        seal(plain, out, **keys)

    monkeypatch.setattr(envelope, "seal", recording)
    export(tmp_path / "a.db", tmp_path / "a.bundle")
    assert sealed == [io.BytesIO]
    assert merge(tmp_path / "hub.db", tmp_path / "a.bundle").result.inserted["subjects"] == 4
    assert storage.verify_database(tmp_path / "hub.db").ok


def test_a_sealed_bundle_over_the_cap_is_refused_before_anything_is_read(
    site: Path, hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = site / "a.bundle"
    size = bundle.stat().st_size
    read: list[object] = []
    header = envelope._header

    def reading(*args: Any) -> Any:
        read.append(args)
        return header(*args)

    monkeypatch.setattr(envelope, "_header", reading)
    monkeypatch.setattr(envelope, "MAX_SEALED_BYTES", size - 1)
    refused(hub, bundle, "more than a sealed bundle can hold")
    assert read == []  # refused on its size alone
    monkeypatch.setattr(envelope, "MAX_SEALED_BYTES", size)  # at the cap: read
    assert merge(hub, bundle).result.inserted["subjects"] == 4
    assert len(read) == 1


def test_the_command_line_refuses_an_oversized_sealed_bundle_in_one_line(
    tmp_path: Path,
) -> None:
    hub, kiosk = tmp_path / "hub.db", tmp_path / "kiosk.db"
    with controlled_clock():
        for path in (hub, kiosk):
            storage.create_database(path, admin_pin=ADMIN_PIN, admin_username=ADMIN).close()
        enrol(hub, kiosk, tmp_path)
    huge = tmp_path / "huge.bundle"
    with open(huge, "wb") as f:  # sparse: no disk used
        f.write(envelope.MAGIC)
        f.truncate(envelope.MAX_SEALED_BYTES + 1)
    cli_refused(hub, 2, "more than a sealed bundle can hold", "import", "bundle", "--db", hub, huge)
