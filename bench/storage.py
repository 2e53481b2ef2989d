"""Benchmark: the study database. Not a test: run `python bench/storage.py [--subjects N]`.

Prints:

1. durable answer-write latency (p50, p95) through `storage.record_answer` (one committed
   transaction with its audit entry, WAL + synchronous=FULL) against a bare sqlite3
   INSERT + COMMIT of the same answer row with the same pragmas; targets: ratio <= 3x, p95 < 10 ms;
2. the time `python main.py demo --subjects 10000` takes, and the database file size;
3. the time to list one site's worklist at that size (due, overdue, in progress, parked; target
   under 100 ms), and the full subject × visit grid for comparison;
4. the time `verify` and `backup` take at that size (with --verify).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop import storage  # noqa: E402
from respine_desktop.instruments import load_instrument  # noqa: E402
from respine_desktop.storage._answers import COLUMNS, INSERT  # noqa: E402
from respine_desktop.storage._database import BUSY_TIMEOUT_MS, new_id  # noqa: E402
from respine_desktop.storage._schema import _INITIAL  # noqa: E402

WRITES = 400
RATIO_TARGET = 3.0
P95_TARGET_MS = 10.0
WORKLIST_TARGET_MS = 100.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def answer_latency(folder: Path) -> list[float]:
    """Milliseconds per `record_answer` (each one a new value, so each one writes)."""
    db = storage.create_database(folder / "latency.db", admin_pin="860427")
    admin = storage.authenticate(db, "admin", "860427")
    storage.register_subject(db, "RSP-01-001", day0=date.today(), staff=admin)
    session = storage.start_session(db, "RSP-01-001", "M0", staff=admin)
    items = [i for i in load_instrument("odi").items] + [i for i in load_instrument("sf36").items]
    times = []
    for n in range(WRITES):
        item = items[n % len(items)]
        value = item.codes[(n // len(items)) % len(item.codes)]
        start = time.perf_counter()
        storage.record_answer(db, session.id, item.id, value, language="en", position=n % 47)
        times.append((time.perf_counter() - start) * 1000)
    db.close()
    return times


def bare_latency(folder: Path) -> list[float]:
    """Milliseconds per bare INSERT + COMMIT of one answer row, same pragmas, same table."""
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=OFF")  # the bare insert has no session row to point to
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(_INITIAL)
    odi = load_instrument("odi")
    times = []
    for n in range(WRITES):
        row = (
            new_id(),
            "session",
            "odi",
            odi.version,
            odi.checksum,
            f"odi_{n % 10 + 1:02d}",
            float(n % 6),
            "answered",
            "en",
            "0.1.0",
            "device",
            "2026-01-01T00:00:00.000Z",
            None,
            None,
            None,
            None,
        )
        assert len(row) == len(COLUMNS.split(","))
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT, row)
        conn.execute("COMMIT")
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return times


def timed(fn: object, runs: int = 5) -> float:
    """Best of `runs` in milliseconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--verify", action="store_true", help="also time verify and backup")
    parser.add_argument("--keep", type=Path, help="write the demo database here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="respine-bench-") as tmp:
        folder = Path(tmp)
        ours, bare = answer_latency(folder), bare_latency(folder)
        p50, p95 = percentile(ours, 50), percentile(ours, 95)
        b50, b95 = percentile(bare, 50), percentile(bare, 95)
        print(f"record_answer (durable, audited)  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
        print(f"bare INSERT + COMMIT              p50 {b50:6.2f} ms  p95 {b95:6.2f} ms")
        print(
            f"ratio                             p50 {p50 / b50:6.2f} x   p95 {p95 / b95:6.2f} x"
            f"   (target <= {RATIO_TARGET:g} x; p95 target < {P95_TARGET_MS:g} ms: "
            f"{'met' if p95 < P95_TARGET_MS else 'MISSED'})"
        )

        path = args.keep or folder / "demo.db"
        if path.exists():
            raise SystemExit(f"{path} exists")
        start = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "demo",
                "--db",
                str(path),
                "--subjects",
                str(args.subjects),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        size = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob(path.name + "-*")
        )
        print(
            f"demo of {args.subjects} subjects          {seconds:8.1f} s "
            f"({seconds / max(1, args.subjects) * 1000:.1f} ms per subject; "
            f"{cpu:.1f} s of CPU, the figure other load on the machine does not inflate)"
        )
        print(f"database file size                {size / 1e6:8.1f} MB")

        with storage.open_database(path, readonly=True) as db:
            counts = storage.counts(db)
            print(
                f"  {counts.subjects} subjects, {counts.sessions.completed} sessions submitted, "
                f"{counts.answers} answers, {counts.audit_entries} audit entries"
            )
            due = storage.worklist(db)
            ms = timed(lambda: storage.worklist(db))
            print(
                f"worklist of site {db.site_code} ({len(due)} lines due/overdue/open)"
                f" {ms:7.1f} ms  (target < {WORKLIST_TARGET_MS:g} ms: "
                f"{'met' if ms < WORKLIST_TARGET_MS else 'MISSED'})"
            )
            grid = storage.worklist(db, statuses=None)
            ms = timed(lambda: storage.worklist(db, statuses=None), runs=3)
            print(f"full grid ({len(grid)} subject x visit lines)      {ms:7.1f} ms")
        if args.verify:
            start = time.perf_counter()
            result = storage.verify_database(path)
            print(
                f"verify                            {time.perf_counter() - start:8.1f} s"
                f"  ({result.message})"
            )
            with storage.open_database(path, readonly=True) as db:
                start = time.perf_counter()
                storage.backup_database(db, folder / "backup.db")
                print(f"backup (copy + verify)            {time.perf_counter() - start:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
