"""Review11 (issue 12): an answer filed under another instrument than its item's.

Every way in stores an answer under its item's own instrument. A row edited behind the
program's back that files the VAS item ``vas_pain`` (a valid 48.7) under ``odi`` (its version
and checksum too), superseding the VAS answer, passes `stored_values` (which checks the value
against the item alone, whatever the row's instrument): ODM, REDCap and stats then stop in one
line anyway, since scoring the session meets "odi: unknown item 'vas_pain'"; but the CSV, which
reads the session's stored scores rather than scoring it again, writes the row (an ``odi`` line
of item ``vas_pain``), exit 0. Kept in the history only (superseded in turn by the VAS answer
it replaced), it is written by all five (the CSV's and the stats files' answers_long list an
``odi`` row of item ``vas_pain``), exit 0. `verify` names the row (no audit entry).

Proposed fix: `StoredValues.problem(instrument_id, item_id, value)` refuses an item of another
instrument than the row's ("vas_pain is not an item of odi"), and `_plain_sql` vouches only with
``a.instrument_id = '<the item's instrument>'`` in each item's ``WHEN`` (one more column read by
`_suspects`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli_db import main
from tests.cli.test_cli_tampered_values import CORRECTED, EXPORTS, TAMPERED
from tests.support.exports import DATA_TABLES, table_digest


def _misfiled(folder: Path, *, corrected: bool = False) -> Path:
    """A demo database whose last VAS answer is superseded by the same value filed under odi;
    with `corrected`, that row is superseded in turn by a copy of the VAS answer (history)."""
    path = folder / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "2").returncode == 0
    with sqlite3.connect(path) as conn:  # (a plaintext demo file)
        columns = [r[1] for r in conn.execute("PRAGMA table_info(answers)")]
        original = conn.execute(
            "SELECT * FROM answers WHERE item_id = 'vas_pain' ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        odi = conn.execute(
            "SELECT instrument_version, instrument_checksum FROM answers "
            "WHERE instrument_id = 'odi' LIMIT 1"
        ).fetchone()
        row = dict(zip(columns, original, strict=True))
        row.update(id=TAMPERED, supersedes=row["id"], instrument_id="odi")
        row.update(instrument_version=odi[0], instrument_checksum=odi[1])
        marks = ", ".join("?" for _ in columns)
        conn.execute(f"INSERT INTO answers VALUES ({marks})", [row[c] for c in columns])
        if corrected:
            back = dict(zip(columns, original, strict=True))
            back.update(id=CORRECTED, supersedes=TAMPERED)
            conn.execute(f"INSERT INTO answers VALUES ({marks})", [back[c] for c in columns])
    conn.close()
    with sqlite3.connect(path) as conn:  # (the WAL copied into the file)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="module")
def misfiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _misfiled(tmp_path_factory.mktemp("misfiled"))


@pytest.fixture(scope="module")
def misfiled_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _misfiled(tmp_path_factory.mktemp("misfiled_history"), corrected=True)


def _refused(path: Path, export: str, out: Path) -> str:
    before = table_digest(path, DATA_TABLES)
    result = main(*(a.format(db=path, out=out) for a in EXPORTS[export].split()))
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr[-300:])
    assert not out.exists()
    assert table_digest(path, DATA_TABLES) == before
    return str(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("export", ["odm", "redcap", "stats"])
def test_the_exports_that_score_the_answers_refuse_it(
    misfiled: Path, export: str, tmp_path: Path
) -> None:
    last = _refused(misfiled, export, tmp_path / "out")
    assert "vas_pain is an item of vas, not of 'odi'" in last and "verify" in last, last


@pytest.mark.parametrize("export", ["csv", "csv, 2 workers"])
def test_the_csv_refuses_it_too(misfiled: Path, export: str, tmp_path: Path) -> None:
    last = _refused(misfiled, export, tmp_path / "out")
    assert TAMPERED in last and "verify" in last, last


def test_verify_names_the_row(misfiled: Path) -> None:
    result = main("verify", "--db", str(misfiled))
    assert result.returncode == 1, result.stderr
    assert f"table answers row {TAMPERED} (vas_pain)" in result.stderr


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_kept_in_the_history_every_export_refuses_it(
    misfiled_history: Path, export: str, tmp_path: Path
) -> None:
    last = _refused(misfiled_history, export, tmp_path / "out")
    assert TAMPERED in last and "verify" in last, last
