"""The keys a database's first bundle makes are kept only with the bundle in place
(`exports.new_keys.kept_with`); the commit that fails after the rename removes the bundle."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports import new_keys
from tests.support.exports import DATA_TABLES, demo_db, table_digest


@pytest.fixture
def kiosk(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.db"
    demo_db(path, subjects=1, seed=2)
    return path


def test_a_first_bundle_keeps_its_new_site_key(kiosk: Path, tmp_path: Path) -> None:
    with storage.open_database(kiosk) as db:
        info = exports.export_bundle(db, tmp_path / "b.zip")
        assert storage.installed_site_key_id(db) == info.key_id
        assert not db.conn.in_transaction


def test_a_commit_that_fails_with_the_bundle_in_place_removes_it(
    kiosk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys' transaction refused at its commit (a disk full under the database itself):
    no bundle signed by keys the database does not keep."""

    @contextlib.contextmanager
    def commit_refused(db: storage.StudyDb) -> Iterator[None]:
        with storage.transaction(db):
            yield
            db.conn.execute("ROLLBACK")  # what a failed commit leaves
            raise storage.WriteFailed(f"{db.path}: could not write, nothing was saved (full)")

    monkeypatch.setattr(new_keys, "transaction", commit_refused)
    before = table_digest(kiosk, DATA_TABLES)
    with storage.open_database(kiosk) as db, pytest.raises(storage.WriteFailed):
        exports.export_bundle(db, tmp_path / "b.zip")
    assert table_digest(kiosk, DATA_TABLES) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".zip") == []
    assert not (tmp_path / "b.zip.partial").exists()
