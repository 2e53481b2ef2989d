"""audit_trail.csv from SQLite's lines (`storage._audit_lines`, checked by
`audit_trail.write_audit_lines`) is the text of the per-entry Python path (`write_audit_trail`
over `iter_audit_rows`, all the export wrote before), byte for byte: on the golden study and on
entries written into it as a damaged or forged file might hold them (short fields and reasons
that need quoting or the formula guard, reasons of every JSON type, payloads that are not JSON
objects, the empty object, a NUL, a sequence that is not an integer), in one batch and across
batches."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.exports import audit_trail
from respine_desktop.exports.audit_trail import write_audit_lines, write_audit_trail
from respine_desktop.storage.export_reads import AuditLines, iter_audit_rows
from tests.exports.test_exports_csv_golden import golden_db


def both(db_path: Path) -> tuple[str, str]:
    """The file as the Python path writes it, and from SQLite's lines."""
    with storage.open_database(db_path, readonly=True) as db:
        want, got = io.StringIO(), io.StringIO()
        n_want = write_audit_trail(want, iter_audit_rows(db))
        n_got = write_audit_lines(got, AuditLines(db))
    assert n_got == n_want
    return want.getvalue(), got.getvalue()


REASONS: list[Any] = [
    "plain",
    "",
    "=1+1",
    "+1",
    "-2",
    "@x",
    "\ttab",
    "\rcr first",
    "a,b",
    'said "no"',
    "two\nlines",
    "a\u0000b",
    "ünï ✓",
    5,
    -5,
    0,
    1.5,
    0.1 + 0.2,
    True,
    False,
    None,
    {"x": [1, "a,b"]},
    [1, 2],
    10**20,
]
PAYLOADS: list[str] = [
    "{}",
    '{"rows_after": {"t": 1}}',
    "not JSON, a line\nbreak",
    "=not JSON",
    "[1, 2]",
    '"a string"',
    "42",
    '{"a": "x\\u0000y", "rows_after": []}',
    '{"b": "=x", "c": "line\\nbreak"}',
]
SHORT: list[dict[str, Any]] = [
    {"actor": "staff,1"},
    {"device_id": 'dev"ice'},
    {"entity_id": "row\n1"},
    {"action": "x\ry"},
    {"entity": "e\u0000,"},
    {"at": "2026-01-01T00:00:00.000Z,"},
    {"seq": "not a number"},
    {"seq": 2.5},
    {"actor": None, "entity_id": None, "subject_id": "nobody"},
]


def add_entries(db_path: Path, entries: list[dict[str, Any]]) -> None:
    """Entries appended as a forged file might hold them (the hash chain is not the point)."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(audit_log)")]
            base = dict(
                zip(
                    columns,
                    conn.execute(
                        f"SELECT {', '.join(columns)} FROM audit_log "
                        "WHERE subject_id IS NOT NULL LIMIT 1"
                    ).fetchone(),
                    strict=True,
                )
            )
            for k, changes in enumerate(entries):
                row = {**base, "id": f"forged-{k}", "seq": 100_000 + k, **changes}
                conn.execute(
                    f"INSERT INTO audit_log ({', '.join(row)}) "
                    f"VALUES ({', '.join('?' for _ in row)})",
                    list(row.values()),
                )
    finally:
        conn.close()


def edge_entries() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"payload": json.dumps({"reason": r, "k": "v", "rows_after": {"x": [1]}})} for r in REASONS
    ]
    out += [{"payload": p} for p in PAYLOADS]
    out += [{**s, "payload": '{"reason": "why, then"}'} for s in SHORT]
    return out


def test_the_golden_study(tmp_path: Path) -> None:
    want, got = both(golden_db(tmp_path / "golden.db"))
    assert got == want
    assert want.count("\r\n") > 100


def test_every_edge_case_in_one_batch(tmp_path: Path) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    add_entries(db_path, edge_entries())
    want, got = both(db_path)
    assert got == want
    assert ",'=1+1," in want and ',"a,b",' in want and ",'-5," in want  # checks of the test


@pytest.mark.parametrize("k", range(len(REASONS) + len(PAYLOADS) + len(SHORT)))
def test_each_edge_case_alone_across_small_batches(
    tmp_path: Path, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One case per file, with batches of 7 entries, so that the batch check and the entry
    check both meet it."""
    monkeypatch.setattr(audit_trail, "_BATCH", 7)
    db_path = golden_db(tmp_path / "golden.db")
    add_entries(db_path, [edge_entries()[k]])
    want, got = both(db_path)
    assert got == want
