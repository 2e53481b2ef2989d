"""Benchmark: scoring a whole study in process, and `main.py score` on a 60,000-row SF-36 CSV.

A 10,000-subject study: 6 visits each (60,000 visits), each with a VAS, an ODI and an SF-36, answers
random with some missing. Prints the figures and their ratio to the targets (in process under
1 s; the CSV command under 5 s). Timings are the best of a few runs (the least disturbed by other
work on the machine). Not a test: run `python bench/scoring.py`.
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from respine_desktop.instruments import load_instrument
from respine_desktop.scoring import SCORING_VERSION, score, score_many, score_methods

SUBJECTS = 10_000
VISITS = 6
IN_PROCESS_TARGET = 1.0  # seconds, whole study
CSV_TARGET = 5.0  # seconds, 60,000-row SF-36 file through `python main.py score`
RUNS = 3
MAIN = Path(__file__).resolve().parents[1] / "main.py"

Answers = dict[str, int | float | None]


def make_study(seed: int = 2024) -> list[tuple[Answers, Answers, Answers]]:
    """(VAS, ODI, SF-36) answers per visit: ~3 % of items unanswered, ODI section 8 ~15 %."""
    rng = random.Random(seed)
    odi_items = load_instrument("odi").items
    sf36_items = load_instrument("sf36").items
    visits = []
    for _ in range(SUBJECTS * VISITS):
        vas: Answers = {"vas_pain": None if rng.random() < 0.02 else rng.randrange(1001) / 10}
        odi: Answers = {
            i.id: None if rng.random() < (0.15 if i.optional else 0.03) else rng.choice(i.codes)
            for i in odi_items
        }
        sf36: Answers = {
            i.id: rng.choice(i.codes) for i in sf36_items if rng.random() >= 0.03
        }  # missing keys this time: both forms of "unanswered" occur
        visits.append((vas, odi, sf36))
    return visits


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float, list[float]]:
    """Best wall time, best CPU time (unaffected by other processes) and every wall time."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus), walls


def score_per_form(visits: list[tuple[Answers, Answers, Answers]]) -> None:
    for vas, odi, sf36 in visits:
        score("vas", vas)
        score("odi", odi)
        score("sf36", sf36)


def score_batches(visits: list[tuple[Answers, Answers, Answers]]) -> None:
    for n, instrument in enumerate(("vas", "odi", "sf36")):
        for _ in score_many(instrument, [visit[n] for visit in visits]):
            pass


def score_every_method(visits: list[tuple[Answers, Answers, Answers]]) -> None:
    for vas, odi, sf36 in visits:
        score_methods("vas", vas)
        score_methods("odi", odi)
        score_methods("sf36", sf36)


def write_sf36_csv(path: Path, visits: list[tuple[Answers, Answers, Answers]]) -> None:
    ids = [i.id for i in load_instrument("sf36").items]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["subject", "visit", *ids])
        for n, (_, _, sf36) in enumerate(visits):
            code = [sf36.get(i) for i in ids]
            subject = f"RSP-{n // VISITS // 1000 + 1:02d}-{n // VISITS % 1000:03d}"
            writer.writerow([subject, f"V{n % VISITS}", *("" if c is None else c for c in code)])


# Runs one child and reports its wall time, peak memory and exit code. A small launcher, because
# a child's peak RSS on Linux includes what it inherited from its parent (this process holds the
# whole study in memory).
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_command(source: Path, out: Path) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one `main.py score` child process."""
    command = [str(MAIN), "score", "--instrument", "sf36", str(source), "--out", str(out)]
    report = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, sys.executable, *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    elapsed, max_rss_kb, exit_code = float(report[0]), int(report[1]), int(report[2])
    if exit_code != 0:
        raise SystemExit(f"main.py score failed with exit code {exit_code}")
    return elapsed, max_rss_kb / 1024  # Linux reports kilobytes


def main() -> int:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"scoring benchmark ({SCORING_VERSION}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load})"
    )
    visits = make_study()
    forms = 3 * len(visits)
    score("sf36", {})  # build the lookup tables once, as the first real score would
    print(f"  study: {SUBJECTS:,} subjects × {VISITS} visits = {len(visits):,} visits")

    best, cpu, times = best_of(RUNS, lambda: score_per_form(visits))
    print(
        f"  in process, score() per form (VAS + ODI + SF-36 standard, {forms:,} forms): "
        f"{best:.3f} s (CPU {cpu:.3f} s) = {forms / best:,.0f} forms/s; "
        f"target < {IN_PROCESS_TARGET:g} s: ratio {best / IN_PROCESS_TARGET:.2f} "
        f"(runs: {', '.join(f'{t:.3f}' for t in times)})"
    )
    best, cpu, _ = best_of(RUNS, lambda: score_batches(visits))
    print(
        f"  in process, score_many() per instrument: {best:.3f} s (CPU {cpu:.3f} s) = "
        f"{forms / best:,.0f} forms/s; ratio {best / IN_PROCESS_TARGET:.2f}"
    )
    best, cpu, _ = best_of(RUNS, lambda: score_every_method(visits))
    print(
        f"  in process, score_methods() per form (SF-36 standard + RAND, as stored): "
        f"{best:.3f} s (CPU {cpu:.3f} s); ratio {best / IN_PROCESS_TARGET:.2f}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "sf36_60000.csv"
        small = Path(tmp) / "sf36_6000.csv"
        write_sf36_csv(big, visits)
        write_sf36_csv(small, visits[: len(visits) // 10])
        runs = [run_command(big, Path(tmp) / "out.csv") for _ in range(2)]
        best = min(t for t, _ in runs)
        _, small_rss = run_command(small, Path(tmp) / "out_small.csv")
        size = big.stat().st_size / 1e6
        print(
            f"  CSV: python main.py score --instrument sf36, {len(visits):,} rows ({size:.1f} MB): "
            f"{best:.2f} s = {len(visits) / best:,.0f} rows/s; target < {CSV_TARGET:g} s: "
            f"ratio {best / CSV_TARGET:.2f} (runs: {', '.join(f'{t:.2f}' for t, _ in runs)})"
        )
        print(
            f"  CSV: peak memory {statistics.mean(r for _, r in runs):.0f} MB for "
            f"{len(visits):,} rows, {small_rss:.0f} MB for {len(visits) // 10:,} rows (streamed)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
