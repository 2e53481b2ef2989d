"""Benchmark: electronic signatures. Not a test: run `python bench/signatures.py [--repeat R]`.

On a 114-subject demo database (built once through `python main.py demo`, cached in the system's
temporary directory as ``respine-bench-signatures-114.db``; each run works on a fresh copy):

1. signing: every subject's M12 visit that has a counted session is signed by the demo
   investigator (`storage.sign`: the username and PIN checked again, the canonical text of the
   visit hashed, the row and its audit entry written durably). Floor in the same run: the PIN
   check alone (`storage.authenticate`, a memory-hard KDF by design), as many times, interleaved;
   target ratio <= 3x (a signature is one PIN check plus the hashing and one durable write);
2. states: `storage.signature_states` of all those signatures (each visit's canonical text
   rebuilt and hashed) against a floor that reads the same rows (the answers and current scores
   of the same sessions, plain SELECTs, no hashing); median of R runs; target ratio <= 5x.

Prints the figures, the ratios and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop import demo, storage  # noqa: E402

SUBJECTS = 114
SIGN_RATIO_TARGET = 3.0
STATES_RATIO_TARGET = 5.0
CACHE = Path(tempfile.gettempdir())


def demo_database() -> Path:
    path = CACHE / f"respine-bench-signatures-{SUBJECTS}.db"
    if path.exists():
        return path
    building = CACHE / f"respine-bench-signatures-{SUBJECTS}.building.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    print(f"building the {SUBJECTS}-subject demo database (once) ...", flush=True)
    subprocess.run(
        [sys.executable, "main.py", "demo", "--db", str(building), "--subjects", str(SUBJECTS)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.replace(building, path)
    return path


def floor_read(db: storage.StudyDb, sessions: list[str]) -> int:
    """The same rows as the states read: each session's answers and current scores."""
    n = 0
    for sid in sessions:
        n += len(db.conn.execute("SELECT * FROM answers WHERE session_id=?", [sid]).fetchall())
        n += len(
            db.conn.execute(
                "SELECT * FROM scores WHERE session_id=? AND superseded_at IS NULL", [sid]
            ).fetchall()
        )
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the states (median)")
    args = parser.parse_args()
    source = demo_database()
    with tempfile.TemporaryDirectory(prefix="respine-bench-sig-") as tmp:
        path = Path(tmp) / "study.db"
        shutil.copy(source, path)
        with storage.open_database(path) as db:
            codes = [s.code for s in storage.list_subjects(db)]
            signable = [c for c in codes if storage.chosen_session(db, c, "M12") is not None]
            sessions = [str(storage.chosen_session(db, c, "M12")) for c in signable]
            user, pin = demo.DEMO_INVESTIGATOR, demo.DEMO_INVESTIGATOR_PIN
            n = len(signable)
            if n == 0:
                print("no M12 visit done in the demo database: nothing to sign")
                return 1
            # interleaved: a floor PIN check, then a signature, subject by subject
            floor_s = sign_s = 0.0
            for code in signable:
                start = time.perf_counter()
                storage.authenticate(db, user, pin)
                floor_s += time.perf_counter() - start
                start = time.perf_counter()
                storage.sign(db, username=user, pin=pin, subject_code=code, visit_code="M12",
                             meaning="reviewed")  # fmt: skip
                sign_s += time.perf_counter() - start
            states_runs, floor_runs = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                rows = floor_read(db, sessions)
                floor_runs.append(time.perf_counter() - start)
                start = time.perf_counter()
                states = storage.signature_states(db)
                states_runs.append(time.perf_counter() - start)
            assert len(states) == n and all(s.state == "valid" for s in states)
    load = os.getloadavg()
    sign_ratio = sign_s / floor_s
    states_s, floor_read_s = statistics.median(states_runs), statistics.median(floor_runs)
    states_ratio = states_s / floor_read_s
    print(f"demo database: {SUBJECTS} subjects, {n} M12 visits signed")
    print(
        f"sign: {sign_s:.2f} s for {n} ({1000 * sign_s / n:.0f} ms each); floor (PIN check alone) "
        f"{1000 * floor_s / n:.0f} ms each; ratio {sign_ratio:.2f}x "
        f"(target <= {SIGN_RATIO_TARGET}x: "
        f"{'met' if sign_ratio <= SIGN_RATIO_TARGET else 'MISSED'})"
    )
    print(
        f"states of {n} signatures: {1000 * states_s:.0f} ms (median of {args.repeat}); floor "
        f"(reading the same {rows} rows) {1000 * floor_read_s:.0f} ms; ratio {states_ratio:.2f}x "
        f"(target <= {STATES_RATIO_TARGET}x: "
        f"{'met' if states_ratio <= STATES_RATIO_TARGET else 'MISSED'})"
    )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
