"""Benchmark: PDF reports. Not a test: run `python bench/reports.py [--big N] [--repeat R]`.

Prints:

1. patient summary time (`reports.write_patient_pdf`, median of R runs, after a warm-up) against
   a floor made in the same run: three bare matplotlib charts (object API, Agg, PNG) plus one
   reportlab page, the runs of both interleaved (a busy machine slows both alike); target
   ratio <= 2x;
2. study summary time for 114 subjects (target under 3 s), unsplit and split into 4 arms with
   40-character names (an arms file made for the run);
3. study summary time for 10,000 subjects (target under 30 s), unsplit and in 4 arms, with
   memory: the peak RSS of a
   fresh process that makes only that report (and of one making the 114-subject report), and the
   peak Python heap (tracemalloc) of the data pass at 114 and at 10,000 subjects (streaming: it
   should not grow with the number of subjects; SQLite's own page cache is not traced).

The demo databases are built once through `python main.py demo` and cached in the system's
temporary directory (``respine-bench-reports-<N>.db``); delete them to rebuild.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop import reports, storage  # noqa: E402

PATIENT_RATIO_TARGET = 2.0
STUDY_114_TARGET_S = 3.0
STUDY_BIG_TARGET_S = 30.0
CACHE = Path(tempfile.gettempdir())


def demo_database(subjects: int) -> Path:
    """The cached demo database of `subjects` subjects (built once, atomically)."""
    path = CACHE / f"respine-bench-reports-{subjects}.db"
    if path.exists():
        # Cached by an older version: upgraded once (a writable open applies the pending
        # migrations), since the benchmarks open it read-only.
        storage.open_database(path, durable=False).close()
        return path
    building = CACHE / f"respine-bench-reports-{subjects}.building.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    print(f"building the {subjects}-subject demo database (once) ...", flush=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "main.py", "demo", "--db", str(building), "--subjects", str(subjects)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.replace(building, path)
    print(f"  built in {time.perf_counter() - start:.0f} s -> {path}", flush=True)
    return path


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call: CPU time is what a busy machine distorts least."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def floor_once(out: Path) -> None:
    """Three bare matplotlib charts and one reportlab page: the least a patient PDF must do."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    for n in range(3):
        fig = Figure(figsize=(3.6, 2.3))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(range(6), [70 - 5 * i + n for i in range(6)], marker="o")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150)
    page = Canvas(str(out), pagesize=A4)
    page.setFont("Helvetica", 10)  # the floor: a base-14 font, nothing embedded
    for line in range(40):
        page.drawString(50, 800 - 18 * line, f"line {line}: VAS 42 ODI 31.0 PCS 38.2 MCS 47.9")
    page.showPage()
    page.save()


def busiest_subject(db: storage.StudyDb) -> str:
    row = db.conn.execute(
        "SELECT j.code FROM subjects j JOIN sessions s ON s.subject_id = j.id "
        "WHERE s.state = 'submitted' GROUP BY j.id ORDER BY count(*) DESC, j.code LIMIT 1"
    ).fetchone()
    return str(row[0])


def data_pass_peak_mb(path: Path) -> float:
    """Peak traced Python heap (MB) of `study_summary` alone (the streaming data pass)."""
    with storage.open_database(path, readonly=True) as db:
        tracemalloc.start()
        reports.study_summary(db)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 1e6


ARM_NAMES = (
    "MSC low dose 1e6 cells/kg intradiscal (A)",
    "MSC high dose 4e6 cells/kg intradiscal B",
    "Sham procedure with saline injection (C)",
    "Standard care",
)


def arms_file(db: storage.StudyDb, out: Path) -> Path:
    """Every subject of `db` in one of four arms (names of up to 40 characters), round robin."""
    codes = [s.code for s in storage.list_subjects(db)]
    names = [n[:40] for n in ARM_NAMES]
    lines = ["subject_id,arm", *(f"{c},{names[i % 4]}" for i, c in enumerate(codes))]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from respine_desktop import reports, storage
arms = reports.read_arms({arms!r}) if {arms!r} else None
with storage.open_database({db!r}, readonly=True) as db:
    start, cpu = time.perf_counter(), time.process_time()
    written = reports.write_study_pdf(db, {out!r}, arms=arms)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "cpu": cpu, "maxrss_kb": rss, "pages": written.pages}}))
"""


def study_in_fresh_process(path: Path, out: Path, arms: Path | None = None) -> dict[str, float]:
    """Time and peak RSS of a fresh process making the study summary (imports not timed)."""
    code = _CHILD.format(root=str(ROOT), db=str(path), out=str(out), arms=str(arms or ""))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000, help="subjects of the big study")
    parser.add_argument("--repeat", type=int, default=9, help="runs per median")
    args = parser.parse_args()

    print(f"machine load (1, 5, 15 min) before: {load()}  ({os.cpu_count()} CPUs)")
    small = demo_database(114)
    big = demo_database(args.big)
    with tempfile.TemporaryDirectory(prefix="respine-bench-reports-") as tmp:
        folder = Path(tmp)
        with storage.open_database(small, readonly=True) as db:
            code = busiest_subject(db)
            # Warm-up: imports (matplotlib, reportlab, fonts) are paid once per process.
            reports.write_patient_pdf(db, code, folder / "warm.pdf")
            floor_once(folder / "floor.pdf")
            patient_runs: list[tuple[float, float]] = []
            floor_runs: list[tuple[float, float]] = []
            for _ in range(args.repeat):
                patient_runs.append(
                    timed(lambda: reports.write_patient_pdf(db, code, folder / "patient.pdf"))
                )
                floor_runs.append(timed(lambda: floor_once(folder / "floor.pdf")))
            study_small = median_seconds(
                lambda: reports.write_study_pdf(db, folder / "study114.pdf"), args.repeat
            )
            four = reports.read_arms(arms_file(db, folder / "arms114.csv"))
            study_small_4 = median_seconds(
                lambda: reports.write_study_pdf(db, folder / "study114-4.pdf", arms=four),
                args.repeat,
            )
        with storage.open_database(big, readonly=True) as db:
            big_arms = arms_file(db, folder / "arms-big.csv")
        patient = statistics.median(w for w, _ in patient_runs)
        floor = statistics.median(w for w, _ in floor_runs)
        patient_cpu = statistics.median(c for _, c in patient_runs)
        floor_cpu = statistics.median(c for _, c in floor_runs)
        ratio = patient / floor
        ratio_cpu = patient_cpu / floor_cpu
        print(
            f"patient summary ({code}, median of {args.repeat})   {patient * 1000:8.0f} ms wall "
            f"{patient_cpu * 1000:6.0f} ms CPU"
        )
        print(
            f"floor: 3 bare charts + 1 reportlab page       {floor * 1000:8.0f} ms wall "
            f"{floor_cpu * 1000:6.0f} ms CPU"
        )
        print(
            f"ratio                                         {ratio:8.2f} x    "
            f"{ratio_cpu:6.2f} x"
            f"  (target <= {PATIENT_RATIO_TARGET:g} x: {verdict(ratio <= PATIENT_RATIO_TARGET)})"
        )
        print(
            f"study summary, 114 subjects (median)          {study_small:8.2f} s  "
            f"(target < {STUDY_114_TARGET_S:g} s: {verdict(study_small < STUDY_114_TARGET_S)})"
        )
        print(
            f"study summary, 114 subjects, 4 arms (median)  {study_small_4:8.2f} s  "
            f"(target < {STUDY_114_TARGET_S:g} s: {verdict(study_small_4 < STUDY_114_TARGET_S)})"
        )
        child = study_in_fresh_process(big, folder / "study-big.pdf")
        seconds = child["seconds"]
        print(
            f"study summary, {args.big} subjects (fresh process) {seconds:6.2f} s "
            f"({child['cpu']:.2f} s CPU) "
            f"(target < {STUDY_BIG_TARGET_S:g} s: {verdict(seconds < STUDY_BIG_TARGET_S)}), "
            f"{int(child['pages'])} pages"
        )
        child4 = study_in_fresh_process(big, folder / "study-big-4.pdf", big_arms)
        seconds4 = child4["seconds"]
        print(
            f"  same in 4 arms                            {seconds4:6.2f} s "
            f"({child4['cpu']:.2f} s CPU) "
            f"(target < {STUDY_BIG_TARGET_S:g} s: {verdict(seconds4 < STUDY_BIG_TARGET_S)}), "
            f"{int(child4['pages'])} pages"
        )
        print(f"  peak RSS of that process (imports included) {child['maxrss_kb'] / 1024:8.1f} MB")
        small_child = study_in_fresh_process(small, folder / "study-small.pdf")
        print(
            f"  same for 114 subjects: {small_child['seconds']:.2f} s, peak RSS "
            f"{small_child['maxrss_kb'] / 1024:.1f} MB"
        )
        small_peak = data_pass_peak_mb(small)
        big_peak = data_pass_peak_mb(big)
        print(f"  peak Python heap of the data pass, 114      {small_peak:8.2f} MB")
        print(f"  peak Python heap of the data pass, {args.big:<6d}   {big_peak:8.2f} MB")
    print(f"machine load (1, 5, 15 min) after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
