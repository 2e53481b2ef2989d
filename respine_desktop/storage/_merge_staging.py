"""A bundle's answers read by SQLite out of the text of its lines, before the write lock.

The merge inserts the new answers from the text of the bundle's lines (`bundle_merge.
RAW_LINE_TABLES`): SQLite reading the values out of the JSON costs a third of binding every
value of every row from Python. SQLite's JSON reader and Python's must then agree on every value,
so every column SQLite read is compared with the rows Python parsed and validated from the same
text. Both steps run here, in the preparation, without the write lock (`stage`):

1. every line's rows are read by SQLite (``jsonb_each``, the same reading as before) into a TEMP
   table of the merging connection, whose columns have the declared types of ``answers`` (the
   same affinities: a value is stored there exactly as ``answers`` would store it);
2. the whole table is read back and compared with the bundle's rows (all of them, in order,
   every column, by Python's equality as before: the text columns hold texts or NULL, the REAL
   columns floats equal to the validated int or float); a difference drops the table and the
   merge binds each value from Python instead (`bundle_merge._Merge._insert_answers`).

Inside the write lock (`insert`) the new answers are then copied from that table, in its order
(the bundle's), by SQLite alone: a copy between two columns of the same affinity leaves each
value as it is. Only the rows the hub lacked are copied (the ids of those it has, each compared
with its copy, left out) and the statement's own count of inserted rows is checked against the
number expected: a row the hub gained meanwhile under one of their ids (another import, a
writer) is ignored by ``OR IGNORE``, the count falls short and the merge is refused; a trigger
writing elsewhere does not add to that count. The hub so stores exactly the rows validated,
while the JSON reading and the comparison no longer hold the lock.

The TEMP table lives in memory (the SQLCipher build's ``SQLITE_TEMP_STORE=2``; a connection set
to keep temporary tables in files is not staged: no answer is written unencrypted to a temporary
file) and is dropped after the merge (`drop`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

from respine_desktop.storage._database import plain_rows
from respine_desktop.storage._driver import sqlite3

__all__ = ["RAW_UNSAFE", "drop", "insert", "stage"]

_TABLE = "temp.merge_staged_answers"
# JSON escapes that SQLite's JSON reader and Python's may turn into different text: control
# characters (NUL) and UTF-16 surrogates (a lone one is text only Python accepts). A line
# carrying one is not staged (each value bound from Python).
RAW_UNSAFE = re.compile(r"\\u(?:00[01]|[dD][89a-fA-F])")


def _temp_in_memory(conn: sqlite3.Connection) -> bool:
    """Whether this connection's TEMP tables are kept in memory (never in a file)."""
    setting = int(conn.execute("PRAGMA temp_store").fetchone()[0])
    if setting == 2:  # MEMORY
        return True
    if setting == 1:  # FILE
        return False
    built = {str(r[0]) for r in conn.execute("PRAGMA compile_options")}
    return bool(built & {"TEMP_STORE=2", "TEMP_STORE=3"})


def stage(
    conn: sqlite3.Connection,
    columns: Sequence[str],
    lines: list[str] | None,
    rows: Sequence[Sequence[Any]],
) -> bool:
    """Read `lines` (the text of a bundle's answers lines) into the staging table and compare
    every column with `rows` (the rows Python parsed from them and validated, in order): True
    when SQLite read exactly those rows (the table then stays for `insert`), False otherwise
    (nothing staged: no lines kept, a line with a risky escape, a TEMP store in files, a row
    read otherwise)."""
    drop(conn)
    if lines is None or any(RAW_UNSAFE.search(text) for text in lines):
        return False
    if not _temp_in_memory(conn):
        return False
    names = ", ".join(columns)
    sql = (
        f"INSERT INTO {_TABLE} ({names}) "
        f"SELECT {', '.join(f'value->>{n}' for n in range(len(columns)))} "
        "FROM jsonb_each(jsonb(?))"
    )
    try:
        # (a connection that may not write, even its TEMP tables: a hub opened read-only)
        conn.execute(f"CREATE TABLE {_TABLE} AS SELECT {names} FROM main.answers WHERE 0")
        for text in lines:
            conn.execute(sql, [text])
        same = plain_rows(conn, f"SELECT {names} FROM {_TABLE} ORDER BY rowid").fetchall() == rows
    except sqlite3.Error:  # a line SQLite's reader refuses (Python's accepted it), read-only
        same = False
    if not same:
        drop(conn)
    return same


def insert(conn: sqlite3.Connection, columns: Sequence[str], known: Collection[str]) -> int:
    """Copy the staged rows whose id is not in `known` (the bundle's answers the hub has, each
    found equal to its copy) into ``answers`` (inside the merge's transaction), in the
    bundle's order; returns how many rows that statement inserted into ``answers``.

    Only the rows expected to be new are copied, and counted by the statement's own count of
    the rows it inserted (``sqlite3_changes``: not the connection's total, which also counts
    the rows a trigger writes elsewhere): the count equals the rows expected exactly when each
    of them was inserted, none ignored in favour of a row the hub gained meanwhile under its
    id (`bundle_merge` refuses otherwise)."""
    names = ", ".join(columns)
    if not known:  # a hub that had none of them (the first import of a kiosk)
        sql = f"INSERT OR IGNORE INTO main.answers ({names}) SELECT {names} FROM {_TABLE}"
        return int(conn.execute(f"{sql} ORDER BY rowid").rowcount)
    sql = (
        f"INSERT OR IGNORE INTO main.answers ({names}) SELECT {names} FROM {_TABLE} "
        "WHERE id NOT IN (SELECT value FROM json_each(?))"
    )
    return int(conn.execute(f"{sql} ORDER BY rowid", [json.dumps(sorted(known))]).rowcount)


def drop(conn: sqlite3.Connection) -> None:
    """Forget the staged rows (none: nothing done)."""
    conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
