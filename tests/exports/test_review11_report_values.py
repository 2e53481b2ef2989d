"""Review11 (issue 12): the readers of answers that do not go through `export_reads._chunk`'s
check of the stored values.

The four exports (CSV, ODM, REDCap, stats) read every answer through `iter_subject_records`,
whose `_chunk` checks them (`stored_values.check_subjects`); the CSV's per-subject re-reads
(`subject_answer_lines`, `subject_answers`) come after that check in the same read snapshot.
The patient report (a PDF, "an appendix with every answer of every visit (code, label, ...)")
reads `storage.answer_history`, whose `row_to_answer` still casts a choice value with
``int(value)``: the very cast the exports stopped making. So, for an answer edited behind the
program's back (as in tests/cli/test_cli_tampered_values.py):

- ODI code 2.7 is printed as code 2 with option 2's label, exit 0;
- bytes ``b"3"`` as code 3 (``int(b"3") == 3``), exit 0;
- a VAS of 150 as "150.0 mm", exit 0;
- a text ``"x"`` ends in a traceback (``ValueError: invalid literal for int()``), exit 1.

The console's correction view (ui/console/correction.py) and a resumed kiosk session read the
same functions (`answer_history`, `current_answers`) and show 2.7 as code 2 likewise.

Proposed fix: `_answers.row_to_answer` casts only a whole double (``float.is_integer``) and
raises `TamperedValue` (`StoredValues.check`) for any value the item's rule refuses, and the
patient report checks its subject's answers once (`StoredValues.check_subjects(conn,
[subject_id])`, in its snapshot) so that `report patient` ends in the exports' one line, exit 2,
no PDF written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import StorageError
from tests.cli.test_cli_db import main
from tests.cli.test_cli_tampered_values import TAMPERED, _tampered

REPORTED = {"ODI code 2.7": ("odi_01", 2.7), "ODI code as bytes": ("odi_01", b"3"),
            "ODI code as text": ("odi_01", "x"), "VAS 150": ("vas_pain", 150.0)}  # fmt: skip


def _where(path: Path) -> tuple[str, str]:
    """The tampered answer's session id and its subject's code."""
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT a.session_id, j.code FROM answers a JOIN sessions s ON s.id = a.session_id "
            "JOIN subjects j ON j.id = s.subject_id WHERE a.id = ?",
            [TAMPERED],
        ).fetchone()
    conn.close()
    return str(found[0]), str(found[1])


@pytest.mark.parametrize("case", sorted(REPORTED))
def test_the_patient_report_refuses_an_impossible_stored_answer_in_one_line(
    case: str, tmp_path: Path
) -> None:
    item, value = REPORTED[case]
    (tmp_path / "db").mkdir()
    path = _tampered(tmp_path / "db", item, value)
    _, code = _where(path)
    out = tmp_path / "out" / "patient.pdf"
    out.parent.mkdir()
    result = main("report", "patient", "--db", str(path), "--subject", code, "--out", str(out))
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, (result.returncode, result.stdout)
    last = result.stderr.strip().splitlines()[-1]
    assert "changed outside this program" in last and "verify" in last, last
    assert not out.exists()


@pytest.mark.parametrize("case", ["ODI code 2.7", "ODI code as bytes", "ODI code as text"])
def test_answer_history_never_reads_a_stored_value_as_another_code(
    case: str, tmp_path: Path
) -> None:
    """Either the value is refused (a `StorageError` naming the answer), or it is read as it is
    stored: never as another code."""
    item, value = REPORTED[case]
    path = _tampered(tmp_path, item, value)
    session_id, _ = _where(path)
    with storage.open_database(path, readonly=True) as db:
        try:
            history = storage.answer_history(db, session_id, item)
        except StorageError as exc:
            assert TAMPERED in str(exc)
            return
    (read,) = [a.value for a in history if a.id == TAMPERED]
    assert read == value and type(read) is type(value), read
