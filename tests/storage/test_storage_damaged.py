"""A damaged database file: refused at open, and a damaged page met later is one clear error."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import export_reads
from tests.support.exports import demo_db
from tests.support.storage import damage_answers_page


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.db"
    demo_db(path, subjects=2)
    damage_answers_page(path)
    return path


@pytest.mark.req("AUD-03")
def test_open_for_writing_runs_quick_check_before_any_write(damaged: Path) -> None:
    before = hashlib.sha256(damaged.read_bytes()).hexdigest()
    with pytest.raises(storage.DatabaseCorrupt, match=r"damaged .*page"):
        storage.open_database(damaged)
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == before


def test_a_damaged_page_read_inside_with_is_a_database_corrupt(damaged: Path) -> None:
    with (
        pytest.raises(storage.DatabaseCorrupt, match="damaged") as caught,
        storage.open_database(damaged, readonly=True, check=False) as db,
        storage.read_snapshot(db),
    ):
        for _ in export_reads.iter_subject_records(db):
            pass
    assert "\n" not in str(caught.value)


def test_verify_reports_the_first_problem(damaged: Path) -> None:
    result = storage.verify_database(damaged)
    # SQLite 3.53 (SQLCipher 4.19) says "Tree N page P cell C: ...", older ones "On tree page P ..."
    assert not result.ok
    assert re.match(r"integrity check failed: (On tree|Tree \d+) page", result.message)
