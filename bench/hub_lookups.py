"""Benchmark: the look-ups a merge makes inside its write lock, into a hub that already holds
much, with and without the indexes that serve them (migrations ``0013_scores_superseded_by``
and ``0014_audit_entity``).

1. A bundle's score rows inserted. ``scores.superseded_by`` refers to ``scores(id)``; a merge
   defers its foreign keys to the commit and inserts a bundle's rows in the kiosk's order, a
   superseded score before the row that replaced it: while such a reference is pending, SQLite
   looks, at each score row inserted, for the rows that refer to it, by reading the whole table
   when no index serves ``superseded_by = ?``. The rows are those of `bench/merge.py`'s
   1,000-subject bundle (its cache, made by it if missing) merged into a copy of its empty hub;
   for each hub size (the bundle's own rows removed, ``--filler`` other score rows added) the
   same rows are inserted ``executemany`` in one transaction as the merge inserts them
   (deferred foreign keys), without the index and with it, and the floor: the same insert with
   foreign keys off.
2. The audit entry of a record looked up by action and entity (a new session choice's or
   withdrawal's entry; whether a disagreement was flagged before, ``bundle.mismatch``), as the
   merge does for each, in a hub whose audit log holds ``--entries`` entries (the merged hub's
   own, copied under new ids): ``--lookups`` look-ups without the index and with it, and the
   floor: the same number of look-ups of an entry by its id (the primary key).

Prints the times, their ratio to the floor and the load average; asserts nothing. Run
`python bench/hub_lookups.py` (`--filler N`, `--entries N` for other hub sizes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from merge import FIXED, _prepare  # noqa: E402

from respine_desktop import clock, exports, storage  # noqa: E402
from respine_desktop.storage._driver import sqlite3  # noqa: E402
from respine_desktop.storage._schema import ENTITY_ACTIONS_SQL  # noqa: E402

INDEX = "scores_superseded_by"
AUDIT_INDEX = "audit_entity"


def _score_rows(work: Path) -> tuple[list[str], list[tuple[Any, ...]], Path]:
    """The score rows of the bench bundle as a merge stores them, and the merged hub."""
    hub0, bundle = _prepare(work, 1000)
    merged = work / "scores-hub.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{merged}{suffix}").unlink(missing_ok=True)
    shutil.copy(hub0, merged)
    clock.set_clock(lambda: FIXED)
    try:
        with storage.open_database(merged) as db:
            exports.import_bundle(db, bundle)
            cursor = db.conn.execute("SELECT * FROM scores ORDER BY rowid")
            columns = [d[0] for d in cursor.description]
            rows = [tuple(r) for r in cursor]
    finally:
        clock.set_clock(None)
    return columns, rows, merged


def _insert(
    source: Path,
    work: Path,
    columns: list[str],
    rows: list[tuple[Any, ...]],
    filler: int,
    *,
    index: bool,
    foreign_keys: bool,
) -> float:
    path = work / "scores-timed.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, path)
    insert = f"INSERT INTO scores ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("DELETE FROM scores")
        conn.execute(f"DROP INDEX IF EXISTS {INDEX}")
        if filler:  # other subjects' score rows (copies under new ids, none superseded)
            at = columns.index("superseded_by"), columns.index("superseded_at")
            more = []
            for k in range(filler):
                row = list(rows[k % len(rows)])
                row[0] = str(uuid.uuid4())
                row[at[0]] = row[at[1]] = None
                more.append(tuple(row))
            conn.execute("BEGIN")
            conn.executemany(insert, more)
            conn.execute("COMMIT")
        if index:
            conn.execute(
                f"CREATE INDEX {INDEX} ON scores(superseded_by) WHERE superseded_by IS NOT NULL"
            )
        conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA defer_foreign_keys=ON")
        started = time.perf_counter()
        conn.executemany(insert, rows)
        seconds = time.perf_counter() - started
        conn.execute("ROLLBACK")
        return seconds
    finally:
        conn.close()


def _audit_lookups(source: Path, work: Path, entries: int, lookups: int) -> dict[str, float]:
    """Seconds for `lookups` look-ups by action and entity without and with the index, and by
    id (the floor), in a hub whose audit log holds `entries` entries."""
    path = work / "lookups-timed.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"DROP INDEX IF EXISTS {AUDIT_INDEX}")
        cursor = conn.execute("SELECT * FROM audit_log ORDER BY rowid")
        columns = [d[0] for d in cursor.description]
        rows = [list(r) for r in cursor]
        at = columns.index("id"), columns.index("device_id"), columns.index("seq")
        insert = (
            f"INSERT INTO audit_log ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        conn.execute("BEGIN")
        copy = 0
        while len(rows) * (copy + 1) < entries:  # copies under new ids, in chains of their own
            copy += 1
            more = []
            for row in rows:
                new = list(row)
                new[at[0]] = str(uuid.uuid4())
                new[at[1]] = f"{row[at[1]]}-copy{copy}"
                more.append(tuple(new))
            conn.executemany(insert, more)
        conn.execute("COMMIT")
        total = int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
        ids = [
            str(r[0])
            for r in conn.execute("SELECT id FROM audit_log ORDER BY random() LIMIT ?", [lookups])
        ]

        def timed(sql: str, *before: str) -> float:
            """`lookups` executions of `sql`, its parameters `before` then an entry's id."""
            conn.execute(sql, [*before, ids[0]])
            started = time.perf_counter()
            for entry in ids:
                conn.execute(sql, [*before, entry]).fetchone()
            return time.perf_counter() - started

        by_action = (
            f"SELECT 1 FROM audit_log WHERE {ENTITY_ACTIONS_SQL} AND action=? AND entity_id=?"
        )
        times = {"floor (by id)": timed("SELECT 1 FROM audit_log WHERE id=?")}
        times["without the index"] = timed(by_action, "bundle.mismatch")
        conn.execute(
            f"CREATE INDEX {AUDIT_INDEX} ON audit_log(action, entity_id) WHERE {ENTITY_ACTIONS_SQL}"
        )
        times["with the index"] = timed(by_action, "bundle.mismatch")
        times["entries"] = total
        return times
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filler", type=int, default=135_000, help="other score rows in the hub")
    parser.add_argument("--entries", type=int, default=232_000, help="audit entries in the hub")
    parser.add_argument("--lookups", type=int, default=20, help="look-ups by action and entity")
    parser.add_argument("--work", type=Path, default=Path("/tmp/respine-bench-merge-1000"))
    args = parser.parse_args()
    columns, rows, merged = _score_rows(args.work)
    superseded = sum(1 for r in rows if r[columns.index("superseded_by")] is not None)
    print(
        f"1. scores of a 1,000-subject bundle: {len(rows)} rows ({superseded} superseded), "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for filler in (0, args.filler):
        times = {
            name: min(
                _insert(merged, args.work, columns, rows, filler, index=index, foreign_keys=fk)
                for _ in range(2)
            )
            for name, index, fk in (
                ("floor (foreign keys off)", False, False),
                ("without the index", False, True),
                ("with the index", True, True),
            )
        }
        floor = times["floor (foreign keys off)"]
        print(f"  into a hub holding {filler} other score rows:")
        for name, seconds in times.items():
            print(f"    {name:26s} {seconds:6.3f} s   {seconds / floor:5.1f}x floor")
    print("2. the merge's look-ups of audit entries by action and entity")
    found = _audit_lookups(merged, args.work, args.entries, args.lookups)
    floor = found.pop("floor (by id)")
    entries = found.pop("entries")
    print(f"  {args.lookups} entries looked up by action and entity, {entries:.0f} in the log:")
    print(f"    {'floor (by id)':26s} {floor * 1000:9.2f} ms  {1:7.1f}x floor")
    for name, seconds in found.items():
        print(f"    {name:26s} {seconds * 1000:9.2f} ms  {seconds / floor:7.1f}x floor")
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
