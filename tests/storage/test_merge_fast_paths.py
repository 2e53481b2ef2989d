"""The merge's fast paths refuse and store exactly what the plain ones do.

- Column-wise validation (`RowChecker.check_many`: distinct values by set, id / hash / time
  patterns over a whole column) refuses a table exactly when the row-by-row check does, with
  the same message naming the first bad row (a time of hour 24 or 30 February, a bool or a
  float among integers, an upper-case id, None where an id is required ...).
- New answers staged before the write lock (`_merge_staging`): the hub holds the rows Python
  parsed and validated, also when a line's text says otherwise (here: a line whose text was
  changed after parsing). The answer digests taken from the lines' text (`RAW_LINE_TABLES`,
  compact lines) or computed from the rows (other lines) accept the same bundle, and a text
  whose digest differs from its entry's is still refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage import InvalidInput
from respine_desktop.storage._validation import RowChecker
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS, TABLES, bundle_rows, merge_bundle
from tests.storage.test_merge_validation import BROKEN, VALID, VISITS, row
from tests.support.exports import controlled_clock, demo_db
from tests.support.merge_modes import merge_mode
from tests.support.storage import ADMIN_PIN

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)


def _ids(n: int) -> list[str]:
    return [f"0190aaaa-0000-7000-8000-{k:012d}" for k in range(10, 10 + n)]


# Values the column-wise shortcuts see first (a pattern over a whole column, a set of distinct
# values): each must be refused exactly as the field check refuses it, or accepted as it is.
EDGES: list[tuple[str, dict[str, Any]]] = [
    ("sites", {"created_at": "2026-03-02T24:00:00.000Z"}),
    ("sites", {"created_at": "2026-02-30T09:30:00.000Z"}),
    ("sites", {"created_at": "0000-01-01T09:30:00.000Z"}),
    ("sites", {"created_at": "2026-03-02T09:30:60.000Z"}),
    ("sites", {"created_at": "2026-03-02T09:30:00.000Z\n"}),
    ("sites", {"created_at": "２０２６-03-02T09:30:00.000Z"}),
    ("sites", {"created_at": "2024-02-29T23:59:59.999Z"}),
    ("devices", {"id": str(VALID["devices"]["id"]).upper()}),
    ("devices", {"id": None}),
    ("devices", {"id": 7}),
    ("staff", {"active": 1.0}),
    ("staff", {"created_by": "0190AAAA-0000-7000-8000-000000000001"}),
    ("audit_log", {"seq": 1.0}),
    ("audit_log", {"seq": True}),
    ("audit_log", {"hash": "A" * 64}),
    ("audit_log", {"prev_hash": None}),
    ("answers", {"given_at": "2026-03-02T09:30:00.000"}),
    ("answers", {"supersedes": "x"}),
    ("answers", {"value": 67}),
    ("scores", {"superseded_at": "2026-03-02T09:30:00.000Z", "superseded_by": "x"}),
]


def _outcome(check: Any, rows: Sequence[Sequence[Any]]) -> str | None:
    try:
        check(rows)
    except InvalidInput as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("table", "changes"),
    [(t, c) for t, c, _, _ in BROKEN] + EDGES,
)
def test_the_column_checks_refuse_exactly_what_the_row_checks_refuse(
    table: str, changes: dict[str, Any]
) -> None:
    ids = _ids(60)
    # valid rows around the odd one, with the numbers of their kind (1 then the odd 1.0 or True)
    rows = [row(table, id=i) if "id" in BUNDLE_COLUMNS[table] else row(table) for i in ids[:30]]
    odd = {"id": ids[30], **changes} if "id" in BUNDLE_COLUMNS[table] else changes
    rows.append(row(table, **odd))
    rows += [row(table, id=i) if "id" in BUNDLE_COLUMNS[table] else row(table) for i in ids[31:]]
    columns = BUNDLE_COLUMNS[table]

    def by_row(rows: Sequence[Sequence[Any]]) -> None:
        check = RowChecker(table, columns, VISITS)
        for r in rows:
            check(r)

    expected = _outcome(by_row, rows)
    assert _outcome(RowChecker(table, columns, VISITS).check_many, rows) == expected
    if (table, changes) in [(t, c) for t, c, _, _ in BROKEN]:
        assert expected is not None  # the listed broken values are refused, as row checks say


def test_a_column_mixing_numbers_and_bools_is_checked_per_type() -> None:
    staff = [row("staff", id=i, active=1) for i in _ids(5)]
    staff.append(row("staff", id=_ids(6)[5], active=True))
    with pytest.raises(InvalidInput, match=r"row 0190aaaa-0000-7000-8000-000000000015.*active"):
        RowChecker("staff", BUNDLE_COLUMNS["staff"], VISITS).check_many(staff)
    entries = [row("audit_log", id=i, seq=n) for n, i in enumerate(_ids(5), start=1)]
    entries.append(row("audit_log", id=_ids(6)[5], seq=2.0))
    with pytest.raises(InvalidInput, match="field seq"):
        RowChecker("audit_log", BUNDLE_COLUMNS["audit_log"], VISITS).check_many(entries)


class _Member(list[Sequence[Any]]):
    """A bundle member as `exports` reads it: its rows, and the text of its lines."""

    def __init__(self, rows: list[Sequence[Any]], lines: list[str]) -> None:
        super().__init__(rows)
        self.lines = lines


def _lines(rows: Sequence[Sequence[Any]], compact: bool = True) -> list[str]:
    """The text of a member's lines: compact as the exporter writes them (each row's text is
    then its canonical text, whose digest `_merge_prepare` takes from the line), or not (the
    digests computed from the rows)."""
    separators = (",", ":") if compact else (", ", ": ")
    return [
        json.dumps(list(rows[n : n + 100]), separators=separators, ensure_ascii=False) + "\n"
        for n in range(0, len(rows), 100)
    ]


def _hub_and_rows(tmp_path: Path) -> tuple[Path, dict[str, list[Sequence[Any]]]]:
    demo_db(tmp_path / "kiosk.db", subjects=3)
    with storage.open_database(tmp_path / "kiosk.db") as kiosk:
        rows = {t: [tuple(r) for r in bundle_rows(kiosk, t)] for t in TABLES}
    with controlled_clock(), storage.create_database(tmp_path / "hub.db", admin_pin=ADMIN_PIN):
        pass
    return tmp_path / "hub.db", rows


def _merge(hub: Path, rows: dict[str, list[Sequence[Any]]], answer_lines: list[str]) -> None:
    def source(table: str) -> list[Sequence[Any]]:
        if table == "answers":
            return _Member(rows[table], answer_lines)
        return rows[table]

    with storage.open_database(hub) as db:
        merge_bundle(db, source, bundle={"bundle_id": "test", "device_id": "kiosk"})


def _stored_answers(path: Path) -> list[tuple[Any, ...]]:
    columns = ", ".join(BUNDLE_COLUMNS["answers"])
    with storage.open_database(path, readonly=True) as db:
        return [tuple(r) for r in db.conn.execute(f"SELECT {columns} FROM answers ORDER BY rowid")]


@pytest.mark.parametrize("compact", [True, False])
def test_answers_staged_from_compact_or_spaced_lines_are_the_rows_validated(
    tmp_path: Path, compact: bool
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    _merge(hub, rows, _lines(rows["answers"], compact))
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


def test_a_line_that_says_otherwise_than_its_rows_is_not_what_the_hub_stores(
    tmp_path: Path,
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    value = BUNDLE_COLUMNS["answers"].index("value")
    vas = next(n for n, r in enumerate(rows["answers"]) if r[value] not in (None, 100.0))
    # the text says otherwise than the rows parsed and validated (one VAS value 0.1 higher)
    changed = [list(r) for r in rows["answers"]]
    changed[vas][value] = round(changed[vas][value] + 0.1, 1)
    _merge(hub, rows, _lines(changed))
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


def test_an_answer_whose_text_and_row_differ_from_its_digest_is_refused(tmp_path: Path) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    value = BUNDLE_COLUMNS["answers"].index("value")
    vas = next(n for n, r in enumerate(rows["answers"]) if r[value] not in (None, 100.0))
    changed = [list(r) for r in rows["answers"]]
    changed[vas][value] = round(changed[vas][value] + 0.1, 1)
    rows["answers"] = [tuple(r) for r in changed]
    with pytest.raises(storage.MergeRefused, match="do not match their digest"):
        _merge(hub, rows, _lines(rows["answers"]))
