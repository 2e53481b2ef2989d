"""answers_long.csv and audit_trail.csv byte for byte as the export wrote them before its speed
work (the digests were made with that code, commit ee92785), on the fixed study of
`tests.support.csv_golden`, in one process and in two."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.exports.csv_export import export_csv
from tests.support.exports import controlled_clock

DUMP = Path(__file__).resolve().parents[1] / "data" / "databases" / "csv-golden.sql"
DIGESTS = {
    "answers_long.csv": "66a3eadbd1edcdb4ff99c56294a37c0d2b97abe86e3475c1e78f7971358aa33d",
    "audit_trail.csv": "0253ce3e3f9b220738512edf171ef887ad96c6f5c95dd80fdd58718e055a99eb",
}


def golden_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(DUMP.read_text(encoding="utf-8"))
    finally:
        conn.close()
    # Read as the dump was made, not upgraded: the digests are of this content, and an upgrade
    # may append audit entries (0012_pin_digest images the staff rows), which the audit trail
    # lists. Every migration it lacks is one a read-only open does without (READ_OPTIONAL).
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_answers_long_and_audit_trail_are_byte_identical(tmp_path: Path, workers: int) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock(), storage.open_database(db_path, readonly=True) as db:
        export_csv(db, tmp_path / "csv", workers=workers)
    digests = {
        name: hashlib.sha256((tmp_path / "csv" / name).read_bytes()).hexdigest() for name in DIGESTS
    }
    assert digests == DIGESTS
