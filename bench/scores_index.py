"""Benchmark: a bundle's score rows inserted into a hub that already holds many, with and without
the index of ``scores.superseded_by`` (migration ``0013_scores_superseded_by``).

``scores.superseded_by`` refers to ``scores(id)``. A merge defers its foreign keys to the commit
and inserts a bundle's rows in the kiosk's order, a superseded score before the row that
replaced it: while such a reference is pending, SQLite looks, at each score row inserted, for
the rows that refer to it, by reading the whole table when no index serves ``superseded_by =
?``. The cost grows with the hub.

The rows are those of `bench/merge.py`'s 1,000-subject bundle (its cache, made by it if
missing), merged into a copy of its empty hub; then, in this one run, for each hub size (the
bundle's own rows removed, ``--filler`` other score rows added): the same rows inserted
``executemany`` in one transaction as the merge inserts them (deferred foreign keys), without
the index and with it, and the floor: the same insert with foreign keys off. Prints the times,
their ratio to the floor and the load average; asserts nothing. Run
`python bench/scores_index.py` (`--filler N` for another hub size).
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

INDEX = "scores_superseded_by"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filler", type=int, default=135_000, help="other score rows in the hub")
    parser.add_argument("--work", type=Path, default=Path("/tmp/respine-bench-merge-1000"))
    args = parser.parse_args()
    columns, rows, merged = _score_rows(args.work)
    superseded = sum(1 for r in rows if r[columns.index("superseded_by")] is not None)
    print(
        f"scores of a 1,000-subject bundle: {len(rows)} rows ({superseded} superseded), "
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
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
