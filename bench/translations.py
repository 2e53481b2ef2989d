"""Benchmark: what an installed translation adds to opening the kiosk's database.

`translations.activate_installed` re-checks every installed translation against the masters and
reloads the instruments with its texts beside the shipped ones. Measured here with the
synthetic pseudo-language "xx" (every English text of the masters in brackets, made by the
tests' helper; never a licensed text) covering all three instruments, best of `--repeat`
runs, against a floor of the same run: loading the three shipped instruments afresh (cache
cleared), which a kiosk does anyway. Also the first item page's instrument lookup after
activation. Prints the figures and the ratio to the floor; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def best(runs: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from respine_desktop.instruments import instrument_ids, load_instrument
    from respine_desktop.translations import (
        activate_installed,
        deactivate_all,
        parse_translation,
    )
    from tests.support.translation import pseudo

    text = parse_translation(pseudo()).to_json()

    def floor() -> None:
        load_instrument.cache_clear()
        for i in instrument_ids():
            load_instrument(i)

    def activate() -> None:
        activate_installed({"xx": text})
        for i in instrument_ids():
            load_instrument(i)

    floor_s = best(args.repeat, floor)
    activate_s = best(args.repeat, activate)
    deactivate_all()
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"floor: load the 3 shipped instruments afresh   {floor_s * 1000:8.1f} ms")
    print(f"activate xx (check + 3 instruments with xx)   {activate_s * 1000:8.1f} ms")
    print(f"ratio activate / floor                         {activate_s / floor_s:8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
