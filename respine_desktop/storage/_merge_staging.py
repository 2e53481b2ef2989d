"""A bundle's new answers bound into a TEMP table before the write lock, copied inside it.

Binding the 175,000 answers of a 1,000-subject bundle into ``answers`` from Python takes about
0.9 s, all of it inside the write lock. The merge binds them instead into a TEMP table of the
merging connection without the lock (`stage`, 0.4-0.6 s), whose columns have the declared types
of ``answers`` (the same affinities: a value is stored there exactly as ``answers`` would store
it), and copies them inside the lock by SQLite alone (`insert`, about 0.3 s): a copy between two
columns of the same affinity leaves each value as it is. The rows bound are the rows Python
parsed from the bundle and that the merge validates and checks (its digests, its scores): no
other reading of the bundle's text is involved. (An earlier version had SQLite read the values
out of the lines' JSON and compared every value with Python's, to save the cost of binding
from Python; that cost was the driver's adaptation of each ``None``, gone since
`_driver.NULL_ADAPTER`.)

The rows are bound while the merge's checks run (in a child process, `bundle_merge`): a value
the driver cannot bind (a list, an integer beyond 64 bits, a lone surrogate: never one of valid
rows) leaves nothing staged, and the merge binds in the lock as before, where the same error
stops it after the checks' own refusal (awaited first).

Inside the write lock (`insert`) only the rows the hub lacked are copied (the ids of those it
has, each compared with its copy, left out), in the bundle's order, and the statement's own
count of inserted rows is checked against the number expected: a row the hub gained meanwhile
under one of their ids (another import, a writer) is ignored by ``OR IGNORE``, the count falls
short and the merge is refused; a trigger writing elsewhere does not add to that count. The hub
so stores exactly the rows validated.

The TEMP table lives in memory (the SQLCipher build's ``SQLITE_TEMP_STORE=2``; a connection set
to keep temporary tables in files is not staged: no answer is written unencrypted to a temporary
file) and is dropped after the merge (`drop`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Sequence
from typing import Any

from respine_desktop.storage._driver import sqlite3

__all__ = ["drop", "insert", "stage"]

_TABLE = "temp.merge_staged_answers"
_SAVEPOINT = "merge_staging"


def _temp_in_memory(conn: sqlite3.Connection) -> bool:
    """Whether this connection's TEMP tables are kept in memory (never in a file): SQLite's
    table (``PRAGMA temp_store``), the build's ``SQLITE_TEMP_STORE`` first (0: files whatever
    the setting, 3: memory whatever the setting), then the setting (2 MEMORY, 1 FILE), then the
    build's default (2: memory, 1: files)."""
    built = {str(r[0]) for r in conn.execute("PRAGMA compile_options")}
    if "TEMP_STORE=0" in built:
        return False
    if "TEMP_STORE=3" in built:
        return True
    setting = int(conn.execute("PRAGMA temp_store").fetchone()[0])
    if setting == 2:  # MEMORY
        return True
    if setting == 1:  # FILE
        return False
    return "TEMP_STORE=2" in built


def stage(conn: sqlite3.Connection, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bool:
    """Bind `rows` (the bundle's answers, `columns` in order) into the staging table: True when
    every row is there (the table then stays for `insert`), False otherwise (nothing staged: a
    TEMP store in files, a hub opened read-only, a value the driver cannot bind, SQLite
    interrupted). An exception that stops it (KeyboardInterrupt) leaves nothing staged either."""
    drop(conn)
    if not _temp_in_memory(conn):
        return False
    names = ", ".join(columns)
    try:
        # (a connection that may not write, even its TEMP tables: a hub opened read-only)
        conn.execute(f"CREATE TABLE {_TABLE} AS SELECT {names} FROM main.answers WHERE 0")
        # one transaction of the TEMP database alone (it takes no lock of the hub's file; 0.1 s
        # less than a transaction per row): ended here, or by `drop` if an interruption comes
        # between its start and the ``try``
        conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            # (plain tuples: the driver binds a tuple's items directly, a named tuple's one by
            # one through the sequence protocol, 0.2 s more for 175,000 answers)
            conn.executemany(
                f"INSERT INTO {_TABLE} ({names}) VALUES ({', '.join('?' for _ in columns)})",
                map(tuple, rows),
            )
        finally:
            conn.execute(f"RELEASE {_SAVEPOINT}")
    except (sqlite3.Error, ValueError, OverflowError):
        drop(conn)  # (a value the driver cannot bind: OverflowError, UnicodeEncodeError ...)
        return False
    except BaseException:
        drop(conn)  # an interruption (KeyboardInterrupt) leaves no half-filled table either
        raise
    return True


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
    """Forget the staged rows (none: nothing done), ending the staging's transaction if an
    interruption left it open (the merge drops the table whatever happens: a connection never
    stays in a transaction of the staging)."""
    with contextlib.suppress(sqlite3.OperationalError):  # (no such savepoint: none open)
        conn.execute(f"RELEASE {_SAVEPOINT}")
    conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
