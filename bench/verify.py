"""Benchmark: `verify` with the full-table replay against `verify` without it, same database.

Not a test: run `python bench/verify.py [--subjects N] [--db PATH]`.

Generates a demo database of N subjects (default 10,000; `durable=False`, as the export bench
does) unless `--db` names one, then times on that one file, in this one run:

1. `verify_database(..., replay=False)`: the checks `verify` made before the replay (integrity,
   chains, answers, choices, scores): the floor;
2. `verify_database(...)`: the same plus the replay of every state table.

Each is run `--runs` times (default 1) alternately and the best kept; prints both, the ratio
(target <= 1.5 x), the same ratio in CPU time of this process (steadier on a shared machine),
the payload bytes the row images add to the audit log and the load average.

With `--kiosks K`, the file timed is a hub: K kiosks of N/K demo subjects each, every one's
signed bundle merged into it, so the replay also covers the kiosks' chains (each row a kiosk
wrote checked against the hub, `_replay_devices`) beside the hub's own.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop import clock, demo, exports, storage  # noqa: E402

TARGET = 1.5


def generate(path: Path, subjects: int) -> float:
    # A fixed "today": the demo plans visits around it (some dates make its plan trip over a
    # window that opens on the day itself).
    clock.set_clock(lambda: datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    started = time.perf_counter()
    with storage.create_database(
        path, admin_pin=demo.DEMO_ADMIN_PIN, admin_username=demo.DEMO_ADMIN, durable=False
    ) as db:
        demo.generate(db, subjects=subjects, first=1, seed=1)
    seconds = time.perf_counter() - started
    clock.set_clock(None)
    return seconds


def generate_hub(path: Path, subjects: int, kiosks: int) -> float:
    """A hub holding `kiosks` kiosks of `subjects // kiosks` demo subjects each (merged)."""
    clock.set_clock(lambda: datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    started = time.perf_counter()
    work = path.parent
    with storage.create_database(
        path, admin_pin=demo.DEMO_ADMIN_PIN, device_label="hub", durable=False
    ) as db:
        exports.write_key_file(db, work / "site.key")
    size = subjects // kiosks
    for k in range(kiosks):
        kiosk, bundle = work / f"kiosk{k}.db", work / f"kiosk{k}.bundle"
        with storage.create_database(
            kiosk,
            admin_pin=demo.DEMO_ADMIN_PIN,
            admin_username=demo.DEMO_ADMIN,
            device_label=f"kiosk {k}",
            durable=False,
        ) as db:
            demo.generate(db, subjects=size, first=k * size + 1, seed=100 + k)
        with storage.open_database(kiosk) as db:
            exports.install_key_file(db, work / "site.key")
            exports.export_bundle(db, bundle)
        with storage.open_database(path) as db:
            exports.import_bundle(db, bundle)
        print(f"  kiosk {k}: {size} subjects merged", flush=True)
    seconds = time.perf_counter() - started
    clock.set_clock(None)
    return seconds


def timed(path: Path, *, replay: bool) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of this process, verify's message)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = storage.verify_database(path, replay=replay)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not result.ok:
        raise SystemExit(f"verify failed: {result.message}")
    return seconds, cpu, result.message


def image_bytes(path: Path) -> tuple[int, int, int]:
    """(entries, payload bytes, bytes of which are row images) of the audit log."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        entries, total = conn.execute(
            "SELECT count(*), sum(length(payload)) FROM audit_log"
        ).fetchone()
        images = conn.execute(
            "SELECT sum(length(payload) - instr(payload, '\"rows_after\"')) FROM audit_log "
            "WHERE instr(payload, '\"rows_after\"') > 0"
        ).fetchone()[0]
    finally:
        conn.close()
    return int(entries), int(total or 0), int(images or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="an existing demo database (kept as it is)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="generate the database here and keep it")
    parser.add_argument("--kiosks", type=int, default=0, help="time a hub of K merged kiosks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="respine-bench-verify-") as tmp:
        path = args.db
        if path is None:
            path = args.keep or Path(tmp) / "demo.db"
            if args.kiosks > 0:
                seconds = generate_hub(path, args.subjects, args.kiosks)
                print(f"hub of {args.kiosks} kiosks, {args.subjects} subjects   {seconds:8.1f} s")
            else:
                seconds = generate(path, args.subjects)
                print(f"demo of {args.subjects} subjects (durable=False)   {seconds:8.1f} s")
        entries, total, images = image_bytes(path)
        print(
            f"audit log: {entries} entries, {total / 1e6:.1f} MB of payload, "
            f"{images / 1e6:.1f} MB of it row images; file {path.stat().st_size / 1e6:.1f} MB"
        )
        floor = best = floor_cpu = best_cpu = float("inf")
        message = ""
        for _ in range(args.runs):
            seconds, cpu, _ = timed(path, replay=False)
            floor, floor_cpu = min(floor, seconds), min(floor_cpu, cpu)
            seconds, cpu, message = timed(path, replay=True)
            best, best_cpu = min(best, seconds), min(best_cpu, cpu)
        ratio = best / floor
        print(f"verify without the replay (floor)   {floor:8.1f} s  ({floor_cpu:.1f} s CPU)")
        print(f"verify with the replay              {best:8.1f} s  ({best_cpu:.1f} s CPU)")
        print(
            f"ratio                               {ratio:8.2f} x  (target <= {TARGET:g} x: "
            f"{'met' if ratio <= TARGET else 'MISSED'})"
        )
        # on a shared machine the wall clock swings with the others' load; CPU time does less
        print(f"ratio of CPU time                   {best_cpu / floor_cpu:8.2f} x")
        print(f"  {message}")
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average (1, 5, 15 min): {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
