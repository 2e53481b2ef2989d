"""`storage.stored_values`: what an export accepts of a stored answer's value (issue 12).

Every value a way in stores passes (a VAS on its 0.1 mm grid, a choice code stored as a REAL, a
skipped answer); every value no way in stores is refused in one line naming the answer, its
session and the rule: a text, bytes, a code that is not a whole number or not an option, a VAS
off its range or step, infinity, NaN, a boolean, an item of no instrument. A value accepted once
is remembered by (item, type, value): 2.0 passing says nothing of "2"."""

from __future__ import annotations

import sqlite3

import pytest

from respine_desktop.instruments import load_instruments
from respine_desktop.storage import stored_values
from respine_desktop.storage.stored_values import StoredValues, TamperedValue

GOOD = [("vas_pain", 0.0), ("vas_pain", 100.0), ("vas_pain", 72.5), ("vas_pain", 50),
        ("odi_01", 0.0), ("odi_01", 5.0), ("odi_01", 3), ("sf36_01", 1.0), ("odi_01", None),
        ("vas_pain", None)]  # fmt: skip
BAD = {
    ("odi_01", 2.7): "is not an integer code",
    ("odi_01", "x"): "is not an integer code",
    ("odi_01", "2"): "is not an integer code",
    ("odi_01", 9.0): "is not one of the codes",
    ("odi_01", -1.0): "is not one of the codes",
    ("odi_01", True): "is not an integer code",
    ("sf36_01", 0.0): "is not one of the codes",
    ("vas_pain", "abc"): "is not a number",
    ("vas_pain", b"\x01"): "is not a number",
    ("vas_pain", 150.0): "is outside 0..100",
    ("vas_pain", float("inf")): "is outside 0..100",
    ("vas_pain", float("nan")): "is outside 0..100",
    ("vas_pain", 80.04): "is finer than the step",
    ("vas_pain", True): "is not a number",
    ("no_such_item", 1.0): "is an item of no instrument",
}


@pytest.mark.parametrize(("item", "value"), GOOD)
def test_every_value_a_way_in_stores_passes(item: str, value: object) -> None:
    values = StoredValues()
    values.check("a1", "s1", item, value)
    values.check("a1", "s1", item, value)  # (remembered)


@pytest.mark.parametrize(("item", "value"), sorted(BAD, key=repr))
def test_a_value_no_way_in_stores_is_one_line_naming_the_answer_and_the_rule(
    item: str, value: object
) -> None:
    with pytest.raises(TamperedValue) as refused:
        StoredValues().check("answer-7", "session-3", item, value)
    text = str(refused.value)
    assert "\n" not in text
    assert text.startswith("answer answer-7 (session session-3): a stored answer breaks")
    assert BAD[(item, value)] in text
    assert "changed outside this program" in text and "`verify`" in text


def test_a_value_passed_once_says_nothing_of_an_equal_value_of_another_type() -> None:
    values = StoredValues()
    values.check("a1", "s1", "odi_01", 2.0)
    values.check("a1", "s1", "odi_01", 2)
    with pytest.raises(TamperedValue, match="is not an integer code"):
        values.check("a2", "s1", "odi_01", True)  # True == 1 == 1.0, remembered by type
    values.check("a3", "s1", "vas_pain", 1.0)
    with pytest.raises(TamperedValue, match="is not a number"):
        values.check("a4", "s1", "vas_pain", "1.0")


def test_sqlite_vouches_only_for_values_the_check_accepts() -> None:
    """`check_subjects` lets SQLite pass over the plainly valid answers (`_plain_sql`): every
    value it vouches for must be one `check` accepts, whatever its type as stored (a REAL
    column's affinity applied), and the usual ones are vouched for (not all handed to Python)."""
    values: list[object] = [v for _, v in GOOD] + [v for _, v in BAD]
    values += [n / 10 for n in range(0, 1001, 7)] + [n * 0.1 for n in range(0, 1001, 7)]
    values += [2, 2.0, "2", "2.0", b"2", 1e16, -0.0, 5e-324, 0.30000000000000004, 100.05]
    items = ["vas_pain", "odi_01", "sf36_01", "sf36_21", "no_such_item"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE answers (id TEXT, instrument_id TEXT, item_id TEXT, value REAL)")
    instrument = {"vas_pain": "vas", "odi_01": "odi", "sf36_01": "sf36", "sf36_21": "sf36"}
    rows = [
        (f"a{n}", instrument.get(item, "odi"), item, v)
        for n, (item, v) in enumerate((i, v) for i in items for v in values)
    ]
    rows += [("w1", "odi", "vas_pain", 50.0), ("w2", "sf36", "odi_01", 1.0)]  # another's item
    conn.executemany("INSERT INTO answers VALUES (?, ?, ?, ?)", rows)
    vouched = conn.execute(
        "SELECT a.id, a.instrument_id, a.item_id, a.value FROM answers a "
        f"WHERE {stored_values._plain_sql()}"
    ).fetchall()
    check = StoredValues().check
    for answer_id, instrument_id, item, value in vouched:
        check(answer_id, "s", item, value, instrument_id)  # raises if wrongly vouched for
    kinds = {(item, value) for _, _, item, value in vouched}
    assert not {"w1", "w2"} & {r[0] for r in vouched}
    assert ("vas_pain", 72.5) in kinds or ("vas_pain", 70.0) in kinds
    assert ("odi_01", 5.0) in kinds and ("sf36_01", 1.0) in kinds
    assert not any(item == "no_such_item" for item, _ in kinds)


def test_sqlite_finds_bytes_in_a_text_column_exactly_as_typeof_does() -> None:
    """The bytes condition (`_bytes_sql`: a blob is greater than any other value, TEXT affinity
    leaving a blob operand as it is) is true for a row exactly when a column's ``typeof`` is
    ``blob``, whatever the other values (a text that spells a blob, numbers, NULL, an empty blob,
    another collation), as the conditions its callers make of it (a CASE WHEN, a WHERE: it is
    left bare, so may be NULL as a value); `_bytes_column` names the first such column."""
    values: list[object] = ["", "abc", "é\u0000x", "X''", "\U0001f600", b"", b"\x00", b"abc",
                            b"\xff" * 9, 0, -1, 1.5, 1e308, float("inf"), 10**18, None]  # fmt: skip
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b TEXT COLLATE NOCASE)")
    conn.executemany("INSERT INTO t (a, b) VALUES (?, ?)", [(x, y) for x in values for y in values])
    rows = conn.execute(
        f"SELECT k, typeof(a), typeof(b), "
        f"CASE WHEN {stored_values._bytes_sql(['a', 'b'])} THEN 1 ELSE 0 END, "
        f"{stored_values._bytes_column(['a', 'b'])} FROM t"
    ).fetchall()
    assert len(rows) == len(values) ** 2
    for _, type_a, type_b, found, column in rows:
        assert found == (type_a == "blob" or type_b == "blob")
        assert column == ("a" if type_a == "blob" else "b" if type_b == "blob" else None)
    where = conn.execute(f"SELECT k FROM t WHERE {stored_values._bytes_sql(['a', 'b'])}")
    assert {k for (k,) in where} == {k for k, *_, found, _ in rows if found}
    assert conn.execute(f"SELECT {stored_values._bytes_sql([])}").fetchone() == (0,)


def test_a_query_reading_the_answers_vouches_only_for_values_the_check_accepts() -> None:
    """`suspect_sql` (the CSV export's rows per session count the answers SQLite cannot vouch
    for as they are read, `check_subjects` then looks only where one is) is 0 only for a row
    `check` accepts with no bytes in a text column, whatever the value, its type as stored, the
    instrument the row names and the look-ups' misses (an item the look-up lacks, a code no
    option has); never NULL; and 0 for the usual rows (not all handed to Python)."""
    values: list[object] = [v for _, v in GOOD] + [v for _, v in BAD]
    values += [n / 10 for n in range(0, 1001, 7)] + [n * 0.1 for n in range(0, 1001, 7)]
    values += [2, 2.0, "2", "2.0", b"2", 1e16, -0.0, 5e-324, 0.30000000000000004, 100.05]
    items = ["vas_pain", "odi_01", "sf36_01", "sf36_21", "no_such_item"]
    instrument = {"vas_pain": "vas", "odi_01": "odi", "sf36_01": "sf36", "sf36_21": "sf36"}
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE answers (id TEXT, instrument_id TEXT, item_id TEXT, value REAL, note TEXT)"
    )
    rows = [
        (f"a{n}", instrument.get(item, "odi"), item, v, "x")
        for n, (item, v) in enumerate((i, v) for i in items for v in values)
    ]
    rows += [("w1", "odi", "vas_pain", 50.0, "x"), ("w2", "sf36", "odi_01", 1.0, "x")]
    rows += [("b1", "odi", "odi_01", 1.0, b"x"), ("b2", "vas", "vas_pain", 50.0, b"")]
    rows += [("n1", "odi", "odi_02", 1.0, None), ("n2", None, "odi_01", 1.0, "x")]
    conn.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?)", rows)
    # the look-ups as the export has them: its items' instruments (odi_02 left out: a miss)
    # and the codes of their options
    index = {item.id: (inst, item) for inst in load_instruments().values() for item in inst.items}
    looked_up = [i for i in (*items[:4], "odi_03") if i in index]
    conn.execute("CREATE TABLE i (item_id TEXT PRIMARY KEY, instrument_id TEXT)")
    conn.executemany("INSERT INTO i VALUES (?, ?)", [(i, index[i][0].id) for i in looked_up])
    conn.execute("CREATE TABLE k (item_id TEXT, code INTEGER, PRIMARY KEY (item_id, code))")
    conn.executemany(
        "INSERT INTO k VALUES (?, ?)",
        [(i, c) for i in looked_up if index[i][1].type == "choice" for c in index[i][1].codes],
    )
    suspect = stored_values.suspect_sql(
        ["id", "instrument_id", "item_id", "note"], "i.instrument_id", "k.code"
    )
    found = conn.execute(
        f"SELECT a.id, a.instrument_id, a.item_id, a.value, typeof(a.note), {suspect} "
        "FROM answers a LEFT JOIN i ON i.item_id = a.item_id "
        "LEFT JOIN k ON k.item_id = a.item_id AND k.code = CAST(a.value AS INTEGER)"
    ).fetchall()
    assert len(found) == len(rows)
    check = StoredValues().check
    vouched = set()
    for answer_id, instrument_id, item, value, note_type, flag in found:
        assert flag in (0, 1)
        if flag == 0:
            assert note_type != "blob"
            check(answer_id, "s", item, value, instrument_id)  # raises if wrongly vouched for
            vouched.add((item, value))
    by_id = {r[0]: r[5] for r in found}
    assert by_id["w1"] == by_id["w2"] == by_id["b1"] == by_id["b2"] == 1
    assert by_id["n1"] == by_id["n2"] == 1
    assert ("vas_pain", 72.5) in vouched or ("vas_pain", 70.0) in vouched
    assert ("odi_01", 5.0) in vouched and ("sf36_01", 1.0) in vouched
    assert ("odi_01", None) in vouched
