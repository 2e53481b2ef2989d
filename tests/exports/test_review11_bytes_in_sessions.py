"""Review11 (issue 12): bytes where a session holds a text, the same bytes as the text.

main (d11eff0) refuses bytes in an answer's text columns; a session's are not looked at. A
session's ``visit_code`` changed behind the program's back from the text ``M0`` to the blob
``b"M0"`` (sessions are not append-only: a plain UPDATE):

- `verify` passes it, exit 0: the replay compares `hash()` of each row's values with the hash
  of its image, and CPython hashes ``"M0"`` and ``b"M0"`` alike (the same bytes), so a text
  turned into bytes of the same content is never a difference;
- the CSV export ends in a traceback (``TypeError: cannot use a string pattern on a bytes-like
  object``), exit 1;
- ODM, REDCap and stats export it without that session, exit 0 (ODM writes 272 ItemData instead
  of 340): a visit's answers silently left out.

Proposed fix: the replay tells bytes from a text (`_replay.Replay.compare`: a row holding bytes
in a column whose image is a text is a difference, e.g. hash ``(type(v), v)`` pairs, or refuse
any blob in the tracked tables' text columns as `stored_values._suspects` now does for the
answers), and `export_reads` refuses bytes in the session and subject columns it reads, in one
line (`TamperedValue`), as it does for the answers.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli_db import main
from tests.cli.test_cli_tampered_values import EXPORTS
from tests.support.exports import DATA_TABLES, table_digest


@pytest.fixture(scope="module")
def bytes_visit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo database whose first session's visit code is stored as bytes; that session."""
    path = tmp_path_factory.mktemp("bytes_visit") / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "2").returncode == 0
    with sqlite3.connect(path) as conn:  # (a plaintext demo file)
        session_id, code = conn.execute(
            "SELECT id, visit_code FROM sessions ORDER BY rowid LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE sessions SET visit_code = ? WHERE id = ?", [str(code).encode(), session_id]
        )
    conn.close()
    with sqlite3.connect(path) as conn:  # (the WAL copied into the file)
        blobs = "SELECT count(*) FROM sessions WHERE typeof(visit_code) = 'blob'"
        assert conn.execute(blobs).fetchone()[0] == 1
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path, str(session_id)


def test_verify_names_the_session(bytes_visit: tuple[Path, str]) -> None:
    path, session_id = bytes_visit
    result = main("verify", "--db", str(path))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert session_id in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_every_export_refuses_it_in_one_line(
    bytes_visit: tuple[Path, str], export: str, tmp_path: Path
) -> None:
    path, session_id = bytes_visit
    before = table_digest(path, DATA_TABLES)
    out = tmp_path / "out"
    result = main(*(a.format(db=path, out=out) for a in EXPORTS[export].split()))
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr[-300:])
    last = result.stderr.strip().splitlines()[-1]
    assert session_id in last and "verify" in last, last
    assert not out.exists()
    assert table_digest(path, DATA_TABLES) == before
