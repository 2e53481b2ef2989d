"""A database edited behind the program's back with an answer no way in accepts (a VAS of
infinity, of 150 mm; an ODI code of 9 or 2.7; a text or bytes where a number is stored), inserted
with SQLite directly: every export that scores the answers says so in one line (exit 2, naming
`verify`), writes nothing, not even the folder it would have made, and changes no data; `verify`
names the row (issue 12: no traceback "for good" after an impossible value). A value of an
impossible type kept in the history only (superseded, not scored) stops every export alike: it
was written as code 0 (a text), code 2 (2.7) or ended in a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli_db import main
from tests.support.exports import DATA_TABLES, table_digest

# (item, value) stored as the last answer of the first session that has that item: a value out
# of range, or of a type no way in stores (a code that is not a whole number, a text, bytes), which
# an export must not round, cast to 0 or crash on
VALUES = {"VAS infinite": ("vas_pain", float("inf")), "VAS 150": ("vas_pain", 150.0),
          "ODI code 9": ("odi_01", 9), "ODI code 2.7": ("odi_01", 2.7),
          "ODI code as text": ("odi_01", "x"), "VAS as text": ("vas_pain", "abc"),
          "VAS as bytes": ("vas_pain", b"\x01\x02")}  # fmt: skip
TAMPERED = "01900000-0000-7000-8000-00000000abcd"
CORRECTED = "01900000-0000-7000-8000-00000000abce"
EXPORTS = {
    "csv": "export csv --db {db} --out {out}",
    "csv, 2 workers": "export csv --workers 2 --db {db} --out {out}",
    "odm": "export odm --db {db} --out {out}",
    "redcap": "export redcap --db {db} --out {out}",
    "stats": "export stats --db {db} --out {out}",
}


def _tampered(
    folder: Path, item: str, value: object, *, corrected: bool = False, column: str = "value"
) -> Path:
    """A demo database with `value` stored as a new answer of `item` superseding the last one
    (the current answer, the one scored), or with `corrected`, itself superseded by a copy of
    the answer it replaced (a current answer as valid as before: only the history holds it)."""
    path = folder / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "2").returncode == 0
    with sqlite3.connect(path) as conn:  # (a plaintext demo file: any SQLite opens it)
        columns = [r[1] for r in conn.execute("PRAGMA table_info(answers)")]
        insert = (
            f"INSERT INTO answers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        original = list(
            conn.execute(
                "SELECT * FROM answers WHERE item_id=? ORDER BY rowid DESC LIMIT 1", [item]
            ).fetchone()
        )
        row = list(original)
        row[columns.index("id")] = TAMPERED
        row[columns.index("supersedes")] = original[columns.index("id")]
        row[columns.index(column)] = value
        conn.execute(insert, row)
        if corrected:
            original[columns.index("id")] = CORRECTED
            original[columns.index("supersedes")] = TAMPERED
            conn.execute(insert, original)
    with sqlite3.connect(path) as conn:  # (the WAL copied into the file: its digest is the state)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="module", params=sorted(VALUES))
def tampered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    item, value = VALUES[str(request.param)]
    return _tampered(tmp_path_factory.mktemp("tampered"), item, value)


@pytest.fixture(scope="module", params=[k for k in sorted(VALUES) if "as" in k or "2.7" in k])
def corrected(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A value of a type no way in stores, kept in the history only (superseded)."""
    item, value = VALUES[str(request.param)]
    return _tampered(tmp_path_factory.mktemp("corrected"), item, value, corrected=True)


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


@pytest.mark.parametrize("case", sorted(VALUES))
def test_verify_names_the_rule_a_tampered_value_breaks(
    case: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Before its missing audit entry, the value itself is named with the rule it breaks, even
    kept in the history only."""
    item, value = VALUES[case]
    path = _tampered(tmp_path_factory.mktemp("verify"), item, value, corrected=True)
    result = main("verify", "--db", str(path))
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert f"table answers row {TAMPERED} ({item}): {item}: answer" in last, last


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_a_stored_answer_of_an_impossible_type_in_the_history_stops_every_export_too(
    corrected: Path, export: str, tmp_path: Path
) -> None:
    """Not scored (superseded), but listed by every export: a text, bytes or a code that is not
    a whole number is said in one line, never written as 0, 2, or a traceback."""
    before = table_digest(corrected, DATA_TABLES)
    out = tmp_path / "out"
    result = main(*(a.format(db=corrected, out=out) for a in EXPORTS[export].split()))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and TAMPERED in last, last
    assert "changed outside this program" in last and "verify" in last
    assert list(tmp_path.iterdir()) == []
    assert table_digest(corrected, DATA_TABLES) == before


@pytest.mark.parametrize("column", ["given_at", "language", "reason"])
def test_bytes_where_an_answer_holds_a_text_stop_every_export_and_verify_names_them(
    column: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A blob, which a TEXT column keeps as it is, in an answer's text column: every export
    says so in one line (its Python text functions ended in a traceback), and so does verify."""
    path = _tampered(tmp_path_factory.mktemp("bytes"), "vas_pain", b"2025", column=column)
    before = table_digest(path, DATA_TABLES)
    for export in sorted(EXPORTS):
        out = tmp_path_factory.mktemp("out") / "out"
        result = main(*(a.format(db=path, out=out) for a in EXPORTS[export].split()))
        assert result.returncode == 2, (export, result.stderr)
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert f"its {column} is stored as bytes" in last and TAMPERED in last, (export, last)
        assert not out.exists()
    assert table_digest(path, DATA_TABLES) == before
    result = main("verify", "--db", str(path))
    assert result.returncode == 1, result.stderr
    assert f"its {column} is bytes, not a text" in result.stderr and TAMPERED in result.stderr
