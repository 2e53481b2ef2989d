"""The storage driver (`storage._driver`): None binds as NULL through its adapter, exactly as
without one, whichever way a row is bound; no other value binds otherwise (every kind of value,
every way of binding, compared with the adapter removed)."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import math
from collections.abc import Callable
from typing import Any

from respine_desktop.storage._driver import NULL_ADAPTER, sqlite3


def test_none_is_adapted_by_the_registered_adapter() -> None:
    # the registry holds it, keyed as the driver looks it up (type, protocol)
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)] is NULL_ADAPTER
    assert NULL_ADAPTER(None) is None


def test_none_binds_as_null_in_every_way_of_binding() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a TEXT, b REAL, c INTEGER, d, e TEXT NOT NULL DEFAULT 'x')")
    conn.execute("INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, ?)", (None, None, None, None))
    conn.executemany("INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, ?)", [[None] * 4, (None,) * 4])
    conn.execute("INSERT INTO t (a, b, c, d) VALUES (:a, :b, :c, :d)", dict.fromkeys("abcd"))
    rows = conn.execute("SELECT typeof(a), typeof(b), typeof(c), typeof(d) FROM t").fetchall()
    assert [tuple(r) for r in rows] == [("null",) * 4] * 4
    # compared as SQL NULL: never equal to anything, IS NULL
    assert conn.execute("SELECT count(*) FROM t WHERE a IS NULL AND NOT (b = 0)").fetchone()[0] == 0
    assert conn.execute("SELECT ? IS NULL, ? = ?", (None, None, None)).fetchone() == (1, None)


def test_other_values_bind_as_before() -> None:
    conn = sqlite3.connect(":memory:")
    values = (0, -1, 2.5, "", "text", b"\x00bytes", True, 2**63 - 1)
    got = conn.execute(f"SELECT {', '.join('?' for _ in values)}", values).fetchone()
    assert got == (0, -1, 2.5, "", "text", b"\x00bytes", 1, 2**63 - 1)


class _Code(enum.IntEnum):
    A = 3


class _Conforms:
    def __conform__(self, protocol: object) -> str:
        return "conformed"


_VALUES: list[Any] = [
    *(None, True, False, 0, -1, 2**63 - 1, 2**63, 1.5, -0.0, math.nan, math.inf, ""),
    *("a\x00b", "\U0001f600", "\udc00", b"\x00", bytearray(b"x"), memoryview(b"mv")),
    *(_Code.A, decimal.Decimal("1.5"), datetime.date(2026, 1, 2), [1], {"a": 1}, _Conforms()),
]


def _outcomes() -> list[Any]:
    """Each value bound every way a storage module binds (positional tuple or list, named
    dict, a named tuple, `executemany` of a generator or of dicts into typed columns): the
    values and types SQLite returns, or the error's type and message."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (a, b REAL, c TEXT, d INTEGER)")
    pair = collections.namedtuple("pair", "a b")
    read = "SELECT a, typeof(a), b, typeof(b), c, typeof(c), d, typeof(d) FROM t"

    def outcome(bind: Callable[[], Any]) -> Any:
        try:
            return [[(type(v).__name__, repr(v)) for v in row] for row in bind()]
        except Exception as exc:  # (the outcome compared, whatever it is)
            return (type(exc).__name__, str(exc))

    def many(value: Any, named: bool) -> Any:
        conn.execute("DELETE FROM t")
        if named:
            conn.executemany("INSERT INTO t VALUES (:v, :v, :v, :v)", [{"v": value}] * 2)
        else:
            conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ((value,) * 4 for _ in "ab"))
        return conn.execute(read).fetchall()

    found = []
    try:
        for v in _VALUES:
            found += [
                outcome(lambda v=v: conn.execute("SELECT ?, typeof(?)", (v, v)).fetchall()),
                outcome(lambda v=v: conn.execute("SELECT ?, typeof(?)", [v, v]).fetchall()),
                outcome(lambda v=v: conn.execute("SELECT :x, typeof(:x)", {"x": v}).fetchall()),
                outcome(lambda v=v: conn.execute("SELECT ?, typeof(?)", pair(v, v)).fetchall()),
                outcome(lambda v=v: many(v, named=False)),
                outcome(lambda v=v: many(v, named=True)),
            ]
    finally:
        conn.close()
    return found


def test_every_value_binds_every_way_as_without_the_adapter() -> None:
    """The adapter changes no outcome of binding, for any kind of value (those a bundle can
    carry, and those the driver refuses: the same error and message) nor any way of binding;
    only `sqlite3.adapt(None)` itself now answers None (no caller: storage, sqlite-utils)."""
    key = (type(None), sqlite3.PrepareProtocol)
    with_adapter = _outcomes()
    del sqlite3.adapters[key]
    try:
        without = _outcomes()
    finally:
        sqlite3.register_adapter(type(None), NULL_ADAPTER)
    assert sqlite3.adapters[key] is NULL_ADAPTER
    assert len(with_adapter) == 6 * len(_VALUES)
    assert with_adapter == without
