"""`storage.stored_values` attacked (review11, issue 12): SQLite's condition (`_plain_sql`) must
never vouch for a value `StoredValues.problem` refuses, since a vouched value is not looked at
again.

Tried on the real ``answers`` table of a demo database (a REAL column: its affinity turns a
numeric text such as ``'2.0'`` into the double 2.0 before either side sees it): the neighbours of
every 0.1 mm grid point (one ulp, 1e-7, 5e-7, 2e-6 away), the ends of the range, -0.0,
subnormals, huge and infinite doubles, numeric-looking texts SQLite keeps as texts or converts,
bytes, and item ids of another case, with spaces or control characters. Sound for the shipped
instruments (the VAS's step is 0.1, whose scale 10 is exact).

Found: the grid condition multiplies by ``round(1 / step)``, which is the grid only when the
step is 1/n. A VAS item of step 2 gets the scale ``round(0.5) == 0`` (any value in range
vouched for), one of step 0.3 the scale 3 (1/3 vouched for). The instrument schema allows any
positive step; no shipped instrument has such a step today, so the test swaps one item's step.
Proposed fix (`_plain_sql`): give SQLite an item's grid only when ``1 / scale == step``
exactly (else ``ELSE 0`` for that item: checked in Python), or test the grid as
`Item.validate` does, ``abs(a.value / step - round(a.value / step)) <= 1e-6`` (the same IEEE
operations in SQLite as in Python).
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from respine_desktop.storage import stored_values
from respine_desktop.storage.stored_values import StoredValues
from tests.cli.test_cli_db import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attacks") / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "1").returncode == 0
    return path


def _near_the_grid() -> Iterator[float]:
    for k in range(1001):
        x = k / 10
        yield from (x, k * 0.1, math.nextafter(x, math.inf), math.nextafter(x, -math.inf))
        yield from (x + 1e-7, x - 1e-7, x + 5e-7, x - 5e-7, x + 2e-6, x - 2e-6, x + 0.05)


EDGES: list[object] = [
    -0.0, 0.0, 100.0, 100, 1e-320, 5e-324, -5e-324, 1e-7, 0.15, 0.3, 0.1 + 0.2, 99.95, 100.05,
    math.nextafter(100.0, math.inf), 1e15, 1e16, 2.0**53, 2**63 - 1, -(2**63), math.inf,
    -math.inf, 2, 3, -1, 0, 6, 7,
    # texts: the REAL affinity converts the well-formed numbers, keeps the others as texts
    "2", "2.0", " 2", "2 ", "+2", "2e0", "0x2", "2.", ".5", "1e-320", "Infinity", "NaN", "",
    "\uff12", "2\x00", "abc",
    b"", b"\x02", b"2", b"2.0",
]  # fmt: skip
ITEMS = ["vas_pain", "odi_01", "odi_10", "sf36_01", "sf36_21", "sf36_36", "VAS_PAIN", "Odi_01",
         "vas_pain ", " odi_01", "odi_01\x00", "vas_pain\n", "no_such_item", ""]  # fmt: skip


def _vouched(path: Path, rows: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The (item id, value as stored) of `rows` that `_plain_sql` vouches for, stored as answers
    of a copy of the demo's answers table (same declared types) in the demo's file."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS attack_answers")
        sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'answers'"
        ).fetchone()[0]
        # the real declaration (`value REAL`, no collation on item_id), under another name
        conn.execute(sql.replace("CREATE TABLE answers", "CREATE TABLE attack_answers", 1))
        columns = [r[1] for r in conn.execute("PRAGMA table_info(attack_answers)")]
        template = list(conn.execute("SELECT * FROM answers LIMIT 1").fetchone())
        out = []
        for n, (item, value) in enumerate(rows):
            row = list(template)
            row[columns.index("id")] = f"attack-{n}"
            row[columns.index("item_id")] = item
            known = stored_values.item_index().get(item)  # filed under the item's instrument
            if known is not None:
                row[columns.index("instrument_id")] = known[0].id
            row[columns.index("value")] = value
            row[columns.index("supersedes")] = None
            out.append(row)
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f"INSERT INTO attack_answers VALUES ({marks})", out)
        # `_suspects` keeps the rows where the condition is false: a NULL would vouch too
        vouched = conn.execute(
            "SELECT a.item_id, a.value FROM attack_answers a "
            f"WHERE a.value IS NOT NULL AND NOT coalesce(NOT ({stored_values._plain_sql()}), 0)"
        ).fetchall()
        stored = conn.execute("SELECT count(*) FROM attack_answers").fetchone()[0]
        conn.execute("DROP TABLE attack_answers")
    assert stored == len(rows)
    return vouched


def test_sqlite_vouches_for_no_value_the_rule_refuses_near_the_grid_and_at_the_edges(
    demo: Path,
) -> None:
    values: list[object] = [*_near_the_grid(), *EDGES]
    rows = [(item, value) for item in ITEMS for value in values]
    vouched = _vouched(demo, rows)
    refused = StoredValues()
    unsound = [(i, v) for i, v in vouched if refused.problem(i, v) is not None]
    assert unsound == []
    # and it is not vacuous: the grid's points and the codes are vouched for
    kinds = set(vouched)
    assert ("vas_pain", 72.5) in kinds and ("vas_pain", 100.0) in kinds
    assert ("odi_01", 5.0) in kinds and ("sf36_21", 6.0) in kinds
    assert ("odi_01", 2.0) in kinds  # the text "2.0" made a double by the column's affinity
    assert not {i for i, _ in kinds} - {"vas_pain", "odi_01", "odi_10", "sf36_01", "sf36_21",
                                        "sf36_36"}  # fmt: skip


def _with_step(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    """`stored_values` sees the shipped items, the VAS's step changed to `step` (the instrument
    schema allows any step above 0); `_plain_sql` made again for them."""
    shipped: Mapping[str, Any] = stored_values.item_index()
    instrument, item = shipped["vas_pain"]
    index = {**shipped, "vas_pain": (instrument, dataclasses.replace(item, step=step))}
    monkeypatch.setattr(stored_values, "item_index", lambda: index)
    stored_values._plain_sql.cache_clear()


@pytest.fixture
def fresh_sql() -> Iterator[None]:
    stored_values._plain_sql.cache_clear()
    yield
    stored_values._plain_sql.cache_clear()  # the shipped items' condition again


@pytest.mark.parametrize(("step", "off_grid"), [(2.0, 3.0), (5.0, 7.5), (0.3, 1 / 3)])
def test_sqlite_vouches_for_no_value_off_a_grid_whose_step_is_not_one_over_n(
    demo: Path, fresh_sql: None, monkeypatch: pytest.MonkeyPatch, step: float, off_grid: float
) -> None:
    _with_step(monkeypatch, step)
    assert StoredValues().problem("vas_pain", off_grid) is not None  # the rule refuses it
    assert StoredValues().problem("vas_pain", 2 * step) is None  # on the grid
    assert _vouched(demo, [("vas_pain", off_grid)]) == []
