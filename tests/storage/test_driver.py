"""The storage driver (`storage._driver`): None binds as NULL through its adapter, exactly as
without one, whichever way a row is bound."""

from __future__ import annotations

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
