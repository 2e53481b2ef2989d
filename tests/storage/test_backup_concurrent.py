"""Two backups to one name at once (two upgrades of a database started in the same second, two
`backup` commands given the same --out): the second used to remove the first one's ``.partial``
under its open connection, which then failed with SQLite's "attempt to write a readonly
database" (SQLITE_READONLY_DBMOVED: its file was unlinked) or an I/O error. Now the ``.partial``
is held by the process making it: the second is refused in one line, the first completes."""

from __future__ import annotations

import sqlite3
import subprocess
import types
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage import _encryption
from tests.support.cli import main_py
from tests.support.storage import new_db


@pytest.mark.parametrize("when", ["copy", "verify"])
def test_a_second_backup_to_the_same_name_does_not_pull_the_first_ones_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The second backup, a real process, runs while the first one's ``.partial`` is open: as
    its copy starts (the old code: "disk I/O error"), or once copied, before it is verified
    (the old code: the file renamed away under it)."""
    path, out = tmp_path / "site.db", tmp_path / "copy.db"
    new_db(path).close()
    seconds: list[subprocess.CompletedProcess[str]] = []

    def race() -> None:
        seconds.append(main_py("backup", "--db", path, "--out", out, timeout=300))

    def apply_key(conn: sqlite3.Connection, key: bytes | None) -> None:
        _encryption.apply_key(conn, key)
        race()

    def verify(partial: Path, **options: Any) -> storage.VerifyResult:
        race()
        return storage.verify_database(partial, **options)

    if when == "copy":
        racing = types.SimpleNamespace(apply_key=apply_key)
        monkeypatch.setattr("respine_desktop.storage._backup.encryption", racing)
    else:
        monkeypatch.setattr("respine_desktop.storage._backup.verify_database", verify)
    with storage.open_database(path, readonly=True) as db:
        result = storage.backup_database(db, out)
    assert result.ok and storage.verify_database(out).ok
    (second,) = seconds
    assert second.returncode == 2, second.stderr
    assert second.stderr.splitlines() == [
        f"error: {out}: not written: another backup to this name is being made "
        "(copy.db.partial); wait for it to end, or give another name"
    ]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == ["copy.db"]


def test_a_link_put_under_the_claimed_partial_is_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``.partial`` was claimed (created, held) and then opened by SQLite by its name, which
    follows a link to a database file: a link put under that name in between (a shared folder)
    had the whole database copied over the file it points to (here another study's database).
    Now the copy is made in a folder of its own that nobody else may write into: the file the
    link points to is untouched, the backup is made and verified, nothing else is left."""
    from respine_desktop.storage import _partial

    path, out = tmp_path / "site.db", tmp_path / "copy.db"
    new_db(path).close()
    victim = tmp_path / "another-study.db"
    new_db(victim).close()
    before = victim.read_bytes()
    real = _partial.claim
    folders: list[Path] = []

    def then_linked(partial: Path, private: Path | None = None) -> int:
        fd = real(partial, private)
        assert private is not None and private.stat().st_mode & 0o077 == 0  # (its owner's)
        folders.append(private)
        partial.unlink()
        partial.symlink_to(victim)
        return fd

    monkeypatch.setattr(_partial, "claim", then_linked)
    with storage.open_database(path) as db:
        assert storage.backup_database(db, out).ok
    assert victim.read_bytes() == before
    assert out.is_file() and not out.is_symlink() and storage.verify_database(out).ok
    assert folders and not folders[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "another-study.db",
        "copy.db",
        "site.db",
    ]


def test_a_leftover_partial_removes_only_the_copys_own_folder(tmp_path: Path) -> None:
    """A ``.partial`` left by a killed backup names the folder its copy was made in; the next
    backup removes that folder, but only a folder of this user's with a copy folder's name:
    a ``.partial`` naming a link, or any other name, removes nothing but itself."""
    from respine_desktop.storage import _partial

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "a file").write_text("kept\n")
    cases = {
        "copy.db.partial": _partial.private_folder(tmp_path / "copy.db.partial").name,
        "linked.db.partial": ".respine-backup-linked",
        "other.db.partial": "kept",
    }
    (tmp_path / ".respine-backup-linked").symlink_to(kept)
    for partial, named in cases.items():
        (tmp_path / partial).write_text(named)
        assert _partial.remove_abandoned(tmp_path / partial)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".respine-backup-linked", "kept"]
    assert (kept / "a file").read_text() == "kept\n"
