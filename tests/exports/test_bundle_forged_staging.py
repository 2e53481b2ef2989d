"""A signed bundle forged by a key holder (digests fixed, the chain re-hashed: it passes every
check of the chain and the digests) whose answers carry edge values.

- The values the validation lets through (a VAS line of the smallest subnormal mm, the float
  just below 1000; texts with NUL, non-BMP characters, a BOM), imported into an
  empty hub staged (`_merge_staging`) and not (a connection keeping TEMP tables in files:
  bound inside the lock), both ways of running the checks: the hub stores the same thing cell
  for cell (SQLite's type and literal, the Python value, a float by its bits), the bundle's
  values, and verifies.
- Values a REAL column would store otherwise than the digest covers (an int VAS line or
  choice code: stored as a float; -0.0: stored as 0.0) are refused naming the row and the
  field, the hub unchanged (before: imported, and the hub's own verify then failed, "changed
  since" / "digest mismatch").
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from respine_desktop.storage._answers import digest
from respine_desktop.storage._audit import entry_hash
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS
from tests.exports.test_bundle_forged import Tables, col, forge, hub0, refused, rows_where, site
from tests.storage.test_merge_staging import stages_recorded
from tests.storage.test_merge_staging_cells import temp_tables_in_files
from tests.support.merge_modes import merge_mode

__all__ = ["hub0", "merge_mode", "site"]  # fixtures

pytestmark = pytest.mark.usefixtures("merge_mode")

COLUMNS = BUNDLE_COLUMNS["answers"]

VAS_LINES: list[Any] = [5e-324, 999.9999999999999]  # (the bundle's two VAS answers)
TEXTS = {
    "reason": ["a\x00b", "\U0001f600 moved", "\ufeffBOM", " x "],
    "app_version": ["1.0.0+\U00010348", "1.0.0\x00"],
}


def _edit(tables: Tables) -> None:
    """The answers given edge values, their entries' digests fixed, the chain re-hashed."""
    answers = tables["answers"]
    vas = rows_where(tables, "answers", item_id="vas_pain")
    for row, line in zip(vas, VAS_LINES, strict=True):
        row[col("answers", "vas_line_mm")] = line
    others = [r for r in answers if r[col("answers", "item_id")] != "vas_pain"]
    n = 10
    for column, texts in TEXTS.items():
        for text in texts:
            others[n][col("answers", column)] = text
            n += 1
    _rechain(tables)


def _rechain(tables: Tables) -> None:
    """The answer entries' digests made those of the answers as edited, the chain re-hashed."""
    answers = tables["answers"]
    for entry in tables["audit_log"]:
        payload = json.loads(entry[col("audit_log", "payload")])
        ids = [a[0] for a in payload.get("answers") or []]
        if ids:
            listed = [r for i in ids for r in answers if r[0] == i]
            payload["digest"] = digest(listed)
            entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    prev = "0" * 64
    for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        entry[col("audit_log", "prev_hash")] = prev
        entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])


def _cell(value: Any) -> tuple[str, Any]:
    return ("float", value.hex()) if isinstance(value, float) else (type(value).__name__, value)


def _stored(hub: Path) -> list[tuple[Any, ...]]:
    cells = ", ".join(f"typeof({c}), quote({c}), {c}" for c in COLUMNS)
    with storage.open_database(hub, readonly=True) as db:
        return [
            tuple(_cell(v) for v in r)
            for r in db.conn.execute(f"SELECT rowid, {cells} FROM answers ORDER BY rowid")
        ]


def test_a_forged_bundle_of_edge_values_is_stored_the_same_staged_or_bound(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_mode: str
) -> None:
    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", _edit)
    staged = stages_recorded(monkeypatch)
    stored = []
    for staging in (True, False):
        hub = tmp_path / f"hub-{staging}.db"
        shutil.copy(site / "hub0.db", hub)
        with storage.open_database(hub) as db:
            if not staging:
                temp_tables_in_files(db.conn)
            exports.import_bundle(db, forged)
        assert storage.verify_database(hub).ok
        stored.append(_stored(hub))
    assert staged == [True, False]
    assert stored[0] == stored[1]
    # the bundle's edge values, as SQLite stores them (REAL columns: floats)
    lines = {r[1 + 3 * COLUMNS.index("vas_line_mm") + 2] for r in stored[0]}
    assert {("float", float(v).hex()) for v in VAS_LINES} <= lines
    texts = {r[1 + 3 * COLUMNS.index(c) + 2] for r in stored[0] for c in TEXTS}
    assert {("str", t) for ts in TEXTS.values() for t in ts} <= texts


def _set_first(column: str, value: Any, **match: Any) -> Callable[[Tables], None]:
    def edit(tables: Tables) -> None:
        row = next(
            r
            for r in tables["answers"]
            if all(r[col("answers", k)] == v for k, v in match.items())
            and r[col("answers", "value")] is not None
        )
        row[col("answers", column)] = value(row[col("answers", column)])
        _rechain(tables)

    return edit


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("vas_line_mm", lambda was: 50, {"item_id": "vas_pain"}),
        ("vas_line_mm", lambda was: 1000, {"item_id": "vas_pain"}),
        ("value", int, {"instrument_id": "odi"}),  # a choice code as an int: 3, not 3.0
    ],
    ids=["VAS line 50", "VAS line 1000", "choice code int"],
)
def test_a_value_a_real_column_would_store_otherwise_is_refused(
    site: Path, hub0: Path, tmp_path: Path, column: str, value: Any, match: dict[str, Any]
) -> None:
    forged = forge(
        site / "a.1", site / "site.key", tmp_path / "x.bundle", _set_first(column, value, **match)
    )
    refused(hub0, forged, f"field {column}")
    assert storage.verify_database(hub0).ok
