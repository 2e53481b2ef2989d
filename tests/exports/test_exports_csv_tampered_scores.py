"""Attack on the CSV export's fast path (issue 12/13): visits_wide.csv reads a session's stored
current scores when they are sure to equal a recomputation (`exports/wide_rows.py`). A score
row edited behind the app's back (a plausible JSON object of numbers, the scoring version kept,
so that nothing makes the export doubt it) then shows in the CSV, as docs/exports.md says, and
`verify` names it (check 6: every current score row equals its recomputation). The other files
(and the CSV's reference path) score from the answers: verify is what tells them apart."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from respine_desktop import storage
from tests.exports.test_exports_csv_golden import golden_db
from tests.exports.test_exports_csv_wide_rows import exported_wide, reference_wide
from tests.support.exports import controlled_clock


def test_a_score_row_edited_behind_the_apps_back_shows_in_the_csv_and_verify_names_it(
    tmp_path: Path,
) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        before = exported_wide(db_path, tmp_path / "before", 1)
    assert storage.verify_database(db_path).ok
    conn = sqlite3.connect(db_path)
    try:
        score_id, text = conn.execute(
            "SELECT id, scores FROM scores WHERE superseded_at IS NULL AND instrument_id = 'vas' "
            "AND scores LIKE '%:%' ORDER BY session_id LIMIT 1"
        ).fetchone()
        values = json.loads(text)
        forged = {k: (77.7 if isinstance(v, int | float) else v) for k, v in values.items()}
        assert forged != values
        with conn:
            conn.execute(
                "UPDATE scores SET scores = ? WHERE id = ?", [json.dumps(forged), score_id]
            )
    finally:
        conn.close()
    with controlled_clock():
        want = reference_wide(db_path)  # scored from the answers: unchanged
        got = exported_wide(db_path, tmp_path / "after", 1)
    assert want == before
    assert got != want  # the stored (edited) row stands in the fast path ...
    assert "77.7" in got.decode("utf-8")
    result = storage.verify_database(db_path)  # ... and verify refuses the database
    assert not result.ok
    assert score_id in result.message + " ".join(result.details)
