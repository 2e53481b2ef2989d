"""Benchmark: the ODM export of a signed study. Not a test: run `python bench/odm_signatures.py`.

On the 114-subject demo database of `bench/signatures.py` (built once, cached; each run works on a
fresh copy): the ODM export (snapshot and --history), median of R runs, before any signature
(the floor, same run, same database) and after every subject's M12 visit was signed by the demo
investigator (then each export also computes every signature's state, hashing each signed visit
again, and writes the SignatureDefs and Signatures). Target ratio <= 1.25x. Prints the figures,
the ratios, how many Signature elements each file holds and the machine's load average.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop import demo, exports, storage  # noqa: E402

RATIO_TARGET = 1.25


def _signatures_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_signatures", ROOT / "bench" / "signatures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(db: storage.StudyDb, out: Path, history: bool, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        exports.export_odm(db, out, history=history)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each export (median)")
    args = parser.parse_args()
    bench = _signatures_bench()
    source = bench.demo_database()
    with tempfile.TemporaryDirectory(prefix="respine-bench-odm-sig-") as tmp:
        path = Path(tmp) / "study.db"
        shutil.copy(source, path)
        out = Path(tmp) / "odm.xml"
        figures: dict[str, tuple[float, float, int]] = {}
        with storage.open_database(path) as db:
            before = {h: timed(db, out, h, args.repeat) for h in (False, True)}
            user, pin = demo.DEMO_INVESTIGATOR, demo.DEMO_INVESTIGATOR_PIN
            signed = 0
            for s in storage.list_subjects(db):
                if storage.chosen_session(db, s.code, "M12") is not None:
                    storage.sign(db, username=user, pin=pin, subject_code=s.code,
                                 visit_code="M12", meaning="approved")  # fmt: skip
                    signed += 1
            for h in (False, True):
                after = timed(db, out, h, args.repeat)
                count = out.read_text(encoding="utf-8").count("<Signature ")
                figures["--history" if h else "snapshot"] = (before[h], after, count)
    load = os.getloadavg()
    print(f"demo database: {bench.SUBJECTS} subjects, {signed} M12 visits signed")
    for name, (floor, after, count) in figures.items():
        ratio = after / floor
        print(
            f"ODM {name}: {after:.2f} s signed ({count} Signature elements), floor (unsigned, "
            f"same run) {floor:.2f} s; ratio {ratio:.2f}x (target <= {RATIO_TARGET}x: "
            f"{'met' if ratio <= RATIO_TARGET else 'MISSED'})"
        )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
