"""A schema upgrade starts only after a verified backup of the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.storage import old_schema_db

OLD = ("0001_initial", "0002_worklist")


@pytest.mark.req("DB-09")
def test_the_upgrade_keeps_a_verified_copy_of_the_old_database(tmp_path: Path) -> None:
    path = old_schema_db(tmp_path / "kiosk.db", before="0003_session_choices")
    with storage.open_database(path) as db:
        assert db.info.migrations[:2] == OLD and len(db.info.migrations) > len(OLD)
    (backup,) = tmp_path.glob("kiosk.db.before-0002_worklist-*.bak")
    assert storage.inspect_database(backup) == OLD  # the file as it was, not upgraded
    assert storage.verify_database(backup).ok
    assert not list(tmp_path.glob("*.partial"))
    with storage.open_database(path):  # already upgraded: no second copy
        pass
    assert len(list(tmp_path.glob("*.bak"))) == 1


@pytest.mark.req("DB-09")
def test_no_upgrade_without_its_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = old_schema_db(tmp_path / "kiosk.db", before="0003_session_choices")

    def refuse(db: storage.StudyDb, out: Path) -> storage.VerifyResult:
        raise storage.BackupFailed("the backup copy failed verification: disk says no")

    monkeypatch.setattr("respine_desktop.storage._backup.backup_database", refuse)
    with pytest.raises(storage.BackupFailed, match="disk says no"):
        storage.open_database(path)
    assert storage.inspect_database(path) == OLD  # nothing migrated
    assert not list(tmp_path.glob("*.bak"))
