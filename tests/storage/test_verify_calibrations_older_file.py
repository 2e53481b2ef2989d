"""`verify` (a read-only open) of a file older than the calibration checks: without 0015's
index of the ``vas.calibrated`` entries, and without the answers' ``vas_calibration`` column
(before 0005): it reads the file as it is, and reports it sound."""

from __future__ import annotations

from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.storage import old_schema_db


@pytest.mark.parametrize("before", ["0015_audit_calibrations", "0005_vas_calibrations"])
def test_verify_reads_an_older_file_as_it_is(tmp_path: Path, before: str) -> None:
    path = old_schema_db(tmp_path / "old.db", before=before)
    result = storage.verify_database(path)
    assert result.ok, result.message
    if before == "0005_vas_calibrations":
        return  # (a read-only open of a file before 0005 is refused: an upgrade pending)
    with storage.open_database(path, readonly=True) as db:
        assert storage.get_vas_calibration(db, "01a2477b-0000-7000-8000-000000000000") is None
