"""The CSV export of a database opened without its integrity check (as ``export csv`` opens it):
the export checks the file itself, beside its worker processes, and a damaged file is refused
with nothing written, as the check at open refused it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.exports import csv_export
from respine_desktop.exports.csv_export import export_csv
from tests.exports.test_exports_parallel import CSV_FILES
from tests.support.exports import controlled_clock, demo_db
from tests.support.storage import damage_answers_page, damage_leaf_page


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("check") / "demo.db"
    demo_db(path, subjects=12, seed=3)
    return path


@pytest.fixture
def damaged(intact: Path, tmp_path: Path) -> Path:
    path = tmp_path / "damaged.db"
    shutil.copy(intact, path)
    damage_answers_page(path)
    return path


def written(db_path: Path, out: Path, workers: int, *, check: bool) -> dict[str, bytes]:
    with controlled_clock(), storage.open_database(db_path, readonly=True, check=check) as db:
        export_csv(db, out, workers=workers)
        assert db.checked
    return {name: (out / name).read_bytes() for name in CSV_FILES}


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_file_opened_unchecked_gives_the_same_bytes(
    intact: Path, tmp_path: Path, workers: int
) -> None:
    checked = written(intact, tmp_path / "checked", workers, check=True)
    assert written(intact, tmp_path / "unchecked", workers, check=False) == checked


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_damaged_file_opened_unchecked_is_refused_and_no_folder_made(
    damaged: Path, tmp_path: Path, workers: int
) -> None:
    refused_in_one_line(damaged, tmp_path / "out", workers)


def refused_in_one_line(damaged: Path, out: Path, workers: int) -> None:
    with (
        pytest.raises(storage.DatabaseCorrupt, match="the database file is damaged") as caught,
        storage.open_database(damaged, readonly=True, check=False) as db,
    ):
        export_csv(db, out, workers=workers)
    assert "\n" not in str(caught.value)
    assert not out.exists()  # not even an empty folder, as the check at open left it


@pytest.mark.parametrize("workers", [1, 2])
def test_a_damaged_file_leaves_earlier_files_as_they_were(
    intact: Path, damaged: Path, tmp_path: Path, workers: int
) -> None:
    out = tmp_path / "out"
    before = written(intact, out, 1, check=True)
    with (
        pytest.raises(storage.DatabaseCorrupt),
        storage.open_database(damaged, readonly=True, check=False) as db,
    ):
        export_csv(db, out, workers=workers)
    assert sorted(p.name for p in out.iterdir()) == sorted(CSV_FILES)  # no part, no partial
    assert {name: (out / name).read_bytes() for name in CSV_FILES} == before


def test_a_file_checked_at_open_is_not_checked_again(
    intact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(csv_export, "check_intact", calls.append)
    for workers in (1, 2):
        written(intact, tmp_path / f"w{workers}", workers, check=True)
    assert calls == []


@pytest.mark.parametrize("workers", [1, 2])
def test_the_check_runs_once_in_the_callers_process_or_in_a_worker(
    intact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """One process checks the file itself; with workers, the last worker checks it (through
    its memory map), not this process, which then has it checked."""
    calls: list[storage.StudyDb] = []

    def check(db: storage.StudyDb) -> None:
        calls.append(db)
        storage.check_intact(db)

    monkeypatch.setattr(csv_export, "check_intact", check)  # (this process only)
    with controlled_clock(), storage.open_database(intact, readonly=True, check=False) as db:
        export_csv(db, tmp_path / "out", workers=workers)
        assert db.checked
    assert calls == ([db] if workers == 1 else [])


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_damage_no_export_read_meets_is_refused_too(
    intact: Path, tmp_path: Path, workers: int
) -> None:
    """An index the CSV export never reads (the audit entries by subject), damaged: only the
    check can find it, so with workers too it has run (in a worker), and refused the file in
    one line with nothing written."""
    damaged = tmp_path / "index-damaged.db"
    shutil.copy(intact, damaged)
    damage_leaf_page(damaged, "audit_subject")
    refused_in_one_line(damaged, tmp_path / "out", workers)


def test_check_intact_marks_the_database_checked(intact: Path, damaged: Path) -> None:
    with storage.open_database(intact, readonly=True, check=False) as db:
        assert not db.checked
        storage.check_intact(db)
        assert db.checked
    with storage.open_database(damaged, readonly=True, check=False) as db:
        with pytest.raises(storage.DatabaseCorrupt, match="page"):
            storage.check_intact(db)
        assert not db.checked
