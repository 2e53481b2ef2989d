"""A database on read-only media is read without creating anything beside it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import _database
from tests.support.storage import new_db


@pytest.fixture
def on_stick(tmp_path: Path) -> Path:
    folder = tmp_path / "stick"
    folder.mkdir()
    path = folder / "kiosk.db"
    new_db(path).close()
    assert sorted(p.name for p in folder.iterdir()) == ["kiosk.db"]
    return path


@pytest.fixture
def read_only(on_stick: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder made read-only. As root the permission bits stop nothing (and a read-only
    mount needs privileges a test does not have), so the media check is told the truth the
    bits state: unwritable. Either way the files beside the database are then compared."""
    folder = on_stick.parent
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    on_stick.chmod(stat.S_IRUSR)
    if os.geteuid() == 0:
        monkeypatch.setattr(_database, "media_writable", lambda path: False)
    try:
        yield on_stick
    finally:
        folder.chmod(stat.S_IRWXU)
        on_stick.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_the_uri_is_immutable_on_read_only_media_without_a_wal(on_stick: Path) -> None:
    assert _database.readonly_uri(on_stick, writable=True).endswith("?mode=rw")
    assert _database.readonly_uri(on_stick, writable=False).endswith("?mode=ro&immutable=1")
    Path(f"{on_stick}-wal").write_bytes(b"")  # an empty -wal holds no changes
    assert _database.readonly_uri(on_stick, writable=False).endswith("?mode=ro&immutable=1")
    Path(f"{on_stick}-wal").write_bytes(b"\0" * 32)  # changes only the -wal holds: read them
    assert _database.readonly_uri(on_stick, writable=False).endswith("?mode=ro")


def test_read_commands_read_a_database_on_read_only_media(read_only: Path) -> None:
    before = read_only.read_bytes()
    with storage.open_database(read_only, readonly=True) as db:
        assert storage.counts(db).staff == 3
        assert db.conn.execute("PRAGMA query_only").fetchone()[0] == 1
        assert sorted(p.name for p in read_only.parent.iterdir()) == ["kiosk.db"]
    assert storage.verify_database(read_only).ok
    assert sorted(p.name for p in read_only.parent.iterdir()) == ["kiosk.db"]
    assert read_only.read_bytes() == before
