"""A database edited behind the program's back with an answer no way in accepts (a VAS of
infinity, of 150 mm; an ODI code of 9), inserted with SQLite directly: every export that scores
the answers says so in one line (exit 2, naming `verify`), writes nothing, not even the folder it
would have made, and changes no data; `verify` names the row (issue 12: no traceback
"for good" after an impossible value)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli_db import main
from tests.support.exports import DATA_TABLES, table_digest

# (item, value) stored as the last answer of the first session that has that item
VALUES = {"VAS infinite": ("vas_pain", float("inf")), "VAS 150": ("vas_pain", 150.0),
          "ODI code 9": ("odi_01", 9)}  # fmt: skip
TAMPERED = "01900000-0000-7000-8000-00000000abcd"
EXPORTS = {
    "csv": "export csv --db {db} --out {out}",
    "csv, 2 workers": "export csv --workers 2 --db {db} --out {out}",
    "odm": "export odm --db {db} --out {out}",
    "redcap": "export redcap --db {db} --out {out}",
    "stats": "export stats --db {db} --out {out}",
}


def _tampered(folder: Path, item: str, value: float) -> Path:
    path = folder / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "2").returncode == 0
    with sqlite3.connect(path) as conn:  # (a plaintext demo file: any SQLite opens it)
        columns = [r[1] for r in conn.execute("PRAGMA table_info(answers)")]
        row = list(
            conn.execute(
                "SELECT * FROM answers WHERE item_id=? ORDER BY rowid DESC LIMIT 1", [item]
            ).fetchone()
        )
        row[columns.index("id")] = TAMPERED
        row[columns.index("supersedes")] = None  # a current answer: the one scored
        row[columns.index("value")] = value
        conn.execute(
            f"INSERT INTO answers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            row,
        )
    with sqlite3.connect(path) as conn:  # (the WAL copied into the file: its digest is the state)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="module", params=sorted(VALUES))
def tampered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    item, value = VALUES[str(request.param)]
    return _tampered(tmp_path_factory.mktemp("tampered"), item, value)


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_an_impossible_stored_answer_stops_every_export_in_one_line(
    tampered: Path, export: str, tmp_path: Path
) -> None:
    before = table_digest(tampered, DATA_TABLES)  # (the sign-in adds audit entries)
    out = tmp_path / "out"
    result = main(*(a.format(db=tampered, out=out) for a in EXPORTS[export].split()))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # the progress lines before it, then one line: the rule broken, where, what to do
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "a stored answer breaks its instrument's rule" in last
    assert "session " in last and "changed outside this program" in last and "verify" in last
    assert list(tmp_path.iterdir()) == []  # no output, not even an empty folder
    assert table_digest(tampered, DATA_TABLES) == before


def test_verify_names_the_tampered_row(tampered: Path) -> None:
    result = main("verify", "--db", str(tampered))
    assert result.returncode == 1, result.stderr
    assert TAMPERED in result.stderr
    assert "Traceback" not in result.stderr
